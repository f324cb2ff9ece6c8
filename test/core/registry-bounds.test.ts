/**
 * What no peer message or client write can do to a registry: drag its clock far ahead (a version near 2^53 once
 * stopped replication cluster-wide), or grow one service beyond what a peer message can carry.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { identityOf } from "../../src/core/instance.js";
import { Registry } from "../../src/core/registry.js";
import { DEFAULT_SERVICE_META, makeDatum, type ServiceDatum } from "../../src/core/service-datum.js";
import { testInstance } from "../support/fixtures.js";

const NOW = 1_700_000_000_000;
const KEY = "public##DEFAULT_GROUP@@orders";

function datumAt(counter: number, ip = "192.0.2.1"): ServiceDatum {
  const i = testInstance(ip, 80);
  const version = { counter, writer: "127.0.0.2:8848" };
  return makeDatum(KEY, false, DEFAULT_SERVICE_META, version, [{ id: identityOf(i), version, instance: i }]);
}

const content = (...ips: string[]) => ({ deleted: false, meta: DEFAULT_SERVICE_META, instances: ips.map((ip) => testInstance(ip, 80)) });

test("a peer's version beyond the clock plus the allowed skew is refused, counted, and leaves the clock alone", () => {
  const r = new Registry("127.0.0.1:8848", () => NOW, { maxAheadMs: 60_000 });
  assert.equal(r.apply(datumAt(Number.MAX_SAFE_INTEGER - 10)), "ahead");
  assert.equal(r.apply(datumAt(NOW + 60_001)), "ahead");
  assert.equal(r.refusedAhead, 2);
  assert.equal(r.get(KEY), undefined, "nothing of a refused datum is kept");
  r.commit("public##DEFAULT_GROUP@@other", content("192.0.2.9"));
  assert.equal(r.service("public##DEFAULT_GROUP@@other")!.version.counter, NOW, "the next local write still takes the local clock");
});

test("a peer's version within the skew is merged and moves the clock only that far", () => {
  const r = new Registry("127.0.0.1:8848", () => NOW, { maxAheadMs: 60_000 });
  assert.equal(r.apply(datumAt(NOW + 30_000)), "applied");
  assert.equal(r.apply(datumAt(NOW + 30_000)), "unchanged");
  r.commit("public##DEFAULT_GROUP@@other", content("192.0.2.9"));
  assert.equal(r.service("public##DEFAULT_GROUP@@other")!.version.counter, NOW + 30_001, "a later local write orders after what was seen");
});

test("a write that would grow a service beyond the datum limit is refused and changes nothing; shrinking always works", () => {
  const r = new Registry("127.0.0.1:8848", () => NOW, { maxDatumBytes: 1_600 });
  const ips = Array.from({ length: 6 }, (_, n) => `192.0.2.${n + 1}`);
  r.commit(KEY, content(...ips.slice(0, 5)));
  const before = r.get(KEY)!;
  assert.throws(
    () => r.commit(KEY, content(...ips)),
    /would hold about \d+ bytes of data, more than the 1600 bytes a peer message carries/,
  );
  assert.deepEqual(r.get(KEY), before, "the refused write left the datum as it was");
  r.commit(KEY, content(...ips.slice(0, 4)));
  assert.equal(r.service(KEY)!.size, 4);
});
