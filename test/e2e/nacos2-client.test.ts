/**
 * A real Nacos 2.x client nobody here wrote — nacos-sdk-rust through its npm binding, unchanged, each in its own
 * process — against real node processes on loopback: it finds the client port at HTTP port + 1000 by itself.
 * Register, batch register, get/select, subscribe and receive pushes, deregister; a 1.x client (HTTP) and the
 * 2.x client see each other's instances; a killed client's instances leave at once; username/password auth;
 * another namespace.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, test } from "node:test";
import { Nacos2Client } from "../support/nacos2-client.js";
import { nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const start = nodeStarter();
let server: NodeProcess;

before(async () => {
  server = await start();
});

const clientOf = (node: NodeProcess, extra: Record<string, string> = {}) =>
  Nacos2Client.start({ serverAddr: node.address, namespace: "", ...extra });

async function httpHosts(node: NodeProcess, serviceName: string, params: Record<string, string> = {}): Promise<string[]> {
  const res = await nacos(node.url, "GET", "/nacos/v1/ns/instance/list", { serviceName, ...params });
  assert.equal(res.status, 200, res.text);
  return res
    .json()
    .hosts.map((h: { ip: string }) => h.ip)
    .sort();
}

test("register with weight and metadata, get and select, select one, deregister", async () => {
  const client = await clientOf(server);
  const other = await clientOf(server);
  await client.registerInstance("rs-orders", "DEFAULT_GROUP", { ip: "192.0.2.10", port: 8080, weight: 2.5, metadata: { zone: "a" } });
  await other.registerInstance("rs-orders", "DEFAULT_GROUP", { ip: "192.0.2.11", port: 8080, healthy: false });
  const all = await client.getAllInstances("rs-orders", "DEFAULT_GROUP");
  const byIp = new Map(all.map((h) => [h.ip, h]));
  assert.deepEqual([...byIp.keys()].sort(), ["192.0.2.10", "192.0.2.11"]);
  assert.equal(byIp.get("192.0.2.10")!.weight, 2.5);
  assert.deepEqual(byIp.get("192.0.2.10")!.metadata, { zone: "a" });
  assert.equal(byIp.get("192.0.2.10")!.instanceId, "192.0.2.10#8080#DEFAULT#DEFAULT_GROUP@@rs-orders");
  const healthy = await client.selectInstances("rs-orders", "DEFAULT_GROUP", true);
  assert.deepEqual(
    healthy.map((h) => h.ip),
    ["192.0.2.10"],
  );
  assert.equal((await client.selectOneHealthyInstance("rs-orders", "DEFAULT_GROUP")).ip, "192.0.2.10");
  assert.deepEqual(await httpHosts(server, "rs-orders"), ["192.0.2.10", "192.0.2.11"], "1.x clients see the 2.x client's instances");
  await other.deregisterInstance("rs-orders", "DEFAULT_GROUP", { ip: "192.0.2.11", port: 8080 });
  assert.deepEqual(await httpHosts(server, "rs-orders"), ["192.0.2.10"]);
  // As in Nacos 2.x a connection publishes one instance per service: a second register replaces the first.
  await client.registerInstance("rs-orders", "DEFAULT_GROUP", { ip: "192.0.2.12", port: 8080 });
  assert.deepEqual(await httpHosts(server, "rs-orders"), ["192.0.2.12"]);
});

test("batch register: the connection's instances of the service are the batch", async () => {
  const client = await clientOf(server);
  const batch = [1, 2, 3].map((n) => ({ ip: `192.0.2.${20 + n}`, port: 9000 + n }));
  await client.batchRegisterInstance("rs-batch", "DEFAULT_GROUP", batch);
  assert.deepEqual((await client.getAllInstances("rs-batch", "DEFAULT_GROUP")).map((h) => h.ip).sort(), [
    "192.0.2.21",
    "192.0.2.22",
    "192.0.2.23",
  ]);
  assert.deepEqual(await httpHosts(server, "rs-batch"), ["192.0.2.21", "192.0.2.22", "192.0.2.23"]);
});

test("subscribe: the current view at once, then every change pushed over the stream, a 1.x registration included", async () => {
  const client = await clientOf(server);
  await nacos(server.url, "POST", "/nacos/v1/ns/instance", { serviceName: "rs-pushed", ip: "192.0.2.30", port: "80" });
  await client.subscribe("rs-pushed", "DEFAULT_GROUP");
  await waitUntil(
    () => client.lastPushed("rs-pushed")?.join() === "192.0.2.30",
    10_000,
    () => JSON.stringify(client.pushes),
  );
  const http14 = await nacos(server.url, "POST", "/nacos/v1/ns/instance", { serviceName: "rs-pushed", ip: "192.0.2.31", port: "80" });
  assert.equal(http14.status, 200);
  await waitUntil(
    () => client.lastPushed("rs-pushed")?.join() === "192.0.2.30,192.0.2.31",
    5_000,
    () => `no push of the 1.x registration: ${JSON.stringify(client.pushes)}`,
  );
  const other = await clientOf(server);
  await other.registerInstance("rs-pushed", "DEFAULT_GROUP", { ip: "192.0.2.32", port: 80 });
  await waitUntil(
    () => client.lastPushed("rs-pushed")?.join() === "192.0.2.30,192.0.2.31,192.0.2.32",
    5_000,
    () => `no push of the other 2.x client's registration: ${JSON.stringify(client.pushes)}`,
  );
});

test("a killed client's instances leave at once: its connection closes with its process", async () => {
  const client = await clientOf(server);
  await client.registerInstance("rs-doomed", "DEFAULT_GROUP", { ip: "192.0.2.40", port: 80 });
  await client.batchRegisterInstance("rs-doomed-batch", "DEFAULT_GROUP", [{ ip: "192.0.2.41", port: 80 }]);
  const survivor = await clientOf(server);
  await survivor.registerInstance("rs-doomed", "DEFAULT_GROUP", { ip: "192.0.2.42", port: 80 });
  assert.deepEqual(await httpHosts(server, "rs-doomed"), ["192.0.2.40", "192.0.2.42"]);
  const killedAt = Date.now();
  client.kill();
  await waitUntil(
    async () => (await httpHosts(server, "rs-doomed")).join() === "192.0.2.42" && (await httpHosts(server, "rs-doomed-batch")).length === 0,
    10_000,
    () => "the killed client's instances are still listed",
  );
  assert.ok(Date.now() - killedAt < 10_000);
});

test("another namespace: a client of namespace dev registers and reads there, and public does not see it", async () => {
  const client = await clientOf(server, { namespace: "dev" });
  await client.registerInstance("rs-ns", "DEFAULT_GROUP", { ip: "192.0.2.50", port: 80 });
  assert.deepEqual(
    (await client.getAllInstances("rs-ns", "DEFAULT_GROUP")).map((h) => h.ip),
    ["192.0.2.50"],
  );
  assert.deepEqual(await httpHosts(server, "rs-ns", { namespaceId: "dev" }), ["192.0.2.50"]);
  assert.deepEqual(await httpHosts(server, "rs-ns"), []);
});

test("auth: the client logs in with username and password and acts with its token; a wrong password gets nothing done", async () => {
  const password = "rs-admin-pass";
  const secured = await start({
    env: { NACOS_AUTH_ENABLE: "true", NACOS_AUTH_TOKEN: randomBytes(32).toString("base64"), NACOS_ADMIN_PASSWORD: password },
  });
  const client = await clientOf(secured, { username: "nacos", password });
  await client.registerInstance("rs-auth", "DEFAULT_GROUP", { ip: "192.0.2.60", port: 80 });
  assert.deepEqual(
    (await client.getAllInstances("rs-auth", "DEFAULT_GROUP")).map((h) => h.ip),
    ["192.0.2.60"],
  );
  const intruder = await clientOf(secured, { username: "nacos", password: "wrong" });
  await assert.rejects(
    intruder.registerInstance("rs-auth", "DEFAULT_GROUP", { ip: "192.0.2.61", port: 80 }),
    /403|user not found|authorization/,
  );
  const token = (await nacos(secured.url, "POST", "/nacos/v1/auth/users/login", { username: "nacos", password })).json().accessToken;
  assert.deepEqual(await httpHosts(secured, "rs-auth", { accessToken: token }), ["192.0.2.60"]);
});
