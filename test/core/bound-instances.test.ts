/** The index of bound instances follows the registry, whoever changes it. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundInstances } from "../../src/core/bound-instances.js";
import { identityOf, type ConnectionBinding } from "../../src/core/instance.js";
import { Registry } from "../../src/core/registry.js";
import { makeDatum, DEFAULT_SERVICE_META } from "../../src/core/service-datum.js";
import { testInstance } from "../support/fixtures.js";

const KEY = "public##DEFAULT_GROUP@@orders";
const A: ConnectionBinding = { node: "127.0.0.1:8848", connectionId: "c-a" };
const B: ConnectionBinding = { node: "127.0.0.2:8848", connectionId: "c-b" };

function setup() {
  let now = 1_000_000;
  const registry = new Registry("127.0.0.1:8848", () => now);
  const bound = new BoundInstances(registry, () => now);
  return { registry, bound, tick: (ms: number) => (now += ms) };
}

const ids = (m: ReadonlyMap<string, number> | undefined) => [...(m?.keys() ?? [])].sort();

test("local writes, peers' datums and removals keep the index equal to the registry", () => {
  const { registry, bound, tick } = setup();
  const a1 = testInstance("192.0.2.1", 1, undefined, { connection: A });
  const plain = testInstance("192.0.2.9", 9);
  registry.update(KEY, { put: [a1, plain] });
  assert.deepEqual(ids(bound.idsOf(A, KEY)), [identityOf(a1)]);
  assert.equal(bound.size, 1, "a 1.x instance is not indexed");
  const seenAt = bound.idsOf(A, KEY)!.get(identityOf(a1))!;

  // A peer rebinds the instance to its own connection (a newer version), and adds one of its own.
  tick(1000);
  const rebound = { ...a1, connection: B };
  const b2 = testInstance("192.0.2.2", 2, undefined, { connection: B });
  const v = { counter: 1_000_900, writer: B.node };
  const entries = [rebound, b2].map((instance) => ({ id: identityOf(instance), version: v, instance }));
  registry.apply({ ...makeDatum(KEY, false, DEFAULT_SERVICE_META, v, entries), partial: true });
  assert.equal(bound.idsOf(A, KEY), undefined);
  assert.deepEqual(ids(bound.idsOf(B, KEY)), [identityOf(a1), identityOf(b2)].sort());
  assert.ok(bound.idsOf(B, KEY)!.get(identityOf(a1))! > seenAt, "the change time is this node's");
  assert.deepEqual([...bound.nodes()], [B.node]);
  assert.deepEqual([...bound.connectionsOf(B.node).keys()], [B.connectionId]);

  registry.update(KEY, { remove: [identityOf(b2)] });
  assert.deepEqual(ids(bound.idsOf(B, KEY)), [identityOf(a1)]);
  registry.writeMeta(KEY, true, DEFAULT_SERVICE_META);
  assert.equal(bound.size, 0, "deleting the service removes them all");
  assert.deepEqual([...bound.nodes()], []);
});
