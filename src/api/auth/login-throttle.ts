/**
 * Back-off for failed logins, per user name and per client address: after a few free failures each further
 * one doubles the wait before the next attempt is even checked, up to a ceiling; a quiet key is forgotten.
 * Memory is bounded: past `maxTracked` keys the least recently failing one is dropped (an attacker spraying
 * keys can at worst reset old entries, never grow the map).
 */

export interface BackoffLimits {
  /** Failures allowed before any wait. */
  readonly freeFailures: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A key with no failure for this long starts afresh. */
  readonly forgetAfterMs: number;
  readonly maxTracked: number;
}

/** A user is guessed at from anywhere; an address (a NAT, a proxy) may hold many honest users: it gets more slack. */
export const USER_BACKOFF: BackoffLimits = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 10_000,
};
export const ADDRESS_BACKOFF: BackoffLimits = { ...USER_BACKOFF, freeFailures: 20 };

/** Keys are what clients send: only this much of one is kept. */
const MAX_KEY_CHARS = 64;

interface Entry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limits: BackoffLimits) {}

  waitMs(key: string, now: number): number {
    const entry = this.live(key, now);
    return entry === undefined ? 0 : Math.max(0, entry.blockedUntil - now);
  }

  /** Counts a failure; returns the wait it imposes (0 while failures are free). */
  failed(key: string, now: number): number {
    const k = key.slice(0, MAX_KEY_CHARS);
    const entry = this.live(k, now) ?? { failures: 0, lastFailure: now, blockedUntil: 0 };
    entry.failures++;
    entry.lastFailure = now;
    const over = entry.failures - this.limits.freeFailures;
    const delay = over <= 0 ? 0 : Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(over - 1, 30));
    entry.blockedUntil = now + delay;
    // Re-inserted so the map's order is by last failure, oldest first.
    this.entries.delete(k);
    this.entries.set(k, entry);
    if (this.entries.size > this.limits.maxTracked) this.entries.delete(this.entries.keys().next().value!);
    return delay;
  }

  clear(key: string): void {
    this.entries.delete(key.slice(0, MAX_KEY_CHARS));
  }

  private live(key: string, now: number): Entry | undefined {
    const k = key.slice(0, MAX_KEY_CHARS);
    const entry = this.entries.get(k);
    if (entry !== undefined && now - entry.lastFailure > this.limits.forgetAfterMs) {
      this.entries.delete(k);
      return undefined;
    }
    return entry;
  }
}

export class LoginThrottle {
  private readonly users: Backoff;
  private readonly addresses: Backoff;

  constructor(users = USER_BACKOFF, addresses = ADDRESS_BACKOFF) {
    this.users = new Backoff(users);
    this.addresses = new Backoff(addresses);
  }

  /** How long before an attempt for this user from this address may be checked (0: now). */
  waitMs(username: string, address: string, now: number): number {
    return Math.max(this.users.waitMs(username, now), this.addresses.waitMs(address, now));
  }

  /** Counts a failed attempt; returns the longer of the two waits it imposes. */
  failed(username: string, address: string, now: number): number {
    return Math.max(this.users.failed(username, now), this.addresses.failed(address, now));
  }

  /** A right password clears the user's count; the address's is left to decay (it may be spraying users). */
  succeeded(username: string): void {
    this.users.clear(username);
  }
}
