/**
 * ClientConnections: a node's 2.x connections and the instances bound to them — removed at once when the
 * connection closes, and put back when anyone else removes them while it is open.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundInstances } from "../../../src/core/bound-instances.js";
import { NacosError } from "../../../src/core/errors.js";
import { identityOf, type ConnectionBinding, type Instance } from "../../../src/core/instance.js";
import { LastBeats } from "../../../src/core/last-beats.js";
import { silentLog } from "../../../src/core/log.js";
import { NamingService } from "../../../src/core/naming-service.js";
import { serviceKey, type ServiceRef } from "../../../src/core/naming.js";
import { Registry } from "../../../src/core/registry.js";
import { DEFAULT_SERVICE_META, makeDatum } from "../../../src/core/service-datum.js";
import { defaultSwitches } from "../../../src/core/switches.js";
import { compareVersions } from "../../../src/core/version.js";
import { ClientConnections, type ClientConnectionInfo } from "../../../src/node/clients/client-connections.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { testSpec } from "../../support/fixtures.js";

const SELF = "127.0.0.1:8848";
const PEER = "127.0.0.2:8848";
const svc: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@orders" };
const key = serviceKey(svc);

function info(id: string): ClientConnectionInfo {
  return {
    id,
    clientIp: "192.0.2.1",
    clientPort: 50000,
    clientVersion: "Nacos-Rust-Client:v0.4.0",
    namespace: "",
    appName: "orders",
    labels: { module: "naming" },
    connectedAt: 1,
  };
}

function setup() {
  const scheduler = new VirtualScheduler(3);
  const clock = () => scheduler.now();
  const registry = new Registry(SELF, clock);
  const bound = new BoundInstances(registry, clock);
  const naming = new NamingService(registry, new LastBeats(clock), defaultSwitches(), () => true, bound);
  const connections = new ClientConnections(SELF, registry, naming, bound, scheduler, silentLog);
  const binding = (id: string): ConnectionBinding => ({ node: SELF, connectionId: id });
  const register = (id: string, ip: string, port = 8080) =>
    connections.execute({ type: "register", service: svc, instance: testSpec(ip, port), connection: binding(id) });
  const live = (ip: string, port = 8080): Instance | undefined =>
    registry.liveService(key)?.entry(identityOf(testSpec(ip, port)))?.instance;
  /** A peer's datum carrying `instance` (or its tombstone) at a version newer than anything here. */
  const fromPeer = (id: string, instance: Instance | undefined) => {
    const version = { counter: scheduler.now() + 10, writer: PEER };
    const entry = { id, version, instance };
    registry.apply({ ...makeDatum(key, false, DEFAULT_SERVICE_META, version, [entry]), partial: true });
  };
  return { scheduler, registry, connections, naming, binding, register, live, fromPeer };
}

test("open, get, list, size; a write of a connection that is not open here is refused and changes nothing", () => {
  const { connections, register, registry } = setup();
  connections.open(info("c1"));
  connections.open(info("c2"));
  assert.equal(connections.size, 2);
  assert.equal(connections.get("c1")?.clientVersion, "Nacos-Rust-Client:v0.4.0");
  assert.deepEqual(
    connections
      .list()
      .map((c) => c.id)
      .sort(),
    ["c1", "c2"],
  );
  const refused = (run: () => unknown) =>
    assert.throws(run, (err: unknown) => err instanceof NacosError && err.status === 400 && /disconnect/.test(err.message));
  refused(() => register("c3", "192.0.2.1"));
  refused(() =>
    connections.execute({
      type: "register",
      service: svc,
      instance: testSpec("192.0.2.1"),
      connection: { node: PEER, connectionId: "c1" },
    }),
  );
  assert.equal(registry.size, 0);
});

