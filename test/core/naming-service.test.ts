import { testSpec } from "../support/fixtures.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundInstances } from "../../src/core/bound-instances.js";
import { LastBeats } from "../../src/core/last-beats.js";
import { NamingService } from "../../src/core/naming-service.js";
import { serviceKey, type ServiceRef } from "../../src/core/naming.js";
import type { ClientWrite, InstanceSpec } from "../../src/core/ops.js";
import { Registry } from "../../src/core/registry.js";
import { defaultSwitches } from "../../src/core/switches.js";
import { NacosError } from "../../src/core/errors.js";

/** A naming service over a registry that is complete unless the test says otherwise (`loading.now = true`). */
function setup() {
  let now = 1_000_000;
  const clock = () => now;
  const registry = new Registry("127.0.0.1:8848", clock);
  const switches = defaultSwitches();
  const loading = { now: false };
  const naming = new NamingService(registry, new LastBeats(clock), switches, () => !loading.now, new BoundInstances(registry, clock));
  return { registry, naming, switches, loading, tick: (ms: number) => (now += ms) };
}

const svc: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@orders" };
const key = serviceKey(svc);
const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => testSpec(over.ip ?? "192.0.2.1", over.port ?? 8080, over);

test("register creates the service with 1.4's simple instanceId and a new version per change", () => {
  const { registry, naming } = setup();
  naming.execute({ type: "register", service: svc, instance: spec({ metadata: { zone: "a" }, weight: 2.5 }) });
  const d = registry.getLive(key)!;
  assert.equal(d.instances[0]!.instanceId, "192.0.2.1#8080#DEFAULT#DEFAULT_GROUP@@orders");
  assert.equal(d.instances[0]!.serviceName, "DEFAULT_GROUP@@orders");
  assert.deepEqual(d.instances[0]!.metadata, { zone: "a" });
  const v1 = d.version;
  naming.execute({ type: "register", service: svc, instance: spec({ metadata: { zone: "a" }, weight: 2.5 }) });
  assert.deepEqual(registry.getLive(key)!.version, v1, "identical re-registration is not a new version");
  naming.execute({ type: "register", service: svc, instance: spec({ weight: 3 }) });
  assert.ok(registry.getLive(key)!.version.counter > v1.counter);
});

