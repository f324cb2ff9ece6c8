import assert from "node:assert/strict";
import { test } from "node:test";
import { serviceKey, type ServiceRef } from "../../src/core/naming.js";
import type { ClientWrite } from "../../src/core/ops.js";
import { DEFAULT_SERVICE_META, makeDatum } from "../../src/core/service-datum.js";
import type { NodeConfig } from "../../src/node/naming-node.js";
import { SimCluster } from "../../src/sim/sim-cluster.js";
import { firstDifference } from "../../src/sim/registry-digest.js";
import type { VerifyDigest } from "../../src/node/ports.js";

const svc = (i: number): ServiceRef => ({ namespaceId: "public", groupedName: `DEFAULT_GROUP@@join-${i}` });
const register = (service: ServiceRef, ip: string): ClientWrite => ({
  type: "register",
  service,
  instance: {
    ip,
    port: 80,
    clusterName: "DEFAULT",
    weight: 1,
    healthy: true,
    enabled: true,
    ephemeral: false,
    metadata: {},
    app: "DEFAULT",
  },
});
/** Tiny snapshot chunks, so a join takes many messages (and some virtual seconds). */
const smallChunks = (c: NodeConfig): NodeConfig => ({ ...c, distro: { ...c.distro, snapshot: { ...c.distro.snapshot, chunkBytes: 600 } } });

test("a joining node is not ready, sends no digests and repairs nobody until its load completes; writes during the load survive it", async () => {
  const cluster = new SimCluster({ size: 3, seed: 41, configure: smallChunks });
  cluster.startAll();
  await cluster.advance(15_000);
  const [a, b, joiner] = cluster.addresses as [string, string, string];
  cluster.crash(joiner);
  await cluster.advance(12_000);
  for (let i = 0; i < 300; i++) assert.equal((await cluster.write(i % 2 === 0 ? a : b, register(svc(i), "198.51.100.1"))).ok, true);
  await cluster.advance(3_000);
  // Watch digests reaching the others, and slow the network so the stream takes a while.
  const digestsFromJoiner: VerifyDigest[] = [];
  for (const peer of [a, b]) {
    const node = cluster.node(peer);
    const onVerify = node.onVerify.bind(node);
    node.onVerify = (d) => {
      if (d.source === joiner) digestsFromJoiner.push(d);
      return onVerify(d);
    };
  }
  cluster.network.faults = { drop: 0, duplicate: 0, minLatencyMs: 60, maxLatencyMs: 90 };
  const node = cluster.start(joiner);
  // A write reaching the joiner mid-load, for a service the snapshot also carries.
  await cluster.advance(3_000);
  assert.equal(node.ready, false, "still loading");
  assert.ok(node.stats().distro!.snapshotKeysLoaded > 0, "the load is under way");
  assert.ok(node.stats().distro!.snapshotKeysLoaded < 150, "and far from finished (several verify periods to go)");
  // Data only the joiner holds, for a service `a` owns: verify repairs `a` with it, but not mid-load.
  let orphan = svc(1000);
  for (let i = 1000; cluster.node(a).ownerOf(orphan.groupedName) !== a; i++) orphan = svc(i);
  node.onSync(a, [makeDatum(serviceKey(orphan), false, DEFAULT_SERVICE_META, { counter: cluster.scheduler.now(), writer: a }, [])]);
  const late = svc(299);
  const before = cluster.node(a).registry.get(serviceKey(late))!;
  // Executed here, wherever the owner is; answered once the UP peers hold it (virtual time must pass).
  await cluster.scheduler.runUntilSettled(node.write(register(late, "198.51.100.99"), { forwarded: true }), 10_000);
  let readyAt = -1;
  for (let t = 0; t < 60_000 && readyAt < 0; t += 500) {
    await cluster.advance(500);
    if (node.ready) readyAt = t;
    else {
      assert.equal(digestsFromJoiner.length, 0, "no digest while loading");
      assert.equal(cluster.node(a).registry.get(serviceKey(orphan)), undefined, "no repair pushed out while loading");
    }
  }
  assert.ok(readyAt >= 0, "the load completes");
  assert.ok(node.stats().distro!.snapshotKeysLoaded >= 300);
  const merged = node.registry.get(serviceKey(late))!;
  assert.deepEqual(
    merged.instances.map((i) => i.ip).sort(),
    ["198.51.100.1", "198.51.100.99"],
    "the write during the load was not overwritten",
  );
  assert.ok(merged.version.counter > before.version.counter);
  cluster.network.faults = { drop: 0, duplicate: 0, minLatencyMs: 1, maxLatencyMs: 5 };
  await cluster.advance(15_000);
  assert.ok(digestsFromJoiner.length > 0, "digests start once ready");
  assert.ok(cluster.node(a).registry.get(serviceKey(orphan)) !== undefined, "once ready, verify hands the owner what it lacked");
  for (const n of cluster.running()) n.purge();
  for (const other of [a, b]) assert.equal(firstDifference(cluster.node(other).registry, node.registry), undefined);
  cluster.close();
});