test("closing a connection removes its instances at once and tells the listeners; other connections keep theirs", () => {
  const { connections, register, live, registry } = setup();
  connections.open(info("c1"));
  connections.open(info("c2"));
  register("c1", "192.0.2.1");
  connections.execute({
    type: "batchRegister",
    service: { namespaceId: "dev", groupedName: "DEFAULT_GROUP@@pay" },
    instances: [testSpec("192.0.2.1", 1), testSpec("192.0.2.1", 2)],
    connection: { node: SELF, connectionId: "c1" },
  });
  register("c2", "192.0.2.2");
  assert.deepEqual(
    connections
      .instancesOf("c1")
      .map(([k, i]) => `${k} ${i.ip}:${i.port}`)
      .sort(),
    ["dev##DEFAULT_GROUP@@pay 192.0.2.1:1", "dev##DEFAULT_GROUP@@pay 192.0.2.1:2", `${key} 192.0.2.1:8080`],
  );
  const closed: string[] = [];
  connections.onClosed((id) => closed.push(id));
  connections.close("c1", "client went away");
  assert.deepEqual(closed, ["c1"]);
  assert.equal(live("192.0.2.1"), undefined);
  assert.equal(registry.liveService("dev##DEFAULT_GROUP@@pay")?.size, 0);
  assert.ok(live("192.0.2.2") !== undefined);
  assert.deepEqual(connections.instancesOf("c1"), []);
  assert.equal(connections.get("c1"), undefined);
  connections.close("c1", "again");
  assert.deepEqual(closed, ["c1"], "closing twice tells nobody twice");
});

test("an instance of an open connection removed by someone else is put back under a newer version", async () => {
  const { connections, register, live, fromPeer, scheduler, naming } = setup();
  connections.open(info("c1"));
  register("c1", "192.0.2.1");
  register("c1", "192.0.2.1"); // idempotent
  const id = identityOf(testSpec("192.0.2.1"));
  // A peer that saw this node DOWN past the grace removed it (its tombstone is newer than our registration).
  fromPeer(id, undefined);
  assert.equal(live("192.0.2.1"), undefined, "the removal applies as any newer version does");
  await scheduler.advance(1);
  const back = live("192.0.2.1");
  assert.ok(back !== undefined, "put back on the next turn");
  assert.deepEqual(back.connection, { node: SELF, connectionId: "c1" });

  // So is one removed by a 1.x deregister on this very node.
  naming.execute({ type: "deregister", service: svc, address: { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" }, ephemeral: true });
  await scheduler.advance(1);
  assert.ok(live("192.0.2.1") !== undefined);
});

test("what a newer registration took over, or what a closed connection held, is not put back", async () => {
  const { connections, live, fromPeer, scheduler, registry } = setup();
  connections.open(info("c1"));
  const both = [testSpec("192.0.2.1"), testSpec("192.0.2.2", 9)];
  connections.execute({ type: "batchRegister", service: svc, instances: both, connection: { node: SELF, connectionId: "c1" } });
  const id = identityOf(testSpec("192.0.2.1"));
  // The client reconnected to a peer and registered again there: the peer's binding is newer.
  const moved = { ...live("192.0.2.1")!, connection: { node: PEER, connectionId: "p7" } };
  fromPeer(id, moved);
  await scheduler.advance(1);
  assert.deepEqual(live("192.0.2.1")?.connection, { node: PEER, connectionId: "p7" });
  const before = registry.liveService(key)!.entry(id)!.version;
  // ...and the peer's client later deregistered: its removal stays, this connection no longer holds it.
  fromPeer(id, undefined);
  await scheduler.advance(1);
  assert.equal(live("192.0.2.1"), undefined);
  assert.ok(compareVersions(registry.liveService(key)!.entry(id)!.version, before) > 0);

  connections.close("c1", "gone");
  assert.equal(live("192.0.2.2", 9), undefined);
  await scheduler.advance(1);
  assert.equal(live("192.0.2.2", 9), undefined, "its own close is not someone else's removal");
});
