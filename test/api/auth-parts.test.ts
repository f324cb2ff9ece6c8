/** The parts of auth on their own: tokens, resource patterns, the login back-off and the options. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { AuthStore } from "../../src/api/auth/auth-store.js";
import { Authenticator } from "../../src/api/auth/authenticator.js";
import { LoginThrottle } from "../../src/api/auth/login-throttle.js";
import { PasswordHasher } from "../../src/api/auth/password.js";
import { globMatches } from "../../src/api/auth/permission.js";
import { checkToken, issueToken, recordVersion, tokenKeyOf } from "../../src/api/auth/token.js";
import { silentLog } from "../../src/core/log.js";
import { ConfigError, loadConfig } from "../../src/runtime/options.js";
import { standaloneNode } from "../support/node-context.js";

const KEY = randomBytes(32);
const T0 = 1_700_000_000_000;

test("a token is the user's until it expires; another key, a changed claim or another algorithm is refused", () => {
  const token = issueToken(KEY, "alice", "v1", T0, 60);
  assert.deepEqual(checkToken(KEY, token, T0 + 59_000), { username: "alice", expiresAt: T0 / 1000 + 60, version: "v1" });
  assert.equal(checkToken(KEY, token, T0 + 60_000), "expired");
  assert.equal(checkToken(randomBytes(32), token, T0), "invalid");
  const [header, , signature] = token.split(".");
  const claims = Buffer.from(JSON.stringify({ sub: "admin", exp: 9e9 })).toString("base64url");
  assert.equal(checkToken(KEY, `${header}.${claims}.${signature}`, T0), "invalid");
  const none = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
  assert.equal(checkToken(KEY, `${none}.${token.split(".")[1]}.`, T0), "invalid");
  assert.equal(checkToken(KEY, "not-a-token", T0), "invalid");
});

test("a user record's version is keyed: another record or another key gives another", () => {
  assert.equal(recordVersion(KEY, "a"), recordVersion(KEY, "a"));
  assert.notEqual(recordVersion(KEY, "a"), recordVersion(KEY, "b"));
  assert.notEqual(recordVersion(KEY, "a"), recordVersion(randomBytes(32), "a"));
});

test("the token key is base64 of at least 32 bytes, as 1.4's", () => {
  assert.equal(tokenKeyOf(KEY.toString("base64"))?.length, 32);
  assert.equal(tokenKeyOf(randomBytes(16).toString("base64")), undefined);
  assert.equal(tokenKeyOf("not base64 at all!"), undefined);
});

test("resource patterns: `*` matches any run of characters, everything else literally", () => {
  assert.ok(globMatches("dev:*:*", "dev:DEFAULT_GROUP:naming/orders"));
  assert.ok(globMatches("dev:*:naming/ord*", "dev:g:naming/orders"));
  assert.ok(!globMatches("dev:*:*", "prod:g:naming/orders"));
  assert.ok(!globMatches("dev:g:naming/a.c", "dev:g:naming/abc"), "no regular expression");
  assert.ok(!globMatches("a*a", "a"));
  assert.ok(globMatches("*", ""));
});

test("the back-off grows past the free failures of a user at an address; other addresses are held only once they fail", () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 5; i++) assert.equal(throttle.admit("bob", "10.0.0.1", T0), 0);
  assert.equal(throttle.admit("bob", "10.0.0.1", T0), 1000);
  assert.equal(throttle.admit("bob", "10.0.0.1", T0), 2000);
  assert.equal(throttle.waitMs("bob", "10.0.0.1", T0), 2000);
  assert.equal(throttle.waitMs("bob", "10.0.0.2", T0), 0, "an address that never failed is not held for another's guesses");
  assert.equal(throttle.waitMs("carol", "10.0.0.1", T0), 0, "the address has more slack");
  assert.equal(throttle.waitMs("bob", "10.0.0.1", T0 + 16 * 60_000), 0, "a quiet key is forgotten");
});

test("many addresses guessing one user hold back every address that failed, and a right password is not counted", () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 21; i++) throttle.admit("bob", `10.0.1.${i}`, T0);
  assert.equal(throttle.waitMs("bob", "10.0.1.0", T0), 1000, "the user's count holds an address that failed");
  assert.equal(throttle.waitMs("bob", "10.0.2.1", T0), 0, "and not one that never did");
  for (let i = 0; i < 30; i++) {
    throttle.admit("carol", "10.0.3.1", T0);
    throttle.succeeded("carol", "10.0.3.1");
  }
  assert.equal(throttle.waitMs("carol", "10.0.3.1", T0), 0, "right passwords leave no count behind");
  assert.equal(throttle.waitMs("dave", "10.0.3.1", T0), 0);
});

test("60 parallel guesses from one address: 6 passwords are checked (the free 5 and the one that starts the wait)", async () => {
  const node = standaloneNode();
  await node.start();
  let checked = 0;
  const hasher = new (class extends PasswordHasher {
    override tryVerify(password: string, stored: string) {
      checked++;
      return super.tryVerify(password, stored);
    }
  })();
  const store = new AuthStore(node, hasher);
  await store.createUser("bob", "bob-pass");
  const authenticator = new Authenticator(store, { key: KEY, ttlSeconds: 60 }, () => T0, silentLog, hasher);
  const guesses = Array.from({ length: 60 }, (_, i) =>
    authenticator.identify({ username: "bob", password: `guess-${i}`, address: "10.0.0.1" }),
  );
  const outcomes = await Promise.allSettled(guesses);
  assert.ok(outcomes.every((o) => o.status === "rejected"));
  assert.equal(checked, 6);
  const same = await Promise.allSettled(
    Array.from({ length: 10 }, () => authenticator.identify({ username: "bob", password: "bob-pass", address: "10.0.0.2" })),
  );
  assert.ok(same.every((o) => o.status === "fulfilled"));
  assert.equal(checked, 7, "the same pair arriving together is checked once");
});

test("a proven password in use needs no password-check slot again, however long every slot stays taken", async () => {
  const node = standaloneNode();
  await node.start();
  let now = T0;
  const hasher = new PasswordHasher();
  const store = new AuthStore(node, hasher);
  await store.createUser("app", "app-pass");
  const authenticator = new Authenticator(store, { key: KEY, ttlSeconds: 60 }, () => now, silentLog, hasher);
  const app = { username: "app", password: "app-pass", address: "10.0.0.1" };
  assert.equal(await authenticator.identify(app), "app");
  hasher.tryVerify = () => undefined;
  for (let i = 0; i < 10; i++) {
    now += 50_000;
    assert.equal(await authenticator.identify(app), "app", `${(now - T0) / 1000} s on, every slot taken`);
  }
  now += 61_000;
  await assert.rejects(
    authenticator.identify(app),
    (e: Error) => e.message === "server is busy checking passwords, please try again later!",
  );
});

test("the back-off's memory is bounded", () => {
  const limits = { freeFailures: 0, baseDelayMs: 1000, maxDelayMs: 1000, forgetAfterMs: 60_000, maxTracked: 3 };
  const throttle = new LoginThrottle({ pair: limits, address: limits, user: limits });
  for (let i = 0; i < 10; i++) throttle.admit(`user-${i}`, `10.0.0.${i}`, T0);
  assert.equal(throttle.waitMs("user-0", "10.0.0.0", T0), 0, "the oldest was dropped");
  assert.equal(throttle.waitMs("user-9", "10.0.0.9", T0), 1000);
});

test("auth needs a token secret, a proper one, and in a cluster the cluster secret", () => {
  const key = KEY.toString("base64");
  const on = { NACOS_AUTH_ENABLE: "true" };
  assert.equal(loadConfig([], {}).auth, undefined, "off by default");
  assert.throws(
    () => loadConfig([], on),
    (e: Error) => e instanceof ConfigError && /--auth-token-secret/.test(e.message),
  );
  assert.throws(() => loadConfig([], { ...on, NACOS_AUTH_TOKEN: "c2hvcnQ=" }), /base64 of at least 32 bytes/);
  const members = ["--members", "127.0.0.1:8848,127.0.0.1:8850", "--ip", "127.0.0.1"];
  assert.throws(() => loadConfig(members, { ...on, NACOS_AUTH_TOKEN: key }), /cluster secret/);
  const config = loadConfig(["--auth-enabled", "--auth-token-secret", key], { NACOS_AUTH_TOKEN_EXPIRE_SECONDS: "5" });
  assert.equal(config.auth?.tokenTtlSeconds, 5);
});
