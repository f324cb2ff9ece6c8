/**
 * Back-off for failed logins. After a few free failures each further one doubles the wait before the next
 * attempt is even checked, up to a ceiling; a quiet key is forgotten. Three counts:
 * - per user *and* address: one source guessing one user's password;
 * - per address: one source spraying many users (more slack: a NAT or proxy holds many honest users);
 * - per user, from anywhere: many sources guessing one user. It holds back only addresses that have failed
 *   themselves, so nobody can lock a user out of an address that sent no wrong password (1.4's per-user
 *   lock was a denial of service on every SDK service user).
 *
 * An attempt is counted when it is admitted, before its password is checked (`admit`), and taken back if the
 * password was right (`succeeded`): parallel guesses all see the ones before them, so no more than the free
 * ones are checked however many arrive at once.
 *
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

export const PAIR_BACKOFF: BackoffLimits = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  forgetAfterMs: 15 * 60_000,
  maxTracked: 10_000,
};
export const ADDRESS_BACKOFF: BackoffLimits = { ...PAIR_BACKOFF, freeFailures: 20 };
/** Many addresses guessing one user: more slack than one address has, as each failing address is held too. */
export const USER_BACKOFF: BackoffLimits = { ...PAIR_BACKOFF, freeFailures: 20 };

/** Names and addresses are what clients send: only this much of one is kept. */
const MAX_KEY_CHARS = 64;
const keyOf = (text: string): string => text.slice(0, MAX_KEY_CHARS);

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

  /** Whether the key has failed lately. */
  hasFailed(key: string, now: number): boolean {
    return this.live(key, now) !== undefined;
  }

  /** Counts a failure; returns the wait it imposes (0 while failures are free). */
  failed(k: string, now: number): number {
    const entry = this.live(k, now) ?? { failures: 0, lastFailure: now, blockedUntil: 0 };
    entry.failures++;
    entry.lastFailure = now;
    entry.blockedUntil = now + this.delayAfter(entry.failures);
    // Re-inserted so the map's order is by last failure, oldest first.
    this.entries.delete(k);
    this.entries.set(k, entry);
    if (this.entries.size > this.limits.maxTracked) this.entries.delete(this.entries.keys().next().value!);
    return entry.blockedUntil - now;
  }

  /** Takes back one counted failure (an admitted attempt whose password was right). */
  refund(k: string): void {
    const entry = this.entries.get(k);
    if (entry === undefined) return;
    entry.failures--;
    if (entry.failures <= 0) this.entries.delete(k);
    else entry.blockedUntil = entry.lastFailure + this.delayAfter(entry.failures);
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  private delayAfter(failures: number): number {
    const over = failures - this.limits.freeFailures;
    return over <= 0 ? 0 : Math.min(this.limits.maxDelayMs, this.limits.baseDelayMs * 2 ** Math.min(over - 1, 30));
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined && now - entry.lastFailure > this.limits.forgetAfterMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

export interface ThrottleLimits {
  readonly pair: BackoffLimits;
  readonly address: BackoffLimits;
  readonly user: BackoffLimits;
}

const pairKey = (username: string, address: string): string => `${keyOf(address)}\u0000${keyOf(username)}`;

export class LoginThrottle {
  private readonly pairs: Backoff;
  private readonly addresses: Backoff;
  private readonly users: Backoff;

  constructor(limits: ThrottleLimits = { pair: PAIR_BACKOFF, address: ADDRESS_BACKOFF, user: USER_BACKOFF }) {
    this.pairs = new Backoff(limits.pair);
    this.addresses = new Backoff(limits.address);
    this.users = new Backoff(limits.user);
  }

  /** How long before an attempt for this user from this address may be checked (0: now). */
  waitMs(username: string, address: string, now: number): number {
    const user = this.addresses.hasFailed(keyOf(address), now) ? this.users.waitMs(keyOf(username), now) : 0;
    return Math.max(this.pairs.waitMs(pairKey(username, address), now), this.addresses.waitMs(keyOf(address), now), user);
  }

  /** Counts an attempt about to be checked as a failure until `succeeded` says otherwise; returns the wait it imposes. */
  admit(username: string, address: string, now: number): number {
    const pair = this.pairs.failed(pairKey(username, address), now);
    return Math.max(pair, this.addresses.failed(keyOf(address), now), this.users.failed(keyOf(username), now));
  }

  /** A right password: the pair starts afresh, and the attempt no longer counts against the address or the user. */
  succeeded(username: string, address: string): void {
    this.pairs.clear(pairKey(username, address));
    this.addresses.refund(keyOf(address));
    this.users.refund(keyOf(username));
  }
}
