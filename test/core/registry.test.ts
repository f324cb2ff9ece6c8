/** The registry's merge rules, entry by entry: what writes version, what peers' whole datums and deltas do, what a purge forgets. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { identityOf } from "../../src/core/instance.js";
import { Registry, type RegistryChange } from "../../src/core/registry.js";
import { DEFAULT_SERVICE_META, makeDatum, type InstanceEntry } from "../../src/core/service-datum.js";
import { testDatum, testInstance } from "../support/fixtures.js";

const KEY = "public##DEFAULT_GROUP@@orders";
const A = "127.0.0.1:8848";
const B = "127.0.0.2:8848";

function registry(self = A, start = 1_000) {
  let now = start;
  const r = new Registry(self, () => now);
  const changes: RegistryChange[] = [];
  r.onChange((c) => changes.push(c));
  return { r, changes, at: (t: number) => (now = t) };
}

const live = (ip: string, counter: number, writer = B): InstanceEntry => {
  const instance = testInstance(ip, 80);
  return { id: identityOf(instance), version: { counter, writer }, instance };
};
const gone = (ip: string, counter: number, writer = B): InstanceEntry => ({ ...live(ip, counter, writer), instance: undefined });
const delta = (entries: InstanceEntry[], metaCounter = 1, deleted = false) =>
  makeDatum(KEY, deleted, DEFAULT_SERVICE_META, { counter: metaCounter, writer: B }, entries);
const ips = (r: Registry): string[] => [...(r.liveService(KEY)?.instances() ?? [])].map((i) => i.ip).sort();

test("a new instance takes the clock, a change its own version plus one, a removal a tombstone at the clock", () => {
  const { r, at } = registry();
  const i = testInstance("192.0.2.1", 80);
  assert.equal(r.update(KEY, { put: [i] }), true);
  assert.deepEqual(r.service(KEY)!.entry(identityOf(i))!.version, { counter: 1_000, writer: A });
  assert.equal(r.update(KEY, { put: [i] }), false, "the same instance again changes nothing");
  at(5_000);
  r.update(KEY, { put: [{ ...i, weight: 3 }] });
  assert.deepEqual(r.service(KEY)!.entry(identityOf(i))!.version, { counter: 1_001, writer: A });
  r.update(KEY, { remove: [identityOf(i)] });
  const tomb = r.service(KEY)!.entry(identityOf(i))!;
  // The clock issued 5000 to the change (which kept its own version + 1), so the next write takes 5001.
  assert.deepEqual([tomb.instance, tomb.version], [undefined, { counter: 5_001, writer: A }]);
  assert.equal(r.instanceCount, 0);
});

test("equal content gives equal digests whatever order the entries arrived in; any entry change changes the digest", () => {
  const entries = [live("192.0.2.1", 10), live("192.0.2.2", 11), gone("192.0.2.3", 12)];
  const one = registry().r;
  const two = registry().r;
  for (const e of entries) one.apply(delta([e]));
  for (const e of [...entries].reverse()) two.apply(delta([e]));
  assert.equal(one.service(KEY)!.digest, two.service(KEY)!.digest);
  assert.deepEqual(one.get(KEY), two.get(KEY));
  assert.equal(one.service(KEY)!.digest, delta(entries).digest, "a record and a datum built at once agree");
  two.apply(delta([live("192.0.2.2", 13)]));
  assert.notEqual(one.service(KEY)!.digest, two.service(KEY)!.digest);
});

test("a delta merges entry by entry: newer wins, older and equal are ignored, absence removes nothing", () => {
  const { r, changes } = registry();
  assert.equal(r.apply(delta([live("192.0.2.1", 10), live("192.0.2.2", 10)])), "applied");
  changes.length = 0;
  assert.equal(r.apply(delta([live("192.0.2.1", 9), live("192.0.2.2", 10)])), "unchanged");
  assert.equal(r.apply(delta([gone("192.0.2.1", 11)])), "applied");
  assert.deepEqual(ips(r), ["192.0.2.2"], "the other instance, absent from the delta, stays");
  assert.equal(changes.length, 1);
  assert.equal(changes[0]!.entries.length, 1, "the change names only the entry that changed");
  assert.equal(r.apply(delta([live("192.0.2.1", 10)])), "unchanged", "a late copy never brings a removed instance back");
  assert.deepEqual(ips(r), ["192.0.2.2"]);
});

test("a delta for a service never seen creates it with what it carries; the rest comes later in any order", () => {
  const { r } = registry();
  r.apply(delta([live("192.0.2.2", 12)], 5));
  r.apply(testDatum(KEY, [testInstance("192.0.2.1", 80)], { counter: 5, writer: B }));
  assert.deepEqual(ips(r), ["192.0.2.1", "192.0.2.2"]);
});

test("a deletion removes every instance older than itself, from what is held and from what arrives late", () => {
  const { r } = registry();
  r.apply(delta([live("192.0.2.1", 10), live("192.0.2.2", 30)], 1));
  r.apply(delta([], 20, true));
  assert.equal(r.liveService(KEY), undefined);
  assert.deepEqual(
    [...r.service(KEY)!.instances()].map((i) => i.ip),
    ["192.0.2.2"],
    "an instance newer than the deletion survives it",
  );
  r.apply(delta([live("192.0.2.3", 15)], 1));
  assert.equal(r.service(KEY)!.entry(live("192.0.2.3", 15).id)!.instance, undefined, "arrives as the tombstone the deletion made of it");
  assert.equal(r.instanceCount, 0, "instances of a deleted service are not counted");
});

test("a purge forgets only tombstones older than the horizon, then deleted services with nothing left", () => {
  let horizon = 0;
  const r = new Registry(A, () => 1_000, { purgeBefore: () => horizon });
  r.apply(delta([gone("192.0.2.1", 10), gone("192.0.2.2", 50), live("192.0.2.3", 10)]));
  horizon = 20;
  r.purge();
  assert.deepEqual(
    [...r.service(KEY)!.entries()].map((e) => e.id.split(":")[0]),
    ["192.0.2.2", "192.0.2.3"],
  );
  r.apply(delta([gone("192.0.2.3", 60)], 55, true));
  horizon = 100;
  r.purge();
  assert.equal(r.service(KEY), undefined, "the deleted, emptied service is forgotten");
  r.apply(delta([gone("192.0.2.1", 10)], 55, true));
  assert.equal(r.service(KEY)?.tombstones, 0, "a tombstone older than the horizon is not taken back");
});

test("a write into a deleted service creates it again with default settings", () => {
  const { r, at } = registry();
  r.writeMeta(KEY, false, { ...DEFAULT_SERVICE_META, protectThreshold: 0.5 });
  r.update(KEY, { put: [testInstance("192.0.2.1", 80)] });
  at(2_000);
  r.writeMeta(KEY, true, DEFAULT_SERVICE_META);
  assert.equal(r.liveService(KEY), undefined);
  at(3_000);
  r.update(KEY, { put: [testInstance("192.0.2.2", 80)] });
  const s = r.liveService(KEY)!;
  assert.deepEqual([s.meta.protectThreshold, ips(r)], [0, ["192.0.2.2"]]);
});

test("removing a persistent instance this node does not hold leaves a tombstone its late copy loses to; ephemeral ones do not", () => {
  const { r } = registry(A, 2_000);
  const stored = testInstance("192.0.2.7", 80, "DEFAULT_GROUP@@orders", { ephemeral: false });
  const id = identityOf(stored);
  r.update(KEY, { remove: [id, identityOf(testInstance("192.0.2.8", 80))] });
  assert.equal(r.liveService(KEY), undefined, "a removal does not create the service");
  assert.deepEqual(r.serviceNames("public"), []);
  assert.deepEqual(
    r.get(KEY)!.entries.map((e) => [e.id, e.instance]),
    [[id, undefined]],
    "only the persistent one is remembered",
  );
  // The copy a node that was down kept in its data directory, written before the removal, shows up.
  r.apply(
    makeDatum(KEY, false, DEFAULT_SERVICE_META, { counter: 1_000, writer: B }, [
      { id, version: { counter: 1_500, writer: B }, instance: stored },
    ]),
  );
  assert.ok(r.liveService(KEY), "the service's own settings win over the removal's placeholder");
  assert.deepEqual(ips(r), [], "the removal wins over the older copy");
});
