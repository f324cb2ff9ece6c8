/**
 * Tombstones against long partitions: a removal must not come back when a member that was cut off for longer
 * than the tombstone TTL returns with its stale copy, and what was written on its side meanwhile must survive.
 * Tombstones are therefore kept until every member has confirmed holding them, and purged once they have.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serviceKey, type ServiceRef } from "../../src/core/naming.js";
import type { ClientWrite } from "../../src/core/ops.js";
import { firstDifference } from "../../src/sim/registry-digest.js";
import { SimCluster } from "../../src/sim/sim-cluster.js";
import { testSpec } from "../support/fixtures.js";

const TTL = 60_000;
const S: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@ledger" };

const register = (ip: string): ClientWrite => ({ type: "register", service: S, instance: testSpec(ip, 8080, { ephemeral: false }) });
const deregister = (ip: string): ClientWrite => ({
  type: "deregister",
  service: S,
  address: { ip, port: 8080, clusterName: "DEFAULT" },
  ephemeral: false,
});

const ipsOn = (cluster: SimCluster, address: string): string[] =>
  (cluster.node(address).registry.get(serviceKey(S))?.instances ?? []).map((i) => i.ip).sort();

const tombstonesOn = (cluster: SimCluster, address: string): number =>
  (cluster.node(address).registry.get(serviceKey(S))?.entries ?? []).filter((e) => e.instance === undefined).length;

test("a member partitioned for longer than the tombstone TTL brings nothing removed back, and keeps what it wrote", async () => {
  const cluster = new SimCluster({ size: 3, seed: 5, configure: (c) => ({ ...c, tombstoneTtlMs: TTL }) });
  cluster.startAll();
  await cluster.advance(15_000);
  const owner = cluster.node(cluster.addresses[0]!).ownerOf(S.groupedName);
  const away = cluster.addresses.find((a) => a !== owner)!;
  const stay = cluster.addresses.filter((a) => a !== away);
  for (const ip of ["192.0.2.50", "192.0.2.51"]) assert.equal((await cluster.write(owner, register(ip))).ok, true);
  await cluster.advance(10_000);
  for (const a of cluster.addresses) assert.deepEqual(ipsOn(cluster, a), ["192.0.2.50", "192.0.2.51"]);

  cluster.network.partition([away], stay);
  await cluster.advance(20_000);
  assert.equal((await cluster.write(owner, deregister("192.0.2.50"))).ok, true);
  // The away member owns everything on its side now: its write there is legitimate data.
  assert.equal((await cluster.write(away, register("192.0.2.77"))).ok, true);
  await cluster.advance(5 * TTL);
  assert.equal(tombstonesOn(cluster, owner), 1, "the removal is remembered while a member has not confirmed it");

  cluster.network.heal();
  await cluster.advance(60_000);
  for (const a of cluster.addresses) {
    assert.deepEqual(ipsOn(cluster, a), ["192.0.2.51", "192.0.2.77"], `${a}: nothing removed came back, nothing written was lost`);
  }
  const [first, ...rest] = cluster.running();
  for (const other of rest) assert.equal(firstDifference(first!.registry, other.registry), undefined);

  // Once every member has confirmed it, the tombstone goes everywhere (memory stays bounded).
  await cluster.advance(3 * TTL);
  for (const a of cluster.addresses) assert.equal(tombstonesOn(cluster, a), 0, `${a} purged the confirmed tombstone`);
  cluster.close();
});

test("every member purges at the same instants on the clock, whenever it started: a tombstone leaves all registries at once", async () => {
  const cluster = new SimCluster({ size: 2, seed: 6, configure: (c) => ({ ...c, tombstoneTtlMs: TTL }) });
  const [a, b] = cluster.addresses as [string, string];
  cluster.start(a);
  await cluster.advance(1_234); // b starts out of phase with a
  cluster.start(b);
  await cluster.advance(15_000);
  const owner = cluster.node(a).ownerOf(S.groupedName);
  assert.equal((await cluster.write(owner, register("192.0.2.60"))).ok, true);
  await cluster.advance(2_000);
  assert.equal((await cluster.write(owner, deregister("192.0.2.60"))).ok, true);
  await cluster.advance(TTL - 5_000);
  const purgedAt = new Map<string, number>();
  for (let t = 0; t < 40_000 && purgedAt.size < 2; t += 100) {
    await cluster.advance(100);
    for (const address of [a, b]) if (!purgedAt.has(address) && tombstonesOn(cluster, address) === 0) purgedAt.set(address, t);
    if (purgedAt.size === 1) assert.fail(`one member purged while the other kept the tombstone: ${[...purgedAt.keys()]}`);
  }
  assert.equal(purgedAt.size, 2, "both purged");
  cluster.close();
});
