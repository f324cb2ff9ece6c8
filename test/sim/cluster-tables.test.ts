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

const NOBODY = "127.0.0.9:8848";

test("only members spread switches and rows; a version ahead of the clock is refused alone, the member stays UP", async () => {
  const cluster = new SimCluster({ size: 2, seed: 11 });
  cluster.startAll();
  await cluster.advance(15_000);
  const [a, b] = cluster.addresses as [string, string];
  const now = cluster.scheduler.now();
  const evil = { table: "users", key: "evil", value: '{"password":"x"}', version: { counter: now, writer: NOBODY } };
  const outsider = {
    ...cluster.node(b).selfInfo(),
    address: NOBODY,
    switches: { version: { counter: now, writer: NOBODY }, updates: { pushEnabled: "false" } },
    tables: [evil],
  };
  cluster.node(a).onReport(outsider);
  await cluster.advance(10_000);
  for (const node of cluster.running()) {
    assert.equal(node.tables.get("users", "evil"), undefined, "a non-member's row is not taken");
    assert.equal(node.switches.pushEnabled, true, "nor its switches");
  }

  // A member's report carrying a far-future switch state and row: those are refused, the rest of it is taken.
  const far = now + 3_600_000;
  const poisoned = {
    ...cluster.node(b).selfInfo(),
    switches: { version: { counter: far, writer: b }, updates: { pushEnabled: "false" } },
    tables: [
      { table: "users", key: "late", value: "v", version: { counter: 2 ** 53, writer: b } },
      { table: "users", key: "fine", value: "v", version: { counter: now, writer: b } },
    ],
  };
  cluster.node(a).onReport(poisoned);
  await cluster.advance(10_000);
  const nodeA = cluster.node(a);
  assert.equal(nodeA.switches.pushEnabled, true);
  assert.equal(nodeA.tables.get("users", "late"), undefined);
  assert.equal(nodeA.tables.get("users", "fine"), "v", "the rest of the report is taken");
  assert.deepEqual(
    nodeA.cluster().members.map((m) => m.state),
    ["UP", "UP"],
  );
  await cluster.scheduler.runUntilSettled(nodeA.updateSwitch("clientBeatInterval", "6000"), 1_000);
  await cluster.advance(10_000);
  assert.ok(
    nodeA.cluster().selfInfo.switches!.version.counter < far,
    "the operator's change is versioned by the clock, not after the refused one",
  );
  assert.equal(cluster.node(b).switches.clientBeatInterval, 6000, "and reaches the other member");
  cluster.close();
});

test("the tables are bounded in bytes; removals are forgotten once every member holds them, not while one is down; then there is room again", async () => {
  const ttl = 60_000;
  const cluster = new SimCluster({ size: 3, seed: 5, configure: (c) => ({ ...c, maxTableBytes: 12_000, tombstoneTtlMs: ttl }) });
  cluster.startAll();
  await cluster.advance(15_000);
  const [a, b, c] = cluster.addresses as [string, string, string];
  const fill = async (at: string, prefix: string): Promise<number> => {
    for (let i = 0; i < 1_000; i++) {
      try {
        await cluster.scheduler.runUntilSettled(
          cluster.node(at).setTableRow("namespaces", `${prefix}${i}`, JSON.stringify({ name: `namespace ${i}` })),
          1_000,
        );
      } catch (err) {
        assert.match((err as Error).message, /bytes, more than the 12000 allowed/);
        return i;
      }
    }
    assert.fail("the bound never refused a row");
  };
  const rows = await fill(a, "ns-");
  assert.ok(rows > 50, `${rows} rows fit in 12,000 bytes`);
  await cluster.advance(10_000);
  for (const node of cluster.running()) {
    assert.equal(node.tables.entries("namespaces").length, rows);
    assert.ok(node.tables.bytes <= 12_000);
    assert.deepEqual(
      node.cluster().members.map((m) => m.state),
      ["UP", "UP", "UP"],
    );
  }

  cluster.crash(c);
  await cluster.advance(15_000);
  for (let i = 0; i < rows; i++)
    await cluster.scheduler.runUntilSettled(cluster.node(b).setTableRow("namespaces", `ns-${i}`, undefined), 1_000);
  await cluster.advance(ttl * 4);
  for (const address of [a, b]) {
    assert.equal(cluster.node(address).tables.all().length, rows, "a member that is down (and last held the rows) holds the purge back");
  }

  cluster.start(c);
  await cluster.advance(ttl * 4);
  for (const node of cluster.running()) assert.equal(node.tables.all().length, 0, "every removal is forgotten once every member holds it");
  for (const address of cluster.addresses) cluster.crash(address);
  for (const address of cluster.addresses)
    assert.equal(cluster.start(address).tables.all().length, 0, "and is gone from the data directory");
  await cluster.advance(15_000);
  assert.equal(await fill(c, "re-"), rows, "the whole bound is free again");
  cluster.close();
});
