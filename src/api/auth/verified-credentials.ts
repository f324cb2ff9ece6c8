/**
 * Passwords recently proven right, so the `nacos` SDK — which sends username and password with every call,
 * beats included — costs one scrypt when it starts rather than one per request; and the checks under way, so
 * the same pair arriving several times at once (an SDK starting up) is checked once and counted once. An entry
 * is keyed by an HMAC of the name and password under a key that never leaves the process (the password itself
 * is not kept), lasts a minute past its last use (so a running SDK never needs a password-check slot again,
 * however busy a login flood keeps them), and holds only while the user's stored hash is the one it was proven
 * against: a changed password or a deleted user ends it at once.
 */
import { createHmac, randomBytes } from "node:crypto";

const TTL_MS = 60_000;
const MAX_ENTRIES = 4096;

export class VerifiedCredentials {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { readonly hash: string; until: number }>();
  private readonly checks = new Map<string, Promise<boolean>>();

  private id(username: string, password: string): string {
    return createHmac("sha256", this.key).update(username).update("\u0000").update(password).digest("base64");
  }

  /** Whether this pair was proven against `storedHash` and used within the last minute (it is used now). */
  has(username: string, password: string, storedHash: string, now: number): boolean {
    const id = this.id(username, password);
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    if (entry.hash === storedHash && entry.until > now) {
      entry.until = now + TTL_MS;
      return true;
    }
    this.entries.delete(id);
    return false;
  }

  remember(username: string, password: string, storedHash: string, now: number): void {
    const id = this.id(username, password);
    this.entries.delete(id);
    this.entries.set(id, { hash: storedHash, until: now + TTL_MS });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The outcome of a check of this very pair that is under way. */
  underway(username: string, password: string): Promise<boolean> | undefined {
    return this.checks.get(this.id(username, password));
  }

  /** Records `check` as under way until it settles. */
  track(username: string, password: string, check: Promise<boolean>): void {
    const id = this.id(username, password);
    this.checks.set(id, check);
    const done = () => this.checks.delete(id);
    check.then(done, done);
  }
}
