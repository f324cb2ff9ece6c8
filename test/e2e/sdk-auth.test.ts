/**
 * Auth on a real process with the real `nacos-naming` npm SDK, which sends username and password with every
 * call. Runs in a loopback-only network namespace (see sdk-standalone.test.ts).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { request } from "node:http";
import { after, before, test } from "node:test";
import nacosNaming from "nacos-naming";
import { freshDataDir, nacos, startNode, waitUntil, type NodeProcess } from "../support/node-process.js";

const quiet = { ...console, info() {}, debug() {}, log() {}, warn() {}, error() {} } as typeof console;
const ADMIN = { username: "nacos", password: "e2e-admin-pass" };
const READER = { username: "reader", password: "reader-pass" };
const TOKEN_TTL_SECONDS = 2;
const authEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  NACOS_AUTH_ENABLE: "true",
  NACOS_AUTH_TOKEN: randomBytes(32).toString("base64"),
  ...extra,
});

const env = authEnv({ NACOS_ADMIN_PASSWORD: ADMIN.password, NACOS_AUTH_TOKEN_EXPIRE_SECONDS: String(TOKEN_TTL_SECONDS) });
const dataDir = freshDataDir();
let server: NodeProcess;
const clients: Array<{ close(): Promise<void> }> = [];

/**
 * A client of the SDK; what it logs as a warning (each refused call, with the server's status and message,
 * before it gives up with "failed to req API") goes to `warnings` when given.
 */
function newClient(credentials: { username?: string; password?: string }, namespace = "public", warnings?: string[]) {
  const logger =
    warnings === undefined ? quiet : { ...quiet, warn: (e: unknown) => warnings.push(e instanceof Error ? e.message : String(e)) };
  const client = new nacosNaming.NacosNamingClient({ logger, serverList: server.address, namespace, ...credentials } as never);
  clients.push(client as unknown as { close(): Promise<void> });
  return client;
}

async function token(who: { username: string; password: string }): Promise<string> {
  const res = await nacos(server.url, "POST", "/nacos/v1/auth/users/login", who);
  assert.equal(res.status, 200, res.text);
  return res.json().accessToken;
}

/** A call whose socket is bound to `localAddress` (127.x, all loopback in the test's network namespace). */
function callFrom(
  localAddress: string,
  method: string,
  path: string,
  params: Record<string, string>,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${path}?${new URLSearchParams(params)}`, server.url);
    const req = request(url, { method, localAddress, agent: false }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} from ${localAddress}: no answer in 30 s`)));
    req.end();
  });
}

/** A user with `rw` on every public service, made with the admin's token (so its password was never checked yet). */
async function appUser(username: string): Promise<{ username: string; password: string }> {
  const user = { username, password: `${username}-pass` };
  const as = { accessToken: await token(ADMIN) };
  for (const [path, params] of [
    ["/nacos/v1/auth/users", user],
    ["/nacos/v1/auth/roles", { role: `${username}-role`, username }],
    ["/nacos/v1/auth/permissions", { role: `${username}-role`, resource: "public:*:*", action: "rw" }],
  ] as const) {
    const res = await nacos(server.url, "POST", path, { ...as, ...params });
    assert.equal(res.status, 200, `${path}: ${res.text}`);
  }
  return user;
}

const ipsOf = async (serviceName: string, namespaceId = "public"): Promise<string[]> => {
  const res = await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", { serviceName, namespaceId, accessToken: await token(ADMIN) });
  assert.equal(res.status, 200, res.text);
  return res
    .json()
    .hosts.map((h: { ip: string }) => h.ip)
    .sort();
};

before(async () => {
  server = await startNode({ env, dataDir });
});

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  assert.equal(await server.stop(), 0, server.output().slice(-2000));
});

