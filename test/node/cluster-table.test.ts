/**
 * The cluster tables: each row's newest version wins whatever order rows arrive in, edits of different rows on
 * different nodes both survive, a removal is a versioned tombstone, nothing beyond the limits gets in (the bytes
 * a report carries included), no version from a peer runs ahead of the clock, and tombstones are forgotten once
 * every member holds them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NacosError } from "../../src/core/errors.js";
import { TABLE_LIMITS, type TableRow } from "../../src/node/cluster/member.js";
import { ClusterTables, rowBytes } from "../../src/node/cluster-table.js";

const A = "127.0.0.1:8848";
const B = "127.0.0.2:8848";
const SKEW = 60_000;
const MiB = 1024 * 1024;
const tables = (self: string, maxBytes = MiB) => new ClusterTables(self, { maxBytes, maxAheadMs: SKEW });
const row = (key: string, value: string | undefined, counter: number, writer = B): TableRow => ({
  table: "users",
  key,
  value,
  version: { counter, writer },
});

test("rows set on two nodes merge row by row; the newest version of a row wins in any order; removals travel", () => {
  const a = tables(A);
  const b = tables(B);
  a.set("namespaces", "dev", '{"name":"Dev"}', 1_000);
  b.set("namespaces", "prod", '{"name":"Prod"}', 1_000);
  const renamed = a.set("namespaces", "dev", '{"name":"Development"}', 900);
  assert.ok(renamed.version.counter > 1_000, "above every version this node saw, whatever its clock");
  b.merge(a.all(), 1_000);
  a.merge(b.all(), 1_000);
  for (const t of [a, b]) {
    assert.deepEqual(t.entries("namespaces"), [
      ["dev", '{"name":"Development"}'],
      ["prod", '{"name":"Prod"}'],
    ]);
  }
  const removed = b.set("namespaces", "dev", undefined, 2_000);
  assert.deepEqual(a.merge([removed], 2_000).taken, [removed]);
  assert.equal(a.get("namespaces", "dev"), undefined);
  assert.deepEqual(a.merge([renamed], 2_000).taken, [], "an older row does not bring the removed one back");
  assert.equal(a.get("namespaces", "dev"), undefined);
});

test("rows beyond the limits are refused from an operator (400) and skipped from a peer", () => {
  const t = tables(A);
  assert.throws(() => t.set("users", "x".repeat(TABLE_LIMITS.keyChars + 1), "v", 1), NacosError);
  assert.throws(() => t.set("users", "bob", "v".repeat(TABLE_LIMITS.valueChars + 1), 1), NacosError);
  assert.throws(() => t.set("", "bob", "v", 1), NacosError);
  const { taken, refused } = t.merge([row("", "v", 5), row("ok", "v", 5)], 5);
  assert.deepEqual(
    taken.map((r) => r.key),
    ["ok"],
  );
  assert.equal(refused.length, 1);
});

test("the tables hold at most TABLE_LIMITS.rows rows; an existing row can always change", () => {
  const t = tables(A, 64 * MiB);
  const rows = Array.from({ length: TABLE_LIMITS.rows }, (_, i) => row(`u${i}`, "v", 1));
  assert.equal(t.merge(rows, 1).taken.length, TABLE_LIMITS.rows);
  assert.throws(() => t.set("users", "one-more", "v", 2), /most allowed/);
  assert.equal(t.merge([row("one-more", "v", 3)], 3).taken.length, 0);
  t.set("users", "u0", "changed", 4);
  assert.equal(t.get("users", "u0"), "changed");
});

test("the tables hold at most maxBytes as a report encodes them, tombstones included; a removal always fits", () => {
  const value = "v".repeat(200);
  const one = rowBytes(row("u0000", value, 1_000, A));
  const t = tables(A, one * 10);
  for (let i = 0; i < 10; i++) t.set("users", `u${String(i).padStart(4, "0")}`, value, 1_000);
  assert.equal(
    t.bytes,
    JSON.stringify(t.all().map((r) => ({ ...r, value: r.value ?? null }))).length - 10 - 1,
    "what a report carries, row by row",
  );
  assert.throws(
    () => t.set("users", "u0010", value, 1_000),
    (err: unknown) => err instanceof NacosError && /bytes, more than/.test(err.message),
  );
  assert.throws(() => t.set("users", "u0000", `${value}more`, 1_000), /bytes, more than/, "a row may not grow past the bound either");
  assert.equal(t.merge([row("u0010", value, 1_000)], 1_000).refused.length, 1, "nor from a peer");
  for (let i = 0; i < 10; i++) t.set("users", `u${String(i).padStart(4, "0")}`, undefined, 1_001);
  assert.equal(t.entries("users").length, 0, "every removal fits");
  assert.ok(t.bytes < one * 10);
  assert.equal(t.set("users", "u0000", value, 1_002).value, value, "a removed row's room is its own again");
  const fresh = (i: number) => `n${String(i).padStart(4, "0")}`;
  let created = 0;
  while (created < 10 && tryCreate(t, fresh(created), value, 1_003)) created++;
  assert.ok(created < 9, `the tombstones count until they are purged (${created} new rows fitted beside them)`);
  assert.equal(t.purge(10_000), 9);
  while (created < 9 && tryCreate(t, fresh(created), value, 1_004)) created++;
  assert.equal(t.entries("users").length, 10, "after the purge, the full bound is free again");
});

function tryCreate(t: ClusterTables, key: string, value: string, now: number): boolean {
  try {
    t.set("users", key, value, now);
    return true;
  } catch (err) {
    if (err instanceof NacosError && /bytes, more than/.test(err.message)) return false;
    throw err;
  }
}

test("a peer's row whose version is not a safe integer or is ahead of the clock is refused, alone; the clock does not follow it", () => {
  const t = tables(A);
  const now = 1_000_000;
  const { taken, refused } = t.merge(
    [
      row("far", "x", now + SKEW + 1),
      row("huge", "x", 2 ** 53),
      row("negative", "x", -1),
      row("long-writer", "x", now, "w".repeat(300)),
      row("fine", "x", now + SKEW),
    ],
    now,
  );
  assert.deepEqual(
    taken.map((r) => r.key),
    ["fine"],
  );
  assert.equal(refused.length, 4);
  assert.equal(t.get("users", "far"), undefined);
  const next = t.set("users", "mine", "v", now);
  assert.equal(next.version.counter, now + SKEW + 1, "versions here go on from the last row taken, not from a refused one");
});

test("stored rows no peer would take are restored under a new version of this node, not lost", () => {
  const t = tables(A);
  const now = 5_000_000;
  const { restamped } = t.restore([row("ok", "kept", now - 1), row("poisoned", "operator's last change", 2 ** 53)], now);
  assert.equal(t.get("users", "poisoned"), "operator's last change");
  assert.equal(t.get("users", "ok"), "kept");
  assert.deepEqual(
    restamped.map((r) => [r.key, r.version]),
    [["poisoned", { counter: now, writer: A }]],
  );
});

test("a peer confirms a tombstone by holding it or something newer; a late tombstone of a forgotten row is not taken back", () => {
  const a = tables(A);
  a.set("users", "live", "v", 100);
  const t1 = a.set("users", "gone-1", undefined, 200);
  const t2 = a.set("users", "gone-2", undefined, 300);
  assert.equal(a.confirmedBy([]), t1.version.counter - 1, "a peer holding nothing holds none of the removals");
  assert.equal(a.confirmedBy([row("gone-1", "old", 150)]), t1.version.counter - 1, "an older live row is not the removal");
  assert.equal(a.confirmedBy([t1]), t2.version.counter - 1);
  assert.equal(a.confirmedBy([t1, row("gone-2", "recreated", 400)]), Number.MAX_SAFE_INTEGER, "a newer row counts");
  assert.equal(a.purge(t2.version.counter), 1);
  assert.deepEqual(
    a.all().map((r) => r.key),
    ["live", "gone-2"],
  );
  assert.deepEqual(a.merge([t1], 300).taken, [], "a purged removal coming back late is not taken again");
  assert.deepEqual(a.merge([row("gone-1", "new", 301)], 301).taken.length, 1, "a live row is");
});
