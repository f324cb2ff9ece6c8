/**
 * Access tokens as Nacos 1.4 issues them: a JWT signed with HMAC-SHA256, the user name as its subject and an
 * expiry. The key is `nacos.core.auth.default.token.secret.key`'s — base64 of at least 32 bytes — so a token
 * from a 1.4 node with the same key is accepted here and ours there.
 *
 * Ours also carry `ver`, a keyed hash of the user's stored record as it was when the token was issued: a
 * token outlives neither its user nor a password change (the record, salt included, is new each time), and
 * a user re-created under the same name does not take the old user's tokens. 1.4 ignores the claim.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { parseJsonOrUndefined } from "../lenient-json.js";

/** HS256 wants a key of at least 256 bits (jjwt, which 1.4 uses, refuses shorter ones too). */
export const MIN_TOKEN_KEY_BYTES = 32;

/** The signing key from its base64 text; undefined when it is not base64 of at least 32 bytes. */
export function tokenKeyOf(base64: string): Buffer | undefined {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const key = Buffer.from(text, "base64");
  return key.length >= MIN_TOKEN_KEY_BYTES ? key : undefined;
}

const HEADER = Buffer.from(JSON.stringify({ alg: "HS256" })).toString("base64url");

const sign = (key: Buffer, data: string): Buffer => createHmac("sha256", key).update(data).digest();

/** The `ver` of a user's stored record: keyed, so a token tells nothing of the record (or its hash). */
export function recordVersion(key: Buffer, record: string): string {
  return createHmac("sha256", key).update("user record\u0000").update(record).digest("base64url").slice(0, 22);
}

/** A token for `username` as its stored record is now (`version`), valid `ttlSeconds` from `nowMs`. */
export function issueToken(key: Buffer, username: string, version: string, nowMs: number, ttlSeconds: number): string {
  const exp = Math.floor(nowMs / 1000) + ttlSeconds;
  const claims = Buffer.from(JSON.stringify({ sub: username, exp, ver: version })).toString("base64url");
  return `${HEADER}.${claims}.${sign(key, `${HEADER}.${claims}`).toString("base64url")}`;
}

export interface TokenClaims {
  readonly username: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** The user record's `recordVersion`; undefined in a token from Nacos 1.4 (or from before the claim). */
  readonly version: string | undefined;
}

export type TokenCheck = TokenClaims | "expired" | "invalid";

/** The token's claims, when its signature is ours (compared in constant time) and it has not expired. */
export function checkToken(key: Buffer, token: string, nowMs: number): TokenCheck {
  const parts = token.split(".");
  if (parts.length !== 3) return "invalid";
  const [header, claims, signature] = parts as [string, string, string];
  const given = Buffer.from(signature, "base64url");
  const expected = sign(key, `${header}.${claims}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "invalid";
  const body = parseJsonOrUndefined(Buffer.from(claims, "base64url").toString("utf8"));
  const alg = (parseJsonOrUndefined(Buffer.from(header, "base64url").toString("utf8")) as { alg?: unknown } | undefined)?.alg;
  const { sub, exp, ver } = (body ?? {}) as { sub?: unknown; exp?: unknown; ver?: unknown };
  if (alg !== "HS256" || typeof sub !== "string" || sub === "" || typeof exp !== "number") return "invalid";
  if (ver !== undefined && typeof ver !== "string") return "invalid";
  return exp * 1000 <= nowMs ? "expired" : { username: sub, expiresAt: exp, version: ver };
}