test("the SDK with the admin's username and password registers, lists, subscribes and deregisters", async () => {
  const client = newClient(ADMIN);
  await client.ready();
  await client.registerInstance("auth-orders", { ip: "192.0.2.10", port: 8080 } as never);
  const seen: string[][] = [];
  client.subscribe("auth-orders", (hosts: Array<{ ip: string }>) => seen.push(hosts.map((h) => h.ip)));
  await waitUntil(
    () => seen.some((ips) => ips.includes("192.0.2.10")),
    8_000,
    () => `subscription, seen ${JSON.stringify(seen)}`,
  );
  const all = (await client.getAllInstances("auth-orders", "DEFAULT_GROUP", "", false)) as Array<{ ip: string }>;
  assert.deepEqual(
    all.map((h) => h.ip),
    ["192.0.2.10"],
  );
  assert.equal(await client.getServerStatus(), "UP");
  await client.deregisterInstance("auth-orders", { ip: "192.0.2.10", port: 8080 } as never);
  const left = await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "auth-orders", ...ADMIN });
  assert.deepEqual(left.json().hosts, []);
});

/** What the SDK throws when every server refused a call, and the server's own refusal it logged on the way. */
const refusedWith = (warnings: readonly string[], status: number, message: string) => (err: Error) =>
  /^failed to req API: \/nacos\/v1\/ns\/instance after all servers/.test(err.message) &&
  warnings.some((w) => w.endsWith(`code: ${status} msg: ${message}`));

test("without credentials, or with wrong ones, the SDK is refused", async () => {
  for (const [credentials, message] of [
    [{}, "user not found!"],
    [{ username: "nacos", password: "wrong" }, "unknown user!"],
  ] as const) {
    const warnings: string[] = [];
    const client = newClient(credentials, "public", warnings);
    await assert.rejects(
      client.registerInstance("auth-refused", { ip: "192.0.2.20", port: 80 } as never),
      refusedWith(warnings, 403, message),
    );
    assert.deepEqual(await ipsOf("auth-refused"), [], "nothing was registered");
  }
  const res = await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "auth-refused" });
  assert.deepEqual([res.status, res.text], [403, "user not found!"]);
});

test("a read-only user lists in its namespace but cannot register there", async () => {
  const as = { accessToken: await token(ADMIN) };
  for (const [path, params] of [
    ["/nacos/v1/auth/users", READER],
    ["/nacos/v1/auth/roles", { role: "dev-readers", username: READER.username }],
    ["/nacos/v1/auth/permissions", { role: "dev-readers", resource: "dev:*:*", action: "r" }],
  ] as const) {
    const res = await nacos(server.url, "POST", path, { ...as, ...params });
    assert.equal(res.status, 200, `${path}: ${res.text}`);
  }
  const admin = newClient(ADMIN, "dev");
  await admin.registerInstance("dev-orders", { ip: "192.0.2.30", port: 8080 } as never);
  const warnings: string[] = [];
  const reader = newClient(READER, "dev", warnings);
  const hosts = (await reader.getAllInstances("dev-orders", "DEFAULT_GROUP", "", false)) as Array<{ ip: string }>;
  assert.deepEqual(
    hosts.map((h) => h.ip),
    ["192.0.2.30"],
  );
  await assert.rejects(
    reader.registerInstance("dev-orders", { ip: "192.0.2.31", port: 8080 } as never),
    refusedWith(warnings, 403, "authorization failed!"),
  );
  assert.deepEqual(await ipsOf("dev-orders", "dev"), ["192.0.2.30"], "the refused register changed nothing");
});

