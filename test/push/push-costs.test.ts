import assert from "node:assert/strict";
import { test } from "node:test";
import { PUSH_COST_WINDOW_MS, PushCosts } from "../../src/push/push-costs.js";

const W = PUSH_COST_WINDOW_MS;

test("push costs: the last complete 15-s window's longest and mean cost, -1 when nothing was acked in it", () => {
  const costs = new PushCosts(0);
  assert.deepEqual(costs.read(0), { maxMs: -1, avgMs: -1 }, "nothing yet");
  costs.record(10, 1_000);
  costs.record(25, 2_000);
  costs.record(6, 3_000);
  assert.deepEqual(costs.read(W - 1), { maxMs: -1, avgMs: -1 }, "the window is not complete yet");
  assert.deepEqual(costs.read(W), { maxMs: 25, avgMs: 13 }, "mean in whole ms, as 1.4's long division");
  assert.deepEqual(costs.read(2 * W - 1), { maxMs: 25, avgMs: 13 }, "every reader sees the same numbers");
  assert.deepEqual(costs.read(2 * W), { maxMs: -1, avgMs: -1 }, "a window without acks reads as none");
  costs.record(40, 2 * W + 5);
  assert.deepEqual(costs.read(3 * W + 100), { maxMs: 40, avgMs: 40 });
  assert.deepEqual(costs.read(10 * W), { maxMs: -1, avgMs: -1 }, "a long quiet spell leaves nothing behind");
});
