/**
 * A 2.x connection's writes (NamingService): as in Nacos 2.x a connection publishes one list per service, its
 * instances are bound to it, and its writes touch only its own instances.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundInstances } from "../../src/core/bound-instances.js";
import { NacosError } from "../../src/core/errors.js";
import { identityOf, type ConnectionBinding } from "../../src/core/instance.js";
import { LastBeats } from "../../src/core/last-beats.js";
import { NamingService } from "../../src/core/naming-service.js";
import { serviceKey, type ServiceRef } from "../../src/core/naming.js";
import type { InstanceSpec } from "../../src/core/ops.js";
import { Registry } from "../../src/core/registry.js";
import { DEFAULT_SERVICE_META, makeDatum } from "../../src/core/service-datum.js";
import { defaultSwitches } from "../../src/core/switches.js";
import { testInstance, testSpec } from "../support/fixtures.js";

const SELF = "127.0.0.1:8848";
const svc: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@orders" };
const other: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@billing" };
const key = serviceKey(svc);
const c1: ConnectionBinding = { node: SELF, connectionId: "1700000000000_192.0.2.1_50001" };
const c2: ConnectionBinding = { node: SELF, connectionId: "1700000000000_192.0.2.2_50002" };

function setup() {
  let now = 1_000_000;
  const clock = () => now;
  const registry = new Registry(SELF, clock);
  const bound = new BoundInstances(registry, clock);
  const lastBeats = new LastBeats(clock);
  const naming = new NamingService(registry, lastBeats, defaultSwitches(), () => true, bound);
  const hosts = (ref: ServiceRef = svc) =>
    [...(registry.liveService(serviceKey(ref))?.instances() ?? [])]
      .map((i) => `${i.ip}:${i.port}${i.connection === undefined ? "" : `@${i.connection.connectionId.slice(-5)}`}`)
      .sort();
  return { registry, bound, lastBeats, naming, hosts, tick: (ms: number) => (now += ms) };
}

const spec = (ip: string, port = 8080, over: Partial<InstanceSpec> = {}) => testSpec(ip, port, over);
const testInstanceOf = (s: InstanceSpec) => testInstance(s.ip, s.port, svc.groupedName);

test("a connection's register binds the instance; registering again replaces the connection's instance of that service", () => {
  const { naming, hosts, registry } = setup();
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.1"), connection: c1 });
  const first = registry.liveService(key)!.entry(identityOf(spec("192.0.2.1")))!.instance!;
  assert.deepEqual(first.connection, c1);
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.1", 8081), connection: c1 });
  assert.deepEqual(hosts(), ["192.0.2.1:8081@50001"], "one list per service and connection, as Nacos 2.x");
  naming.execute({ type: "register", service: other, instance: spec("192.0.2.1"), connection: c1 });
  assert.deepEqual(hosts(), ["192.0.2.1:8081@50001"], "another service's registration leaves this one alone");
  assert.deepEqual(hosts(other), ["192.0.2.1:8080@50001"]);
});

test("batchRegister makes the connection's instances of the service exactly its list, touching nobody else's", () => {
  const { naming, hosts } = setup();
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.9") }); // a 1.x client's
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.2"), connection: c2 });
  naming.execute({ type: "batchRegister", service: svc, instances: [spec("192.0.2.1", 1), spec("192.0.2.1", 2)], connection: c1 });
  assert.deepEqual(hosts(), ["192.0.2.1:1@50001", "192.0.2.1:2@50001", "192.0.2.2:8080@50002", "192.0.2.9:8080"]);
  naming.execute({ type: "batchRegister", service: svc, instances: [spec("192.0.2.1", 2), spec("192.0.2.1", 3)], connection: c1 });
  assert.deepEqual(hosts(), ["192.0.2.1:2@50001", "192.0.2.1:3@50001", "192.0.2.2:8080@50002", "192.0.2.9:8080"]);
  naming.execute({ type: "batchRegister", service: svc, instances: [], connection: c1 });
  assert.deepEqual(hosts(), ["192.0.2.2:8080@50002", "192.0.2.9:8080"], "an empty batch removes the connection's instances");
});

test("a batch naming one address twice keeps the later entry", () => {
  const { naming, registry } = setup();
  const instances = [spec("192.0.2.1", 1, { weight: 2 }), spec("192.0.2.1", 1, { weight: 7 })];
  naming.execute({ type: "batchRegister", service: svc, instances, connection: c1 });
  const live = [...registry.liveService(key)!.instances()];
  assert.equal(live.length, 1);
  assert.equal(live[0]!.weight, 7);
});

test("a connection's deregister removes its instances of the service, whatever address it names", () => {
  const { naming, hosts } = setup();
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.9") });
  naming.execute({ type: "batchRegister", service: svc, instances: [spec("192.0.2.1", 1), spec("192.0.2.1", 2)], connection: c1 });
  const address = { ip: "192.0.2.9", port: 8080, clusterName: "DEFAULT" };
  naming.execute({ type: "deregister", service: svc, address, ephemeral: true, connection: c1 });
  assert.deepEqual(hosts(), ["192.0.2.9:8080"], "the 1.x instance at the named address is not the connection's");
});

test("refused without a change: a persistent instance over a connection, a malformed binding, a bad service name", () => {
  const { naming, registry } = setup();
  const refuses = (run: () => void, message: RegExp) =>
    assert.throws(run, (err: unknown) => err instanceof NacosError && err.status === 400 && message.test(err.message));
  const registerVia =
    (connection: ConnectionBinding, service = svc) =>
    () =>
      naming.execute({ type: "register", service, instance: spec("192.0.2.1"), connection });
  const persistent = spec("192.0.2.2", 80, { ephemeral: false });
  refuses(
    () => naming.execute({ type: "batchRegister", service: svc, instances: [spec("192.0.2.1"), persistent], connection: c1 }),
    /persistent/,
  );
  refuses(registerVia({ node: "not an address", connectionId: "x" }), /member address/);
  refuses(registerVia({ node: SELF, connectionId: "a b" }), /visible ASCII/);
  refuses(registerVia({ node: SELF, connectionId: "x".repeat(129) }), /1\.\.128/);
  refuses(registerVia(c1, { namespaceId: "public", groupedName: "nogroup" }), /serviceName/);
  // What peers' decoders would refuse, so a connection's transport that let it through cannot stall replication.
  const batch = (s: InstanceSpec) => () =>
    naming.execute({ type: "batchRegister", service: svc, instances: [spec("192.0.2.1"), s], connection: c1 });
  refuses(batch(spec("192.0.2.2", 70_000)), /port/);
  refuses(batch(spec("192.0.2.2", 80, { weight: Number.NaN })), /weights/);
  refuses(batch(spec("192.0.2.2", 80, { weight: 10_001 })), /weights/);
  refuses(batch(spec(" ", 80)), /IP address/);
  refuses(batch(spec("192.0.2.2", 80, { clusterName: "a b" })), /cluster name/);
  assert.equal(registry.size, 0, "nothing was created");
});

test("a 1.x registration takes a bound address over; a 1.x update of a bound instance keeps its binding", () => {
  const { naming, registry, bound } = setup();
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.1"), connection: c1 });
  naming.execute({ type: "update", service: svc, instance: spec("192.0.2.1", 8080, { weight: 3 }), mustExist: true });
  const updated = registry.liveService(key)!.entry(identityOf(spec("192.0.2.1")))!.instance!;
  assert.equal(updated.weight, 3);
  assert.deepEqual(updated.connection, c1, "an operator's edit does not detach the instance from its connection");
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.1") });
  const taken = registry.liveService(key)!.entry(identityOf(spec("192.0.2.1")))!.instance!;
  assert.equal(taken.connection, undefined);
  assert.equal(bound.size, 0);
});

test("bound instances keep no beat records: nothing could ever refresh them", () => {
  const { naming, lastBeats } = setup();
  naming.execute({ type: "batchRegister", service: svc, instances: [spec("192.0.2.1", 1), spec("192.0.2.1", 2)], connection: c1 });
  assert.equal(lastBeats.size, 0);
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.1", 1) });
  assert.equal(lastBeats.size, 1, "taken over by a 1.x client: it beats from now on");
});

test("a bound instance's object carries the shared binding; a 1.x instance has no such property at all", () => {
  const { naming, registry } = setup();
  naming.execute({ type: "batchRegister", service: svc, instances: [spec("192.0.2.1", 1), spec("192.0.2.1", 2)], connection: c1 });
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.9") });
  const service = registry.liveService(key)!;
  const a = service.entry(identityOf(spec("192.0.2.1", 1)))!.instance!;
  const b = service.entry(identityOf(spec("192.0.2.1", 2)))!.instance!;
  assert.equal(a.connection, b.connection, "one binding object per connection");
  const plain = service.entry(identityOf(spec("192.0.2.9")))!.instance!;
  assert.equal(Object.hasOwn(plain, "connection"), false);
});

test("registering over a new connection takes the writer's clock, even on a stale copy: it outranks a removal made meanwhile", () => {
  const { naming, registry, tick } = setup();
  const peer = "127.0.0.2:8848";
  const instance = { ...testInstanceOf(spec("192.0.2.1")), connection: { node: peer, connectionId: "old" } };
  const id = identityOf(instance);
  // This node's copy is old: the instance as the peer's connection registered it long ago.
  const old = { counter: 1_000_000, writer: peer };
  registry.apply({ ...makeDatum(key, false, DEFAULT_SERVICE_META, old, [{ id, version: old, instance }]), partial: true });
  tick(60_000);
  // Meanwhile (unseen here) the peer's connection closed and the peer removed it at its clock.
  const removedAt = { counter: 1_050_000, writer: peer };
  // The client reconnected here and registered again.
  naming.execute({ type: "register", service: svc, instance: spec("192.0.2.1"), connection: c1 });
  const mine = registry.liveService(key)!.entry(id)!.version;
  assert.ok(mine.counter > removedAt.counter, `the new registration (${mine.counter}) is newer than the removal it never saw`);
  registry.apply({
    ...makeDatum(key, false, DEFAULT_SERVICE_META, removedAt, [{ id, version: removedAt, instance: undefined }]),
    partial: true,
  });
  assert.deepEqual(registry.liveService(key)!.entry(id)!.instance?.connection, c1, "the late removal loses");
});
