/**
 * `/nacos/v2/ns/client*` against a real standalone node: 2.x's clients made of what the node holds — a 2.x
 * connection it holds (its details, instances bound to it, its stream subscriptions), another node's connection
 * (known by its bound instances), 1.x addresses (`ip:port#true|false`) and 1.x UDP push targets.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createHttpApp } from "../../../src/api/app.js";
import type { NamingNode } from "../../../src/node/naming-node.js";
import { testConnection, testInstance } from "../../support/fixtures.js";
import { nodeContext, storeOf } from "../../support/node-context.js";
import { call, JAVA_CLIENT, testApp } from "../support.js";
import { dataOf, refusalOf, v2 } from "./support.js";

const HELD = "1700000000000_127.0.0.1_50001";
const REMOTE = "1700000000001_127.0.0.7_50002";
const ORDERS = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@orders" };

/** A node with one client of each kind. */
async function withClients() {
  const t = await testApp();
  const { app, node, push, scheduler } = t;
  // 1.x: an ephemeral and a persistent instance at one address, and a UDP push target.
  dataOf(await v2(app, "POST", "/instance", { serviceName: "orders", ip: "192.0.2.10", port: "8080" }));
  dataOf(await v2(app, "POST", "/instance", { serviceName: "orders", ip: "192.0.2.10", port: "8080", ephemeral: "false" }));
  const polled = await call(app, "GET", "/nacos/v1/ns/instance/list", { serviceName: "orders", udpPort: "5001", app: "web" }, JAVA_CLIENT);
  assert.equal(polled.status, 200);
  // 2.x: a connection this node holds, with an instance bound to it and a subscription; another node's
  // connection, known by the instance bound to it.
  node.connections.open(testConnection(HELD, scheduler.now()));
  const bound = (ip: string, connectionId: string, member: string) =>
    testInstance(ip, 9000, ORDERS.groupedName, { connection: { node: member, connectionId } });
  storeOf(node).update("public##DEFAULT_GROUP@@orders", {
    put: [bound("192.0.2.50", HELD, "127.0.0.1:8848"), bound("192.0.2.60", REMOTE, "127.0.0.7:8848")],
  });
  push.byConnection.set(HELD, [{ service: ORDERS, clusters: "" }]);
  return t;
}

test("the client list: connections (held here or known by their instances) and 1.x addresses", async () => {
  const { app } = await withClients();
  assert.deepEqual(dataOf(await v2(app, "GET", "/client/list")), [
    "127.0.0.1:5001#true",
    HELD,
    REMOTE,
    "192.0.2.10:8080#false",
    "192.0.2.10:8080#true",
  ]);
});

test("a client's details, as 2.x gives them for each kind; an unknown one is not found", async () => {
  const { app, scheduler } = await withClients();
  const detail = async (clientId: string) => dataOf(await v2(app, "GET", "/client", { clientId }));
  assert.deepEqual(await detail(HELD), {
    clientId: HELD,
    ephemeral: true,
    lastUpdatedTime: scheduler.now(),
    clientType: "connection",
    connectType: "GRPC",
    appName: "shop",
    version: "Nacos-Rust-Client:v0.4.0",
    clientIp: "127.0.0.1",
    clientPort: "50001",
  });
  assert.deepEqual(await detail(REMOTE), { clientId: REMOTE, ephemeral: true, clientType: "connection" });
  assert.deepEqual(await detail("192.0.2.10:8080#false"), {
    clientId: "192.0.2.10:8080#false",
    ephemeral: false,
    clientType: "ipPort",
    clientIp: "192.0.2.10",
    clientPort: "8080",
  });
  assert.deepEqual(await detail("127.0.0.1:5001#true"), {
    clientId: "127.0.0.1:5001#true",
    ephemeral: true,
    clientType: "ipPort",
    clientIp: "127.0.0.1",
    clientPort: "5001",
  });
  for (const path of ["/client", "/client/publish/list", "/client/subscribe/list"]) {
    assert.equal(
      refusalOf(await v2(app, "GET", path, { clientId: "192.0.2.99:1#true" }), 404, 20004),
      "clientId [ 192.0.2.99:1#true ] not exist",
    );
    refusalOf(await v2(app, "GET", path), 400, 10000);
  }
});

test("what a client registered and subscribed", async () => {
  const { app } = await withClients();
  const published = async (clientId: string) => dataOf(await v2(app, "GET", "/client/publish/list", { clientId }));
  const orders = { namespace: "public", group: "DEFAULT_GROUP", serviceName: "orders" };
  assert.deepEqual(await published(HELD), [{ ...orders, registeredInstance: { ip: "192.0.2.50", port: 9000, cluster: "DEFAULT" } }]);
  assert.deepEqual(await published(REMOTE), [{ ...orders, registeredInstance: { ip: "192.0.2.60", port: 9000, cluster: "DEFAULT" } }]);
  assert.deepEqual(await published("192.0.2.10:8080#true"), [
    { ...orders, registeredInstance: { ip: "192.0.2.10", port: 8080, cluster: "DEFAULT" } },
  ]);
  assert.deepEqual(await published("127.0.0.1:5001#true"), []);

  const subscribed = async (clientId: string) => dataOf(await v2(app, "GET", "/client/subscribe/list", { clientId }));
  assert.deepEqual(await subscribed(HELD), [
    { ...orders, subscriberInfo: { app: "shop", agent: "Nacos-Rust-Client:v0.4.0", addr: "127.0.0.1" } },
  ]);
  assert.deepEqual(await subscribed("127.0.0.1:5001#true"), [
    { ...orders, subscriberInfo: { app: "web", agent: JAVA_CLIENT["user-agent"], addr: "127.0.0.1:5001" } },
  ]);
  assert.deepEqual(await subscribed("192.0.2.10:8080#true"), []);
});

