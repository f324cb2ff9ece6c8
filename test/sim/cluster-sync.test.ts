import { testSpec } from "../support/fixtures.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ClientWrite, InstanceSpec } from "../../src/core/ops.js";
import { serviceKey, type ServiceRef } from "../../src/core/naming.js";
import { SimCluster } from "../../src/sim/sim-cluster.js";
import { firstDifference } from "../../src/sim/registry-digest.js";
import { storeOf } from "../support/node-context.js";
import { stateSeenBy } from "./support.js";

const svc = (name: string): ServiceRef => ({ namespaceId: "public", groupedName: `DEFAULT_GROUP@@${name}` });
const spec = (ip: string): InstanceSpec => testSpec(ip);
const register = (service: ServiceRef, ip: string): ClientWrite => ({ type: "register", service, instance: spec(ip) });
const beat = (service: ServiceRef, ip: string): ClientWrite => ({
  type: "beat",
  service,
  address: { ip, port: 8080, clusterName: "DEFAULT" },
  beat: { ip, port: 8080, clusterName: "DEFAULT", weight: 1, ephemeral: true, metadata: {} },
});

function assertConverged(cluster: SimCluster): void {
  for (const node of cluster.running()) node.purge();
  const [first, ...rest] = cluster.running();
  for (const other of rest) {
    const diff = firstDifference(first!.registry, other.registry);
    assert.equal(diff, undefined, `${first!.config.self} vs ${other.config.self}: ${diff}`);
  }
}

async function startedCluster(size: number, seed: number): Promise<SimCluster> {
  const cluster = new SimCluster({ size, seed });
  cluster.startAll();
  await cluster.advance(15_000); // members meet, nobody has data: everyone starts as a first node
  for (const node of cluster.running()) assert.equal(node.ready, true, `${node.config.self} ready`);
  return cluster;
}

test("writes through any node reach the owner and converge on every node", async () => {
  const cluster = await startedCluster(4, 7);
  const services = Array.from({ length: 20 }, (_, i) => svc(`s${i}`));
  for (let i = 0; i < 60; i++) {
    const via = cluster.addresses[i % 4]!;
    const outcome = await cluster.write(via, register(services[i % 20]!, `192.0.2.${i + 1}`));
    assert.deepEqual(outcome, { ok: true, result: { type: "ok" } });
  }
  await cluster.advance(4_000);
  assertConverged(cluster);
  const node = cluster.running()[0]!;
  assert.equal(node.registry.instanceCount, 60);
  // each key was written only by its responsible node
  for (const key of node.registry.keys()) {
    const d = node.registry.get(key)!;
    assert.equal(d.version.writer, node.ownerOf(d.key.split("##")[1]!));
  }
  cluster.close();
});

