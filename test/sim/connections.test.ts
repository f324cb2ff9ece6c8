/**
 * 2.x clients' connection-bound instances in a cluster on the virtual clock: a connection's close removes its
 * instances everywhere, a node killed with clients on it loses nothing of a client that reconnects elsewhere, a
 * dead client's instances go after the grace, a partition that made one side remove the other's instances heals
 * to the holder's word, and a node restarted on its address removes what its previous life's connections left.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serviceKey, type ServiceRef } from "../../src/core/naming.js";
import type { ClientWrite } from "../../src/core/ops.js";
import type { NamingNode } from "../../src/node/naming-node.js";
import { SimCluster } from "../../src/sim/sim-cluster.js";
import { testSpec } from "../support/fixtures.js";

const GRACE = 30_000;
const svc: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@orders" };
const key = serviceKey(svc);

function cluster(size = 3, seed = 11): SimCluster {
  const c = new SimCluster({ size, seed });
  c.startAll();
  return c;
}

let ids = 0;

/** A 2.x client connecting to `node` and registering `ip` (port 8080) over the connection: its connection id. */
async function connectAndRegister(c: SimCluster, node: NamingNode, ip: string): Promise<string> {
  const id = `${1_700_000_000_000 + ++ids}_${ip}_50000`;
  node.connections.open({
    id,
    clientIp: ip,
    clientPort: 50000,
    clientVersion: "Nacos-Rust-Client:v0.4.0",
    namespace: "",
    appName: "",
    labels: {},
    connectedAt: c.scheduler.now(),
  });
  const op: ClientWrite = {
    type: "register",
    service: svc,
    instance: testSpec(ip),
    connection: { node: node.selfAddress, connectionId: id },
  };
  const outcome = await c.write(node.config.self, op);
  assert.ok(outcome.ok, `registered via ${node.config.self}`);
  return id;
}

/** The nodes (of those running) that hold a live instance at `ip`. */
const holders = (c: SimCluster, ip: string): string[] =>
  c
    .running()
    .filter((n) => [...(n.registry.liveService(key)?.instances() ?? [])].some((i) => i.ip === ip))
    .map((n) => n.config.self);

test("a connection's close removes its instances on every node within a sync delay", async () => {
  const c = cluster();
  await c.advance(12_000);
  const [a] = c.running();
  const id = await connectAndRegister(c, a!, "192.0.2.1");
  await c.advance(1_500);
  assert.deepEqual(holders(c, "192.0.2.1"), c.addresses, "replicated like any change");
  assert.deepEqual(a!.cluster().selfInfo.connectionCount, 1);
  await c.advance(3_000);
  const seen = c.running().map((n) => n.cluster().members.find((m) => m.address === a!.config.self)?.info?.connectionCount);
  assert.deepEqual(seen.slice(1), [1, 1], "every member learns the holder's connection count from its reports");
  a!.connections.close(id, "client gone");
  await c.advance(1_500);
  assert.deepEqual(holders(c, "192.0.2.1"), []);
  c.close();
});

test("a node killed under its clients: one that reconnects elsewhere stays everywhere; a dead one goes after the grace", async () => {
  const c = cluster(3, 12);
  await c.advance(12_000);
  const [a, b] = c.running() as [NamingNode, NamingNode];
  await connectAndRegister(c, a, "192.0.2.1"); // will reconnect to b
  await connectAndRegister(c, a, "192.0.2.2"); // dies with the node
  await c.advance(1_500);
  c.crash(a.config.self);
  await c.advance(3_000); // the SDK redoes within ~3 s
  await connectAndRegister(c, b, "192.0.2.1");
  const survivors = c.running().map((n) => n.config.self);
  for (let t = 0; t < GRACE + 15_000; t += 1_000) {
    await c.advance(1_000);
    assert.deepEqual(holders(c, "192.0.2.1"), survivors, `the reconnected client's instance never leaves (t=${t})`);
  }
  assert.deepEqual(holders(c, "192.0.2.2"), [], "gone once its node was DOWN past the grace");
  c.close();
});

test("a node restarted on its address removes its previous life's instances after the grace; redone ones stay", async () => {
  const c = cluster(3, 13);
  await c.advance(12_000);
  const a = c.running()[0]!;
  const self = a.config.self;
  await connectAndRegister(c, a, "192.0.2.1"); // reconnects to the restarted node
  await connectAndRegister(c, a, "192.0.2.2"); // never comes back
  await c.advance(1_500);
  c.crash(self);
  await c.advance(2_000); // back before its peers see it DOWN for long
  const again = c.start(self);
  await c.advance(3_000);
  await connectAndRegister(c, again, "192.0.2.1");
  await c.advance(GRACE - 10_000);
  assert.deepEqual(holders(c, "192.0.2.2"), c.addresses, "within the grace from its start it stays: its client may redo");
  await c.advance(20_000);
  assert.deepEqual(holders(c, "192.0.2.2"), [], "an orphan of the previous life");
  assert.deepEqual(holders(c, "192.0.2.1"), c.addresses);
  c.close();
});

test("a partition longer than the grace: the far side removes the holder's instances, and the heal brings them back everywhere", async () => {
  const c = cluster(3, 14);
  await c.advance(12_000);
  const [a, b, d] = c.running() as [NamingNode, NamingNode, NamingNode];
  await connectAndRegister(c, a, "192.0.2.1");
  await c.advance(1_500);
  c.network.partition([a.config.self], [b.config.self, d.config.self]);
  await c.advance(GRACE + 20_000);
  assert.deepEqual(holders(c, "192.0.2.1"), [a.config.self], "the far side took the holder for dead");
  c.network.heal();
  await c.advance(15_000);
  assert.deepEqual(holders(c, "192.0.2.1"), c.addresses, "the holder's connection is open: its word wins");
  const versions = c.running().map((n) => n.registry.liveService(key)?.digest);
  assert.equal(new Set(versions).size, 1, "identical everywhere");
  c.close();
});
