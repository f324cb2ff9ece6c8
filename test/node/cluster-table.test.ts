/**
 * The cluster tables: each row's newest version wins whatever order rows arrive in, edits of different rows on
 * different nodes both survive, a removal is a versioned tombstone, and nothing beyond the limits gets in.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NacosError } from "../../src/core/errors.js";
import { TABLE_LIMITS } from "../../src/node/cluster/member.js";
import { ClusterTables } from "../../src/node/cluster-table.js";

const A = "127.0.0.1:8848";
const B = "127.0.0.2:8848";

test("rows set on two nodes merge row by row; the newest version of a row wins in any order; removals travel", () => {
  const a = new ClusterTables(A);
  const b = new ClusterTables(B);
  a.set("namespaces", "dev", '{"name":"Dev"}', 1_000);
  b.set("namespaces", "prod", '{"name":"Prod"}', 1_000);
  const renamed = a.set("namespaces", "dev", '{"name":"Development"}', 900);
  assert.ok(renamed.version.counter > 1_000, "above every version this node saw, whatever its clock");
  b.merge(a.all());
  a.merge(b.all());
  for (const t of [a, b]) {
    assert.deepEqual(t.entries("namespaces"), [
      ["dev", '{"name":"Development"}'],
      ["prod", '{"name":"Prod"}'],
    ]);
  }
  const removed = b.set("namespaces", "dev", undefined, 2_000);
  assert.deepEqual(a.merge([removed]), [removed]);
  assert.equal(a.get("namespaces", "dev"), undefined);
  assert.deepEqual(a.merge([renamed]), [], "an older row does not bring the removed one back");
  assert.equal(a.get("namespaces", "dev"), undefined);
});

test("rows beyond the limits are refused from an operator (400) and skipped from a peer", () => {
  const t = new ClusterTables(A);
  assert.throws(() => t.set("users", "x".repeat(TABLE_LIMITS.keyChars + 1), "v", 1), NacosError);
  assert.throws(() => t.set("users", "bob", "v".repeat(TABLE_LIMITS.valueChars + 1), 1), NacosError);
  assert.throws(() => t.set("", "bob", "v", 1), NacosError);
  const version = { counter: 5, writer: B };
  const taken = t.merge([
    { table: "users", key: "", value: "v", version },
    { table: "users", key: "ok", value: "v", version },
  ]);
  assert.deepEqual(
    taken.map((r) => r.key),
    ["ok"],
  );
});

test("the tables hold at most TABLE_LIMITS.rows rows; an existing row can always change", () => {
  const t = new ClusterTables(A);
  const rows = Array.from({ length: TABLE_LIMITS.rows }, (_, i) => ({
    table: "users",
    key: `u${i}`,
    value: "v",
    version: { counter: 1, writer: B },
  }));
  assert.equal(t.merge(rows).length, TABLE_LIMITS.rows);
  assert.throws(() => t.set("users", "one-more", "v", 2), /most allowed/);
  assert.equal(t.merge([{ table: "users", key: "one-more", value: "v", version: { counter: 3, writer: B } }]).length, 0);
  t.set("users", "u0", "changed", 4);
  assert.equal(t.get("users", "u0"), "changed");
});