test("failed logins flooding from 127.0.0.2 never refuse the SDK's right password from 127.0.0.1", { timeout: 60_000 }, async () => {
  const user = await appUser("flooded-app");
  const flood = (username: string, i: number) =>
    callFrom("127.0.0.2", "POST", "/nacos/v1/auth/login", { username, password: `guess-${i}` });
  for (let i = 0; i < 30; i++) await flood(user.username, i);
  // ... and it goes on, about 10 a second, while the application registers.
  let flooding = true;
  const background = (async () => {
    for (let i = 30; flooding && i < 400; i++) {
      await Promise.all([flood(user.username, i), flood(ADMIN.username, i)]);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    for (const ip of ["192.0.2.41", "192.0.2.42", "192.0.2.43"]) {
      const client = newClient(user);
      await client.ready();
      await client.registerInstance("flooded-orders", { ip, port: 8080 } as never);
    }
    assert.deepEqual(await ipsOf("flooded-orders"), ["192.0.2.41", "192.0.2.42", "192.0.2.43"]);
    const admin = await callFrom("127.0.0.1", "POST", "/nacos/v1/auth/login", ADMIN);
    assert.equal(admin.status, 200, admin.text);
    const guesser = await callFrom("127.0.0.2", "POST", "/nacos/v1/auth/login", user);
    assert.deepEqual([guesser.status, guesser.text], [403, "unknown user!"], "the guessing address itself is held");
  } finally {
    flooding = false;
    await background;
  }
});

test("a durable write stays fast while 200 logins from 50 addresses flood the node", { timeout: 120_000 }, async (t) => {
  // The admin's password is proven here, so the write below costs no password check of its own (and no token expires).
  await token(ADMIN);
  const logins = Array.from({ length: 200 }, (_, i) =>
    callFrom(`127.0.0.${10 + (i % 50)}`, "POST", "/nacos/v1/auth/login", { username: `nobody-${i}`, password: "guess" }).catch(
      (err: Error) => ({ status: 0, text: err.message }),
    ),
  );
  // Let the flood reach the node and its password checks begin.
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  const write = await nacos(server.url, "POST", "/nacos/v1/ns/instance", {
    serviceName: "durable-under-flood",
    ip: "192.0.2.50",
    port: "8080",
    ephemeral: "false",
    ...ADMIN,
  });
  const writeMs = performance.now() - started;
  t.diagnostic(`the persistent register took ${Math.round(writeMs)} ms`);
  assert.equal(write.status, 200, write.text);
  assert.ok(writeMs < 3000, `the persistent register took ${Math.round(writeMs)} ms behind the logins`);
  const answers = await Promise.all(logins);
  assert.ok(
    answers.every((a) => a.status === 403 || a.status === 503),
    JSON.stringify(answers.filter((a) => a.status !== 403 && a.status !== 503)),
  );
  assert.deepEqual(await ipsOf("durable-under-flood"), ["192.0.2.50"]);
});

test("tokens expire after NACOS_AUTH_TOKEN_EXPIRE_SECONDS", async () => {
  const accessToken = await token(ADMIN);
  const list = { serviceName: "auth-orders", accessToken };
  assert.equal((await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", list)).status, 200);
  await new Promise((r) => setTimeout(r, TOKEN_TTL_SECONDS * 1000 + 1100));
  const late = await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", list);
  assert.deepEqual([late.status, late.text], [403, "token expired!"]);
});

test("users survive a restart from the data directory; the admin is not created again", async () => {
  const res = await nacos(server.url, "POST", "/nacos/v1/auth/users", {
    accessToken: await token(ADMIN),
    username: "keeper",
    password: "kept-pass",
  });
  assert.equal(res.status, 200, res.text);
  assert.equal(await server.stop(), 0);
  server = await startNode({ env, dataDir });
  await token({ username: "keeper", password: "kept-pass" });
  await token(ADMIN);
  assert.doesNotMatch(server.output(), /created the admin user/);
});

test("the node refuses to start with auth on and no secret, or a weak one", async () => {
  for (const [extra, message] of [
    [{ NACOS_AUTH_TOKEN: "" }, /--auth-token-secret/],
    [{ NACOS_AUTH_TOKEN: Buffer.from("short").toString("base64") }, /at least 32 bytes/],
  ] as const) {
    const node = await startNode({ env: authEnv(extra), waitFor: "nothing" });
    const code = node.child.exitCode ?? (await once(node.child, "exit"))[0];
    assert.equal(code, 2);
    assert.match(node.output(), message);
  }
});

test("without --admin-password a random one-time password is logged once, and it works", async () => {
  const node = await startNode({ env: authEnv() });
  try {
    const printed = (): string | undefined => /one-time password (\S+)/.exec(node.output())?.[1];
    await waitUntil(
      () => printed() !== undefined,
      10_000,
      () => node.output(),
    );
    const password = printed()!;
    const res = await nacos(node.url, "POST", "/nacos/v1/auth/login", { username: "nacos", password });
    assert.equal(res.status, 200, res.text);
    assert.equal(node.output().split(password).length - 1, 1, "printed exactly once");
  } finally {
    await node.stop();
  }
});
