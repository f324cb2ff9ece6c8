import assert from "node:assert/strict";
import { test } from "node:test";
import type { MemberState } from "../../src/node/cluster/member.js";
import { SimCluster } from "../../src/sim/sim-cluster.js";
import { healthySeenBy, stateSeenBy } from "./support.js";

test("members start DOWN, become UP after a report exchange, and everyone computes the same view", async () => {
  const cluster = new SimCluster({ size: 3, seed: 5 });
  cluster.startAll();
  const [a, b, c] = cluster.addresses as [string, string, string];
  assert.equal(stateSeenBy(cluster, a, b), "DOWN");
  await cluster.advance(3_000);
  for (const x of [a, b, c]) for (const y of [a, b, c]) assert.equal(stateSeenBy(cluster, x, y), "UP", `${x} sees ${y}`);
  const hashes = cluster.running().map((n) => n.selfInfo().viewHash);
  assert.equal(new Set(hashes).size, 1);
  cluster.close();
});

test("a crashed peer (connection refused) is DOWN at once; a silent one goes SUSPICIOUS then DOWN within the bound", async () => {
  const cluster = new SimCluster({ size: 3, seed: 9 });
  cluster.startAll();
  await cluster.advance(15_000);
  const [a, b, c] = cluster.addresses as [string, string, string];
  cluster.crash(c);
  let cDownAt = -1;
  for (let t = 0; t < 10_000 && cDownAt < 0; t += 100) {
    await cluster.advance(100);
    if (stateSeenBy(cluster, a, c) === "DOWN") cDownAt = t + 100;
  }
  assert.ok(cDownAt > 0 && cDownAt <= 4_100, `refused → DOWN on the next probe, took ${cDownAt}`);
  // b stops answering a (messages lost, not refused): timeouts
  cluster.network.block(a, b);
  const seen: MemberState[] = [];
  let bDownAt = -1;
  for (let t = 0; t < 30_000 && bDownAt < 0; t += 100) {
    await cluster.advance(100);
    const s = stateSeenBy(cluster, a, b)!;
    if (seen.at(-1) !== s) seen.push(s);
    if (s === "DOWN") bDownAt = t + 100;
  }
  assert.deepEqual(seen, ["UP", "SUSPICIOUS", "DOWN"]);
  assert.ok(bDownAt <= 16_000, `SUSPICIOUS never lasts past the bound, DOWN after ${bDownAt}`);
  assert.deepEqual(healthySeenBy(cluster, a), [a], "a's healthy list is only itself now");
  cluster.network.heal();
  await cluster.advance(6_000);
  assert.equal(stateSeenBy(cluster, a, b), "UP", "a peer that answers again is UP");
  cluster.close();
});