test("who registered and who subscribed a service, narrowed by ip and port when given", async () => {
  const { app } = await withClients();
  const publishers = async (params: Record<string, string>) => dataOf(await v2(app, "GET", "/client/service/publisher/list", params));
  assert.deepEqual(await publishers({ serviceName: "orders" }), [
    { ip: "192.0.2.10", port: 8080, cluster: "DEFAULT", clientId: "192.0.2.10:8080#true" },
    { ip: "192.0.2.10", port: 8080, cluster: "DEFAULT", clientId: "192.0.2.10:8080#false" },
    { ip: "192.0.2.50", port: 9000, cluster: "DEFAULT", clientId: HELD },
    { ip: "192.0.2.60", port: 9000, cluster: "DEFAULT", clientId: REMOTE },
  ]);
  assert.deepEqual(await publishers({ serviceName: "DEFAULT_GROUP@@orders", ip: "192.0.2.50", ephemeral: "true" }), [
    { ip: "192.0.2.50", port: 9000, cluster: "DEFAULT", clientId: HELD },
  ]);
  assert.deepEqual(await publishers({ serviceName: "orders", ip: "192.0.2.10", port: "9000" }), []);
  assert.deepEqual(await publishers({ serviceName: "nowhere" }), []);

  const subscribers = async (params: Record<string, string>) => dataOf(await v2(app, "GET", "/client/service/subscriber/list", params));
  assert.deepEqual(await subscribers({ serviceName: "orders" }), [
    { clientId: "127.0.0.1:5001#true", ip: "127.0.0.1", port: 5001 },
    { clientId: HELD, ip: "127.0.0.1", port: 0 },
  ]);
  assert.deepEqual(await subscribers({ serviceName: "orders", port: "0" }), [{ clientId: HELD, ip: "127.0.0.1", port: 0 }]);
  for (const bad of [
    {},
    { serviceName: "orders", ip: "not an ip" },
    { serviceName: "orders", port: "-1" },
    { serviceName: "orders", ephemeral: "x" },
  ]) {
    const res = await v2(app, "GET", "/client/service/subscriber/list", bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
  }
});

test("metrics count the clients of each kind", async () => {
  const { app } = await withClients();
  const {
    cpu: _cpu,
    load: _load,
    mem: _mem,
    ...counts
  } = dataOf(await v2(app, "GET", "/operator/metrics", { onlyStatus: "false" })) as Record<string, unknown>;
  assert.deepEqual(counts, {
    status: "UP",
    serviceCount: 1,
    instanceCount: 4,
    subscribeCount: 2,
    clientCount: 5,
    connectionBasedClientCount: 2,
    ephemeralIpPortClientCount: 2,
    persistentIpPortClientCount: 1,
    // All but the other node's connection.
    responsibleClientCount: 4,
  });
});

test("finding the clients of many instances yields to the event loop, and one scan serves every caller until something changes", async () => {
  const { node } = await testApp();
  const SERVICES = 100;
  const PER_SERVICE = 500;
  for (let s = 0; s < SERVICES; s++) {
    const name = `DEFAULT_GROUP@@many-${s}`;
    const instances = Array.from({ length: PER_SERVICE }, (_, i) => testInstance(`10.0.${s}.${i % 250}`, 8000 + Math.floor(i / 250), name));
    storeOf(node).update(`public##${name}`, { put: instances });
  }
  // The same node, its registry counting the scans of every service.
  let scans = 0;
  const counted = Object.create(node.registry, {
    services: {
      value: () => {
        scans++;
        return node.registry.services();
      },
    },
  }) as NamingNode["registry"];
  const app = createHttpApp(nodeContext(Object.create(node, { registry: { value: counted } }) as NamingNode));
  await app.ready();
  const metrics = async () => {
    // Event-loop turns taken while the request runs: a scan held in one turn would leave none to others.
    let turns = 0;
    let pending = true;
    const spin = () => {
      if (!pending) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const data = dataOf(await v2(app, "GET", "/operator/metrics", { onlyStatus: "false" })) as { clientCount: number };
    pending = false;
    return { clients: data.clientCount, turns };
  };
  const first = await metrics();
  assert.equal(first.clients, SERVICES * PER_SERVICE);
  assert.ok(first.turns >= (SERVICES * PER_SERVICE) / 1_000, `the scan yielded ${first.turns} times`);
  for (let i = 0; i < 5; i++) assert.equal((await metrics()).clients, SERVICES * PER_SERVICE);
  assert.deepEqual(await dataOf(await v2(app, "GET", "/client", { clientId: "10.0.0.1:8000#true" })), {
    clientId: "10.0.0.1:8000#true",
    ephemeral: true,
    clientType: "ipPort",
    clientIp: "10.0.0.1",
    clientPort: "8000",
  });
  assert.equal(scans, 1, "one scan for all of them");
  dataOf(await v2(app, "POST", "/instance", { serviceName: "one-more", ip: "192.0.2.99", port: "80" }));
  assert.equal((await metrics()).clients, SERVICES * PER_SERVICE + 1, "a change is seen");
  assert.equal(scans, 2);
});
