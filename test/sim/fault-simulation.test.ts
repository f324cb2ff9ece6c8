/**
 * The fault simulator on a fixed set of seeds (crashes, restarts, partitions, drops, duplicates, reordering,
 * mixed peer transports): every run must end converged with every invariant holding. Failing output names
 * the seed; `npm run sim -- --seeds 1 --seed S --transports T` replays it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runSimulation, type SimulationOptions } from "../../src/sim/simulation.js";

async function assertSeeds(seeds: number[], transports: SimulationOptions["transports"]): Promise<void> {
  const failures: string[] = [];
  for (const seed of seeds) {
    const r = await runSimulation({ seed, transports: transports! });
    if (!r.ok) failures.push(`seed ${seed} (${transports}): ${r.problems.slice(0, 3).join(" | ")}`);
  }
  assert.deepEqual(failures, []);
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

test("40 seeds with mixed peer transports (auto nodes beside gRPC-only or HTTP-only ones)", () => assertSeeds(range(1, 40), "mixed"));
test("10 seeds with every node on the Nacos 1.4 HTTP peer protocol", () => assertSeeds(range(1001, 10), "http"));
test("10 seeds with every node on gRPC", () => assertSeeds(range(2001, 10), "grpc"));
// Seeds that once failed (found among 30001-31000, the first 1,000 seeds run with 2.x clients in the simulator).
// 30205: a 2.x client's instance written by a non-owner voided the owner's confirmations, members' purges fell
// out of step and registries still differed by purged tombstones at the end (30227: the same, with gRPC nodes).
// 30909: a node killed while a forwarded persistent write waited for its peers still answered it (closing the
// node ended the wait), then came back on an empty disk: the simulator acknowledged a write no node held.
test("seeds that once failed", () => assertSeeds([30205, 30227, 30909], "mixed"));

test("the same seed replays the same run", async () => {
  const a = await runSimulation({ seed: 77 });
  const b = await runSimulation({ seed: 77 });
  assert.deepEqual(a.transports, b.transports);
  assert.deepEqual(a.stats, b.stats);
  assert.deepEqual(a.trace, b.trace);
  assert.ok(a.stats.crashes! + a.stats.partitions! > 0, "the run had faults");
  const c = await runSimulation({ seed: 78 });
  assert.notDeepEqual(a.trace, c.trace, "another seed is another run");
});