test("snowflake generator picks the smallest unused integer id", () => {
  const { registry, naming } = setup();
  const snow = { "preserved.instance.id.generator": "snowflake" };
  naming.execute({ type: "register", service: svc, instance: spec({ ip: "192.0.2.1", metadata: snow }) });
  naming.execute({ type: "register", service: svc, instance: spec({ ip: "192.0.2.2", metadata: snow }) });
  naming.execute({ type: "deregister", service: svc, address: { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" }, ephemeral: true });
  naming.execute({ type: "register", service: svc, instance: spec({ ip: "192.0.2.3", metadata: snow }) });
  assert.deepEqual(
    registry.getLive(key)!.instances.map((i) => [i.ip, i.instanceId]),
    [
      ["192.0.2.2", "1"],
      ["192.0.2.3", "0"],
    ],
  );
});

test("re-registration keeps the node's health decision and instanceId; persistent and ephemeral are distinct", () => {
  const { registry, naming } = setup();
  naming.execute({ type: "register", service: svc, instance: spec() });
  naming.setHealth(key, ["192.0.2.1:8080:unknown:DEFAULT:ephemeral"], false);
  naming.execute({ type: "register", service: svc, instance: spec({ weight: 5 }) });
  const i = registry.getLive(key)!.instances[0]!;
  assert.equal(i.healthy, false);
  assert.equal(i.weight, 5);
  naming.execute({ type: "register", service: svc, instance: spec({ ephemeral: false, healthy: false }) });
  assert.equal(registry.getLive(key)!.instances.length, 2);
  naming.execute({ type: "deregister", service: svc, address: { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" }, ephemeral: false });
  assert.deepEqual(
    registry.getLive(key)!.instances.map((x) => x.ephemeral),
    [true],
  );
});

test("beats: light beat for unknown → 20404; full beat re-creates; beat heals; interval from metadata", () => {
  const { registry, naming } = setup();
  const address = { ip: "192.0.2.9", port: 9000, clusterName: "DEFAULT" };
  assert.deepEqual(naming.execute({ type: "beat", service: svc, address, beat: undefined }), {
    type: "beat",
    code: 20404,
    clientBeatInterval: 5000,
  });
  assert.equal(registry.getLive(key), undefined, "a light beat creates nothing");
  const beat = { ...address, weight: 2, ephemeral: true, metadata: { "preserved.heart.beat.interval": "3000" } };
  assert.deepEqual(naming.execute({ type: "beat", service: svc, address, beat }), {
    type: "beat",
    code: 10200,
    clientBeatInterval: 3000,
    lightBeatEnabled: true,
  });
  const created = registry.getLive(key)!.instances[0]!;
  assert.equal(created.weight, 2);
  assert.equal(created.healthy, true);
  naming.setHealth(key, ["192.0.2.9:9000:unknown:DEFAULT:ephemeral"], false);
  naming.execute({ type: "beat", service: svc, address, beat: undefined });
  assert.equal(registry.getLive(key)!.instances[0]!.healthy, true, "a beat makes an unhealthy instance healthy");
});

test("a beat for a persistent instance answers 10200 and changes nothing (no ephemeral twin is created)", () => {
  const { registry, naming } = setup();
  naming.execute({ type: "register", service: svc, instance: spec({ ephemeral: false, healthy: false }) });
  const before = registry.getLive(key)!;
  const address = { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" };
  const beat = { ...address, weight: 1, ephemeral: true, metadata: {} };
  assert.equal((naming.execute({ type: "beat", service: svc, address, beat }) as { code: number }).code, 10200);
  assert.deepEqual(registry.getLive(key), before);
});

test("update needs an existing instance for Java clients; patch changes only given fields; refusals change nothing", () => {
  const { registry, naming } = setup();
  assert.throws(
    () => naming.execute({ type: "update", service: svc, instance: spec(), mustExist: true }),
    (e: unknown) => e instanceof NacosError && e.status === 400 && e.message.startsWith("service not found, namespace: public"),
  );
  naming.execute({ type: "update", service: svc, instance: spec(), mustExist: false });
  assert.equal(registry.getLive(key)!.instances.length, 1, "non-Java update is an upsert");
  const before = registry.getLive(key)!;
  assert.throws(() => naming.execute({ type: "update", service: svc, instance: spec({ port: 1 }), mustExist: true }), /instance not exist/);
  assert.throws(
    () => naming.execute({ type: "patch", service: svc, address: { ip: "192.0.2.1", port: 1, clusterName: "DEFAULT" }, patch: {} }),
    /instance not found/,
  );
  assert.deepEqual(registry.getLive(key), before);
  naming.execute({ type: "patch", service: svc, address: { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" }, patch: { weight: 7 } });
  const patched = registry.getLive(key)!.instances[0]!;
  assert.equal(patched.weight, 7);
  assert.equal(patched.enabled, true);
});

test("metadata batch update/delete and service lifecycle messages", () => {
  const { registry, naming } = setup();
  const meta = { protectThreshold: 0.5, metadata: { owner: "team-a" }, selector: { type: "none" as const } };
  naming.execute({ type: "createService", service: svc, spec: meta });
  assert.throws(
    () => naming.execute({ type: "createService", service: svc, spec: meta }),
    /specified service already exists, serviceName : DEFAULT_GROUP@@orders/,
  );
  naming.execute({ type: "register", service: svc, instance: spec({ metadata: { a: "1" } }) });
  naming.execute({ type: "register", service: svc, instance: spec({ ip: "192.0.2.2", ephemeral: false }) });
  const res = naming.execute({ type: "updateMetadata", service: svc, remove: false, metadata: { b: "2" }, targets: "ephemeral" });
  assert.deepEqual(res, { type: "updated", updated: ["192.0.2.1:8080:unknown:DEFAULT:ephemeral"] });
  naming.execute({
    type: "updateMetadata",
    service: svc,
    remove: true,
    metadata: { a: "" },
    targets: [{ ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT", ephemeral: true }],
  });
  assert.deepEqual(registry.getLive(key)!.instances[0]!.metadata, { b: "2" });
  naming.execute({ type: "deleteService", service: svc });
  assert.equal(registry.getLive(key), undefined);
  assert.equal(registry.get(key)!.deleted, true, "a tombstone remains");
  assert.throws(() => naming.execute({ type: "deleteService", service: svc }), /specified service not exist/);
  assert.throws(() => naming.execute({ type: "updateService", service: svc, spec: meta }), /service DEFAULT_GROUP@@orders not found!/);
  assert.throws(
    () =>
      naming.execute({ type: "register", service: { namespaceId: "public", groupedName: "DEFAULT_GROUP@@bad name" }, instance: spec() }),
    /dom name can only have these characters/,
  );
});

test("while the registry is incomplete, writes that depend on what it holds are refused (503) and change nothing", () => {
  const { registry, naming, loading } = setup();
  naming.execute({ type: "register", service: svc, instance: spec({ ip: "192.0.2.1" }) });
  const other: ServiceRef = { ...svc, groupedName: "DEFAULT_GROUP@@not-loaded-yet" };
  loading.now = true;
  const before = registry.get(key);
  const address = { ip: "192.0.2.9", port: 8080, clusterName: "DEFAULT" };
  const beat = { ...address, weight: 1, ephemeral: true, metadata: {} };
  const refused: ClientWrite[] = [
    { type: "beat", service: svc, address, beat },
    { type: "beat", service: svc, address, beat: undefined },
    { type: "update", service: svc, instance: spec({ ip: "192.0.2.1", weight: 5 }), mustExist: true },
    { type: "patch", service: svc, address: { ...address, ip: "192.0.2.1" }, patch: { enabled: false } },
    { type: "updateMetadata", service: svc, remove: false, metadata: { a: "b" }, targets: "ephemeral" },
    { type: "setHealth", service: svc, address, healthy: false },
    { type: "createService", service: other, spec: { protectThreshold: 0, metadata: {}, selector: { type: "none" } } },
    { type: "deleteService", service: svc },
  ];
  for (const op of refused) {
    assert.throws(
      () => naming.execute(op),
      (e: unknown) => e instanceof NacosError && e.status === 503 && /^server is STARTING now/.test(e.message),
      op.type,
    );
  }
  assert.deepEqual(registry.get(key), before, "nothing changed");
  assert.equal(registry.get(serviceKey(other)), undefined);
  assert.equal(
    (naming.execute({ type: "beat", service: svc, address: { ...address, ip: "192.0.2.1" }, beat: undefined }) as { code: number }).code,
    10200,
    "a beat of an instance it holds is answered",
  );
  naming.execute({ type: "register", service: svc, instance: spec({ ip: "192.0.2.2" }) });
  naming.execute({ type: "deregister", service: svc, address: { ...address, ip: "192.0.2.1" }, ephemeral: true });
  assert.deepEqual(
    registry.getLive(key)!.instances.map((i) => i.ip),
    ["192.0.2.2"],
    "registrations and removals pass",
  );
});
