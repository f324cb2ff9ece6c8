/**
 * Auth on a real process with the real `nacos-naming` npm SDK, which sends username and password with every
 * call. Runs in a loopback-only network namespace (see sdk-standalone.test.ts).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
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

function newClient(credentials: { username?: string; password?: string }, namespace = "public") {
  const client = new nacosNaming.NacosNamingClient({ logger: quiet, serverList: server.address, namespace, ...credentials } as never);
  clients.push(client as unknown as { close(): Promise<void> });
  return client;
}

async function token(who: { username: string; password: string }): Promise<string> {
  const res = await nacos(server.url, "POST", "/nacos/v1/auth/users/login", who);
  assert.equal(res.status, 200, res.text);
  return res.json().accessToken;
}

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

test("without credentials, or with wrong ones, the SDK is refused", async () => {
  for (const credentials of [{}, { username: "nacos", password: "wrong" }]) {
    const client = newClient(credentials);
    await assert.rejects(client.registerInstance("auth-refused", { ip: "192.0.2.20", port: 80 } as never));
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
  const reader = newClient(READER, "dev");
  const hosts = (await reader.getAllInstances("dev-orders", "DEFAULT_GROUP", "", false)) as Array<{ ip: string }>;
  assert.deepEqual(
    hosts.map((h) => h.ip),
    ["192.0.2.30"],
  );
  await assert.rejects(reader.registerInstance("dev-orders", { ip: "192.0.2.31", port: 8080 } as never));
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