test("deregistration converges and replicated data never moves back in version", async () => {
  const cluster = await startedCluster(3, 11);
  const s = svc("orders");
  await cluster.write(cluster.addresses[0]!, register(s, "192.0.2.1"));
  await cluster.write(cluster.addresses[1]!, register(s, "192.0.2.2"));
  await cluster.advance(3_000);
  const before = cluster.running()[2]!.registry.get(serviceKey(s))!;
  await cluster.write(cluster.addresses[2]!, {
    type: "deregister",
    service: s,
    address: { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" },
    ephemeral: true,
  });
  await cluster.advance(3_000);
  assertConverged(cluster);
  for (const node of cluster.running()) {
    const now = node.registry.get(serviceKey(s))!;
    assert.deepEqual(
      now.instances.map((i) => i.ip),
      ["192.0.2.2"],
    );
    // a stale copy arriving late is refused
    node.onSync(cluster.addresses[0]!, [before]);
    assert.deepEqual(
      node.registry.get(serviceKey(s))!.instances.map((i) => i.ip),
      ["192.0.2.2"],
    );
  }
  cluster.close();
});

test("owner crash: it goes DOWN, another node takes over checks, a beating instance stays, an abandoned one expires once", async () => {
  const cluster = await startedCluster(3, 23);
  const s = svc("payments");
  const owner = cluster.running()[0]!.ownerOf(s.groupedName);
  const others = cluster.addresses.filter((a) => a !== owner);
  await cluster.write(others[0]!, register(s, "192.0.2.10")); // kept alive by beats
  await cluster.write(others[0]!, register(s, "192.0.2.11")); // abandoned
  await cluster.advance(3_000);
  cluster.crash(owner);
  let removals = 0;
  for (const a of others) {
    cluster.node(a).registry.onChange((c) => {
      const gone = c.entries.some(({ before, after }) => before?.instance?.ip === "192.0.2.11" && after?.instance === undefined);
      if (gone && c.origin === "local") removals++;
    });
  }
  let downAt = -1;
  const start = cluster.scheduler.now();
  for (let t = 0; t < 60_000; t += 1000) {
    if (t % 5000 === 0) await cluster.write(others[t % 2]!, beat(s, "192.0.2.10"));
    await cluster.advance(1000);
    if (downAt < 0 && stateSeenBy(cluster, others[0]!, owner) === "DOWN") downAt = cluster.scheduler.now() - start;
  }
  assert.ok(downAt > 0 && downAt <= 12_000, `owner DOWN within bound, took ${downAt} ms`);
  const newOwner = cluster.node(others[0]!).ownerOf(s.groupedName);
  assert.notEqual(newOwner, owner);
  assert.equal(cluster.node(others[1]!).ownerOf(s.groupedName), newOwner);
  assertConverged(cluster);
  for (const a of others) {
    const ips = cluster
      .node(a)
      .registry.get(serviceKey(s))!
      .instances.map((i) => i.ip);
    assert.deepEqual(ips, ["192.0.2.10"], `${a} holds only the beating instance`);
  }
  assert.equal(removals, 1, "the abandoned instance was removed exactly once, by the new owner");
  cluster.close();
});

test("a restarted node rejoins by snapshot and verify repairs a peer that missed writes", async () => {
  const cluster = await startedCluster(3, 31);
  const victim = cluster.addresses[2]!;
  cluster.crash(victim);
  await cluster.advance(12_000);
  // persistent instances: no heartbeats in this test, and nothing may expire them
  for (let i = 0; i < 30; i++) {
    const op: ClientWrite = { type: "register", service: svc(`r${i}`), instance: { ...spec(`198.51.100.${i + 1}`), ephemeral: false } };
    assert.equal((await cluster.write(cluster.addresses[i % 2]!, op)).ok, true);
  }
  await cluster.advance(3_000);
  const restarted = cluster.start(victim);
  assert.equal(restarted.ready, false);
  await cluster.advance(20_000);
  assert.equal(restarted.ready, true);
  assertConverged(cluster);
  assert.equal(restarted.registry.instanceCount, 30);
  assert.ok(restarted.stats().distro!.snapshotKeysLoaded >= 30, "the registry came from the snapshot stream");
  // verify: drop a key on one node behind Distro's back; the owner's digest brings it back
  const key = serviceKey(svc("r0"));
  const holder = cluster.running().find((n) => !n.isResponsible(svc("r0").groupedName))!;
  storeOf(holder).forget(key);
  await cluster.advance(12_000);
  assertConverged(cluster);
  assert.ok(holder.registry.get(key) !== undefined);
  cluster.close();
});

test("a persistent write is answered once every UP node holds it: the SDKs read from any node next", async () => {
  const cluster = await startedCluster(3, 13);
  for (let i = 0; i < 12; i++) {
    const service = svc(`p${i}`);
    const via = cluster.addresses[i % 3]!;
    const persistent: ClientWrite = { type: "register", service, instance: { ...spec("192.0.2.7"), ephemeral: false } };
    assert.deepEqual(await cluster.write(via, persistent), { ok: true, result: { type: "ok" } });
    for (const node of cluster.running())
      assert.equal(
        node.registry.getLive(serviceKey(service))?.instances.length,
        1,
        `${service.groupedName} on ${node.config.self} when answered`,
      );
  }
  cluster.close();
});

test("a node killed while a forwarded persistent write waits for its peers answers nothing: the client is not told it is held", async () => {
  const cluster = await startedCluster(3, 17);
  const [via] = cluster.addresses;
  const service = [...Array(50).keys()].map((i) => svc(`killed${i}`)).find((s) => cluster.node(via!).ownerOf(s.groupedName) !== via)!;
  const owner = cluster.node(via!).ownerOf(service.groupedName);
  // Every message takes 200 ms: the owner holds the write (at 200 ms) long before its peers answer the sync (600 ms).
  cluster.network.faults = { drop: 0, duplicate: 0, minLatencyMs: 200, maxLatencyMs: 200 };
  const persistent: ClientWrite = { type: "register", service, instance: { ...spec("192.0.2.9"), ephemeral: false } };
  let outcome: string | undefined;
  const answer = cluster.node(via!).write(persistent);
  answer.then(
    () => (outcome = "acknowledged"),
    (err: unknown) => (outcome = `failed: ${(err as Error).message}`),
  );
  await cluster.advance(300);
  assert.equal(cluster.node(owner).registry.getLive(serviceKey(service))?.instances.length, 1, "the owner holds it, unreplicated");
  cluster.crash(owner); // killed: its waits end as it closes, yet a killed process sends nothing
  await cluster.advance(5_000);
  assert.match(outcome ?? "pending", /^failed: /);
  cluster.close();
});
