import assert from "node:assert/strict";
import { test } from "node:test";
import { DURATION_BUCKETS_SECONDS, DurationHistogram } from "../../../src/transport/nacos2/duration-histogram.js";

test("durations land in the first bucket whose bound is not below them; buckets read cumulative, with sum and count", () => {
  const h = new DurationHistogram();
  for (const seconds of [0.0001, 0.0005, 0.0007, 0.003, 20]) h.observe(seconds);
  const { buckets, sumSeconds, count } = h.summary();
  assert.deepEqual(
    buckets.map(([bound]) => bound),
    DURATION_BUCKETS_SECONDS,
  );
  const below = new Map(buckets);
  assert.equal(below.get(0.0005), 2, "a bound is inclusive (le)");
  assert.equal(below.get(0.001), 3);
  assert.equal(below.get(0.005), 4);
  assert.equal(below.get(10), 4, "20 s is above every bound: only +Inf (count) holds it");
  assert.equal(count, 5);
  assert.ok(Math.abs(sumSeconds - 20.0043) < 1e-9, String(sumSeconds));
});
