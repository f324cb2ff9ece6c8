/**
 * The 2.x client protocol of a real node process (`dist/src/main.js`, its client port at HTTP port + 1000), spoken
 * by a client built from the vendored proto alone (@grpc/proto-loader): what the real clients never exercise —
 * Nacos's error codes for requests out of order, unknown types, malformed and oversized payloads, every value
 * check of the HTTP API, permissions with auth on, the operator's loader endpoints, and the reset on SIGTERM.
 * Every refusal must change nothing.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { encodeBody, RawNacos2Client } from "../support/nacos2-raw-client.js";
import { nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const start = nodeStarter();
const ADMIN = { username: "nacos", password: "interop-admin-pass" };
let open: NodeProcess;
let secured: NodeProcess;
const clients: RawNacos2Client[] = [];

function clientOf(node: NodeProcess): RawNacos2Client {
  const c = new RawNacos2Client(`127.0.0.1:${node.port + 1000}`);
  clients.push(c);
  return c;
}

before(async () => {
  [open, secured] = await Promise.all([
    start(),
    start({
      env: { NACOS_AUTH_ENABLE: "true", NACOS_AUTH_TOKEN: randomBytes(32).toString("base64"), NACOS_ADMIN_PASSWORD: ADMIN.password },
    }),
  ]);
});

after(() => {
  for (const c of clients) c.close();
});

const instance = (ip: string, port = 8080, extra: Record<string, unknown> = {}) => ({
  ip,
  port,
  weight: 1,
  healthy: true,
  enabled: true,
  ephemeral: true,
  ...extra,
});
const register = (serviceName: string, inst: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: "registerInstance",
  namespace: "public",
  serviceName,
  groupName: "DEFAULT_GROUP",
  instance: inst,
  ...extra,
});

async function hostsOf(node: NodeProcess, serviceName: string, namespaceId = "public"): Promise<string[]> {
  const res = await nacos(node.url, "GET", "/nacos/v1/ns/instance/list", { serviceName, namespaceId });
  return res.status === 200
    ? res
        .json()
        .hosts.map((h: { ip: string }) => h.ip)
        .sort()
    : [];
}

test("out of order, unknown, malformed, oversized: Nacos's ErrorResponse with its code, the node unharmed", async () => {
  const c = clientOf(open);
  const check = await c.call("ServerCheckRequest");
  assert.equal(check.type, "ServerCheckResponse");
  assert.match(check.body.connectionId, /^\d+_127\.0\.0\.1_\d+$/);
  const early = await c.call("InstanceRequest", register("interop-early", instance("192.0.2.1")));
  assert.deepEqual([early.type, early.body.errorCode], ["ErrorResponse", 301], "before ConnectionSetupRequest");
  const config = await c.call("ConfigQueryRequest", { dataId: "x", group: "g" });
  assert.deepEqual([config.type, config.body.errorCode], ["ErrorResponse", 302], "no config service");
  await c.ready();
  const malformed = await c.callRaw("InstanceRequest", Buffer.from('{"type":"registerInstance",', "utf8"));
  assert.deepEqual([malformed.type, malformed.body.errorCode], ["ErrorResponse", 502]);
  const big = await c.callRaw(
    "InstanceRequest",
    encodeBody(register("interop-big", instance("192.0.2.2", 80, { metadata: { pad: "x".repeat(1_100_000) } }))),
  );
  assert.deepEqual([big.type, big.body.errorCode], ["ErrorResponse", 400]);
  assert.match(big.body.message, /more than the 1048576 bytes allowed/);
  const huge = c.callRaw("InstanceRequest", Buffer.alloc(2 * 1024 * 1024, 0x20));
  await assert.rejects(huge, (err: { code?: number }) => err.code === 8, "beyond the body and its headers grpc refuses it unread");
  assert.deepEqual(await hostsOf(open, "interop-early"), []);
  assert.deepEqual(await hostsOf(open, "interop-big"), []);
  const fine = await c.call("InstanceRequest", register("interop-fine", instance("192.0.2.3")));
  assert.deepEqual([fine.type, fine.body.resultCode, fine.body.type], ["InstanceResponse", 200, "registerInstance"]);
  assert.deepEqual(await hostsOf(open, "interop-fine"), ["192.0.2.3"]);
});

test("the HTTP API's value checks: each bad value is InstanceResponse 400 with its message and registers nothing", async () => {
  const c = clientOf(open);
  await c.ready();
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["bad ip", register("interop-bad", instance("192.0.2.300")), /IP address is spelled incorrectly/],
    ["port out of range", register("interop-bad", instance("192.0.2.4", 70000)), /Param 'port' must be an integer in \[0, 65535\]/],
    ["weight out of range", register("interop-bad", instance("192.0.2.4", 80, { weight: 10001 })), /weights range from 0.0 to 10000.0/],
    ["bad cluster", register("interop-bad", instance("192.0.2.4", 80, { clusterName: "a b" })), /cluster name can only have/],
    ["bad service name", register("bad name!", instance("192.0.2.4")), /dom name can only have these characters/],
    ["group contradiction", register("secret@@pay", instance("192.0.2.4")), /Param 'groupName' is illegal/],
    ["ip as a list", register("interop-bad", { ...instance("x"), ip: ["192.0.2.4"] }), /Param 'instance.ip' must be a string/],
    ["persistent in InstanceRequest", register("interop-bad", instance("192.0.2.4", 80, { ephemeral: false })), /must be ephemeral/],
    ["unknown type", register("interop-bad", instance("192.0.2.4"), { type: "patchInstance" }), /Unsupported request type patchInstance/],
    ["no instance", register("interop-bad", undefined as never), /Param 'instance' is required/],
    ["long namespace", register("interop-bad", instance("192.0.2.4"), { namespace: "n".repeat(129) }), /longer than 128/],
  ];
  for (const [what, body, message] of cases) {
    const answer = await c.call("InstanceRequest", body);
    assert.equal(answer.type, "InstanceResponse", what);
    assert.deepEqual([answer.body.resultCode, answer.body.errorCode, answer.body.success], [500, 400, false], what);
    assert.match(answer.body.message, message, what);
  }
  const batch = await c.call("BatchInstanceRequest", {
    type: "batchRegisterInstance",
    namespace: "public",
    serviceName: "interop-bad",
    groupName: "DEFAULT_GROUP",
    instances: [instance("192.0.2.5"), instance("192.0.2.6", 80, { ephemeral: false })],
  });
  assert.deepEqual([batch.type, batch.body.errorCode], ["BatchInstanceResponse", 400], "one bad instance refuses the batch");
  const page = await c.call("ServiceListRequest", { namespace: "public", groupName: "DEFAULT_GROUP", pageNo: 1, pageSize: 100_000 });
  assert.deepEqual([page.type, page.body.errorCode], ["ServiceListResponse", 400]);
  assert.deepEqual(await hostsOf(open, "interop-bad"), [], "nothing was registered by any of them");
});

test("queries, persistent instances and service lists answer in Nacos's shapes", async () => {
  const c = clientOf(open);
  await c.ready();
  const persistent = await c.call("PersistentInstanceRequest", register("interop-db", instance("192.0.2.7", 3306, { ephemeral: false })));
  assert.deepEqual([persistent.type, persistent.body.resultCode], ["InstanceResponse", 200]);
  const query = await c.call("ServiceQueryRequest", {
    namespace: "public",
    serviceName: "interop-db",
    groupName: "DEFAULT_GROUP",
    cluster: "",
    healthyOnly: false,
    udpPort: 0,
  });
  assert.equal(query.type, "QueryServiceResponse");
  const info = query.body.serviceInfo;
  assert.deepEqual(
    [info.name, info.groupName, info.clusters, typeof info.checksum, info.reachProtectionThreshold],
    ["interop-db", "DEFAULT_GROUP", "", "string", false],
  );
  assert.deepEqual(
    info.hosts.map((h: { ip: string; ephemeral: boolean; serviceName: string }) => [h.ip, h.ephemeral, h.serviceName]),
    [["192.0.2.7", false, "DEFAULT_GROUP@@interop-db"]],
  );
  const list = await c.call("ServiceListRequest", { namespace: "public", groupName: "DEFAULT_GROUP", pageNo: 1, pageSize: 1000 });
  assert.equal(list.type, "ServiceListResponse");
  assert.ok(list.body.serviceNames.includes("interop-db"), "bare names");
  assert.equal(list.body.count, list.body.serviceNames.length);
  const gone = await c.call("PersistentInstanceRequest", {
    ...register("interop-db", instance("192.0.2.7", 3306, { ephemeral: false })),
    type: "deregisterInstance",
  });
  assert.deepEqual([gone.type, gone.body.type], ["InstanceResponse", "deregisterInstance"]);
  assert.deepEqual(await hostsOf(open, "interop-db"), []);
});

test("with auth on: no token, a bad token or a token without the right is 403 in the handler's type; the right one passes", async () => {
  const login = async (who: { username: string; password: string }) =>
    (await nacos(secured.url, "POST", "/nacos/v1/auth/users/login", who)).json().accessToken as string;
  const admin = await login(ADMIN);
  const as = { accessToken: admin };
  assert.equal(
    (await nacos(secured.url, "POST", "/nacos/v1/auth/users", { ...as, username: "reader", password: "reader-pass" })).status,
    200,
  );
  assert.equal((await nacos(secured.url, "POST", "/nacos/v1/auth/roles", { ...as, role: "readers", username: "reader" })).status, 200);
  assert.equal(
    (await nacos(secured.url, "POST", "/nacos/v1/auth/permissions", { ...as, role: "readers", resource: "public:*:*", action: "r" }))
      .status,
    200,
  );
  const reader = await login({ username: "reader", password: "reader-pass" });
  const c = clientOf(secured);
  await c.ready();
  const body = register("interop-auth", instance("192.0.2.8"));
  const none = await c.call("InstanceRequest", body);
  assert.deepEqual([none.type, none.body.errorCode, none.body.message], ["InstanceResponse", 403, "user not found!"]);
  const forged = await c.call("InstanceRequest", body, { accessToken: "eyJhbGciOiJIUzI1NiJ9.e30.x" });
  assert.deepEqual([forged.body.errorCode, forged.body.message], [403, "token invalid!"]);
  const readOnly = await c.call("InstanceRequest", body, { accessToken: reader });
  assert.deepEqual([readOnly.body.errorCode, readOnly.body.message], [403, "authorization failed!"]);
  const query = { namespace: "public", serviceName: "interop-auth", groupName: "DEFAULT_GROUP", cluster: "", healthyOnly: false };
  const read = await c.call("ServiceQueryRequest", query, { accessToken: reader });
  assert.deepEqual([read.type, read.body.resultCode], ["QueryServiceResponse", 200], "r is enough to read");
  const hostsBefore = (
    await nacos(secured.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "interop-auth", accessToken: admin })
  ).json().hosts;
  assert.deepEqual(hostsBefore, [], "no refused write changed anything");
  const written = await c.call("InstanceRequest", body, { accessToken: admin });
  assert.deepEqual([written.type, written.body.resultCode], ["InstanceResponse", 200]);
});

test("loader endpoints list this node's connections and reset one; /metrics counts connections and requests by result", async () => {
  const c = clientOf(open);
  await c.ready("", { AppName: "interop-app" });
  const { connectionId } = (await c.call("ServerCheckRequest")).body;
  const current = (await nacos(open.url, "GET", "/nacos/v2/core/loader/current")).json();
  assert.equal(current[connectionId].metaInfo.appName, "interop-app");
  const cluster = (await nacos(open.url, "GET", "/nacos/v2/core/loader/cluster")).json();
  assert.equal(cluster.memberCount, 1);
  assert.equal(cluster.detail[0].address, open.address);
  assert.ok(cluster.total >= 1);
  const metrics = (await nacos(open.url, "GET", "/nacos/actuator/prometheus")).text;
  assert.match(metrics, /nacos_client_connections \d+/);
  assert.match(metrics, /nacos_client_requests_total\{type="InstanceRequest",result="400"\} \d+/);
  assert.match(metrics, /nacos_client_requests_total\{type="unknown",result="302"\} \d+/);
  const bad = await nacos(open.url, "GET", "/nacos/v2/core/loader/reloadClient", { connectionId, redirectAddress: "not an address" });
  assert.equal(bad.status, 400);
  const closed = c.streamClosed();
  const reload = await nacos(open.url, "GET", "/nacos/v2/core/loader/reloadClient", { connectionId, redirectAddress: "127.0.0.1:8850" });
  assert.equal(reload.text, "success");
  await closed;
  const reset = c.received.find((m) => m.type === "ConnectResetRequest");
  assert.deepEqual([reset?.body.serverIp, reset?.body.serverPort], ["127.0.0.1", "8850"]);
  await waitUntil(
    async () => (await nacos(open.url, "GET", "/nacos/v2/core/loader/current")).json()[connectionId] === undefined,
    10_000,
    () => "the reset connection is gone",
  );
  const denied = await nacos(secured.url, "GET", "/nacos/v2/core/loader/current");
  assert.equal(denied.status, 403, "operators only, with auth on");
});

test("a node stopped with SIGTERM sends every client ConnectResetRequest before it closes, and exits 0", async () => {
  const node = await start();
  const c = clientOf(node);
  await c.ready();
  const closed = c.streamClosed();
  assert.equal(await node.stop("SIGTERM"), 0);
  await closed;
  assert.ok(
    c.received.some((m) => m.type === "ConnectResetRequest"),
    `received: ${JSON.stringify(c.received.map((m) => m.type))}`,
  );
});
