/**
 * What a node keeps in its data directory and how it comes back: service settings and persistent entries
 * (tombstones too) with their versions, never ephemeral instances; a load merges by version and writes
 * nothing back (but a switch state or table row it had to re-version); what the registry forgets or purges, and
 * purged table removals, leave the disk too.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { identityOf } from "../../src/core/instance.js";
import { silentLog } from "../../src/core/log.js";
import { Registry } from "../../src/core/registry.js";
import { DEFAULT_SERVICE_META } from "../../src/core/service-datum.js";
import { ClusterTables } from "../../src/node/cluster-table.js";
import { Persistence } from "../../src/node/persistence.js";
import { SimDisk } from "../../src/sim/sim-disk.js";
import { testInstance } from "../support/fixtures.js";

const KEY = "public##DEFAULT_GROUP@@orders";
const META = {
  ...DEFAULT_SERVICE_META,
  protectThreshold: 0.5,
  metadata: { team: "pay" },
  selector: { type: "label" as const, expression: "CONSUMER.label.a = PROVIDER.label.a" },
};
const persistent = (ip: string) => testInstance(ip, 80, "DEFAULT_GROUP@@orders", { ephemeral: false, metadata: { zone: "a" }, weight: 2 });
const ephemeral = (ip: string) => testInstance(ip, 80);

function node(disk: SimDisk, now: number) {
  const registry = new Registry("127.0.0.1:8848", () => now);
  const tables = new ClusterTables("127.0.0.1:8848", { maxBytes: 1024 * 1024, maxAheadMs: 60_000 });
  const persistence = new Persistence(disk, registry, tables, silentLog);
  return { registry, tables, persistence };
}

const stored = (disk: SimDisk, prefix: string): Array<readonly [string, unknown]> =>
  [...disk.entries()].filter(([k]) => k.startsWith(prefix));

test("service settings and persistent entries, tombstones included, come back with their versions; ephemeral ones do not", () => {
  const disk = new SimDisk();
  const before = node(disk, 1_000_000);
  before.registry.commit(KEY, {
    deleted: false,
    meta: META,
    instances: [persistent("192.0.2.1"), persistent("192.0.2.2"), ephemeral("192.0.2.3")],
  });
  before.registry.commit(KEY, { deleted: false, meta: META, instances: [persistent("192.0.2.1"), ephemeral("192.0.2.3")] });
  const held = before.registry.get(KEY)!;

  const after = node(disk, 2_000_000);
  const changes = disk.changes;
  after.persistence.load(2_000_000);
  assert.equal(disk.changes, changes, "loading writes nothing back");
  const back = after.registry.get(KEY)!;
  assert.deepEqual(back.meta, META);
  assert.deepEqual(back.metaVersion, held.metaVersion);
  assert.deepEqual(
    back.instances.map((i) => i.ip),
    ["192.0.2.1"],
  );
  assert.deepEqual(back.instances[0], persistent("192.0.2.1"), "field for field");
  const removedId = identityOf(persistent("192.0.2.2"));
  const tombstone = back.entries.find((e) => e.id === removedId);
  assert.equal(tombstone?.instance, undefined, "the removal is remembered");
  assert.deepEqual(tombstone?.version, held.entries.find((e) => e.id === removedId)?.version);
  assert.equal(
    back.entries.some((e) => e.id === identityOf(ephemeral("192.0.2.3"))),
    false,
    "ephemeral instances stay in memory",
  );
});

test("a removal that reaches a restarted node after its load is kept, and is what the next restart finds", () => {
  const writer = node(new SimDisk(), 1_000_000);
  writer.registry.commit(KEY, { deleted: false, meta: META, instances: [persistent("192.0.2.1")] });
  const old = writer.registry.get(KEY)!;
  writer.registry.commit(KEY, { deleted: false, meta: META, instances: [] });
  const removal = writer.registry.get(KEY)!;

  const disk = new SimDisk();
  node(disk, 1_000_000).registry.apply(old);
  const restarted = node(disk, 2_000_000);
  restarted.persistence.load(2_000_000);
  assert.equal(restarted.registry.get(KEY)!.instances.length, 1, "the stored instance is back");
  restarted.registry.apply(removal);
  assert.equal(restarted.registry.get(KEY)!.instances.length, 0, "the newer removal wins");
  const again = node(disk, 3_000_000);
  again.persistence.load(3_000_000);
  assert.deepEqual(again.registry.get(KEY)!.instances, [], "nothing deleted comes back");
});

test("a forgotten service leaves the disk; purged tombstones leave it too", () => {
  const disk = new SimDisk();
  const { registry, persistence } = node(disk, 1_000_000);
  registry.commit(KEY, { deleted: false, meta: META, instances: [persistent("192.0.2.1")] });
  registry.commit(KEY, { deleted: false, meta: META, instances: [] });
  assert.equal(disk.size, 2, "the service's settings and one tombstone");
  persistence.purge(999_999);
  assert.equal(disk.size, 2, "a tombstone newer than the purge horizon stays");
  persistence.purge(Number.MAX_SAFE_INTEGER);
  assert.equal(disk.size, 1);
  registry.forget(KEY);
  assert.equal(disk.size, 0);
});

test("the switch state is saved and handed back by the load", () => {
  const disk = new SimDisk();
  const state = { version: { counter: 5, writer: "127.0.0.1:8848" }, updates: { clientBeatInterval: "7000", masters: "127.0.0.1" } };
  node(disk, 1).persistence.saveSwitches(state);
  assert.deepEqual(node(disk, 2).persistence.load(2), state);
});

test("a table row stored at 2^53 (before versions were bounded) loads back under a version of this node, and is stored so", () => {
  const disk = new SimDisk();
  const poisoned = {
    table: "namespaces",
    key: "dev",
    value: '{"name":"the operator\'s last change"}',
    version: { counter: 2 ** 53, writer: "127.0.0.2:8848" },
  };
  disk.put("t\u0000namespaces\u0000dev", poisoned);
  const now = 5_000_000;
  const { tables, persistence } = node(disk, now);
  persistence.load(now);
  assert.equal(tables.get("namespaces", "dev"), poisoned.value, "not skipped as an unknown shape");
  const expected = { ...poisoned, version: { counter: now, writer: "127.0.0.1:8848" } };
  assert.deepEqual(tables.all(), [expected]);
  assert.deepEqual(stored(disk, "t\u0000"), [["t\u0000namespaces\u0000dev", expected]], "what the next start finds");
});

test("table tombstones leave the disk when purged, and only those below the horizon", () => {
  const disk = new SimDisk();
  const { tables, persistence } = node(disk, 1_000);
  tables.set("users", "gone", "v", 1_000);
  const removal = tables.set("users", "gone", undefined, 2_000);
  tables.set("users", "later", "v", 3_000);
  tables.set("users", "later", undefined, 4_000);
  persistence.purge(removal.version.counter + 1);
  assert.deepEqual(
    stored(disk, "t\u0000").map(([k]) => k),
    ["t\u0000users\u0000later"],
  );
  // A tombstone loaded from the disk is purged from it too.
  const again = node(disk, 5_000);
  again.persistence.load(5_000);
  again.persistence.purge(Number.MAX_SAFE_INTEGER);
  assert.deepEqual(stored(disk, "t\u0000"), []);
});
