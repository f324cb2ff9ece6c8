/**
 * Deltas that go wrong after the sender counted them delivered — lost, or merged seconds late behind the
 * changes sent after them (so before the datum they apply to) — leave no lasting difference: verify repairs
 * what was lost, and a late delta never moves anything back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ClientWrite } from "../../src/core/ops.js";
import { firstDifference } from "../../src/sim/registry-digest.js";
import { SimCluster } from "../../src/sim/sim-cluster.js";
import { CALM_NETWORK } from "../../src/sim/sim-network.js";
import { VersionMonotonicity } from "../../src/sim/invariants.js";
import { testSpec } from "../support/fixtures.js";

const register = (service: string, ip: string): ClientWrite => ({
  type: "register",
  service: { namespaceId: "public", groupedName: `DEFAULT_GROUP@@${service}` },
  instance: { ...testSpec(ip), ephemeral: false },
});

async function converged(cluster: SimCluster): Promise<string | undefined> {
  for (const node of cluster.running()) node.purge();
  const [first, ...rest] = cluster.running();
  for (const other of rest) {
    const diff = firstDifference(first!.registry, other.registry);
    if (diff !== undefined) return diff;
  }
  return undefined;
}

for (const fault of ["deltaLoss", "deltaDelay"] as const) {
  test(`every delta ${fault === "deltaLoss" ? "lost after its ack" : "merged seconds late"}: the cluster still converges`, async () => {
    const cluster = new SimCluster({ size: 3, seed: fault === "deltaLoss" ? 61 : 67, transportOf: () => "grpc" });
    const monotonic = new VersionMonotonicity();
    cluster.startAll();
    await cluster.advance(15_000);
    for (const node of cluster.running()) monotonic.watch(node, node.config.self);
    cluster.network.faults = { ...CALM_NETWORK, [fault]: 1 };
    // Several changes per service, so later deltas overtake (or stand in for) earlier ones.
    for (let round = 0; round < 3; round++) {
      for (let s = 0; s < 10; s++) {
        const via = cluster.addresses[(s + round) % 3]!;
        assert.equal((await cluster.write(via, register(`s${s}`, `198.51.100.${round + 1}`))).ok, true);
      }
      await cluster.advance(200);
    }
    assert.ok(cluster.network.deltaFaults > 0, "the fault was exercised");
    const during = await converged(cluster);
    assert.notEqual(during, undefined, "right after the writes the peers differ: the deltas went wrong");
    cluster.network.faults = { ...CALM_NETWORK };
    await cluster.advance(30_000);
    assert.equal(await converged(cluster), undefined);
    assert.equal(cluster.running()[0]!.registry.instanceCount, 30);
    assert.deepEqual(monotonic.violations, []);
    cluster.close();
  });
}
