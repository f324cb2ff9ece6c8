/**
 * Password hashes: scrypt (node:crypto) with a random salt per user, stored as `scrypt$N$r$p$salt$hash`.
 * A password is never stored or logged, only this.
 *
 * scrypt runs on libuv's thread pool (4 threads), the pool `fdatasync` and every other file operation share:
 * a flood of logins would hold every thread and stall the durable writes behind them (200 logins held a write
 * for 11 s). So `PasswordHasher` runs at most `concurrent` of them at once, keeps at most `queued` waiting,
 * and turns further checks away at once: the other threads stay free for the disk.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** N = 2^14, r = 8: ~16 MiB and some tens of milliseconds per check, off the event loop. */
const COST = { N: 16_384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 128 * cost.N * cost.r * cost.p + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, options, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, COST);
  return ["scrypt", COST.N, COST.r, COST.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** A well-formed hash nobody's password matches: checked for unknown users so timing does not tell them apart. */
export const UNUSABLE_HASH = `scrypt$${COST.N}$${COST.r}$${COST.p}$${Buffer.alloc(SALT_BYTES).toString("base64url")}$`;

/** Whether `password` is the one `stored` was made from (compared in constant time). */
async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  // Only costs this module writes: a stored hash must not make the node spend unbounded memory.
  if (scheme !== "scrypt" || cost.N !== COST.N || cost.r !== COST.r || cost.p !== COST.p) return false;
  const expected = Buffer.from(hash ?? "", "base64url");
  const key = await derive(password, Buffer.from(salt ?? "", "base64url"), cost);
  return expected.length === key.length && timingSafeEqual(expected, key);
}

export interface HashingLimits {
  /** scrypt computations at once (each holds one of libuv's 4 threads and 16 MiB). */
  readonly concurrent: number;
  /** Password checks waiting for one; more are refused (`tryVerify`). */
  readonly queued: number;
}

/** Two of libuv's four threads at most, and a queue a few hundred milliseconds long. */
export const HASHING_LIMITS: HashingLimits = { concurrent: 2, queued: 32 };

export class PasswordHasher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limits: HashingLimits = HASHING_LIMITS) {}

  /** A new hash (creating a user, changing a password: an administrator's or a user's act, never refused). */
  hash(password: string): Promise<string> {
    return this.inTurn(() => hashPassword(password));
  }

  /** Whether `password` matches `stored`; undefined, at once, when the queue is full. */
  tryVerify(password: string, stored: string): Promise<boolean> | undefined {
    if (this.waiting.length >= this.limits.queued) return undefined;
    return this.inTurn(() => verifyPassword(password, stored));
  }

  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrent) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, or is given back.
      const next = this.waiting.shift();
      if (next === undefined) this.running--;
      else next();
    }
  }
}
