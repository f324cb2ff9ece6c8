/**
 * Switches and the cluster tables in a simulated cluster: a change on one node reaches every node through
 * member reports, survives a cold restart of every node from its data directory, and an older change made
 * on a node cut off from the others loses to the newer one once they meet again.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SimCluster } from "../../src/sim/sim-cluster.js";

test("a table row and a switch set on one node reach all, survive a restart of all from disk, and the newest wins", async () => {
  const cluster = new SimCluster({ size: 3, seed: 7 });
  cluster.startAll();
  await cluster.advance(15_000);
  const [a, b, c] = cluster.addresses as [string, string, string];
  const everywhere = () => cluster.running().map((n) => [n.tables.get("namespaces", "dev"), n.switches.clientBeatInterval]);

  await cluster.scheduler.runUntilSettled(cluster.node(a).setTableRow("namespaces", "dev", "v1"), 1_000);
  await cluster.scheduler.runUntilSettled(cluster.node(b).updateSwitch("clientBeatInterval", "6000"), 1_000);
  await cluster.advance(10_000);
  assert.deepEqual(everywhere(), [
    ["v1", 6000],
    ["v1", 6000],
    ["v1", 6000],
  ]);

  cluster.network.partition([c], [a, b]);
  await cluster.scheduler.runUntilSettled(cluster.node(c).setTableRow("namespaces", "dev", "older"), 1_000);
  await cluster.advance(1_000);
  await cluster.scheduler.runUntilSettled(cluster.node(a).setTableRow("namespaces", "dev", "newer"), 1_000);
  await cluster.advance(5_000);
  cluster.network.heal();
  await cluster.advance(10_000);
  assert.deepEqual(
    everywhere().map(([row]) => row),
    ["newer", "newer", "newer"],
  );

  for (const address of cluster.addresses) cluster.crash(address);
  for (const address of cluster.addresses) cluster.start(address);
  await cluster.advance(20_000);
  assert.deepEqual(everywhere(), [
    ["newer", 6000],
    ["newer", 6000],
    ["newer", 6000],
  ]);
  cluster.close();
});
