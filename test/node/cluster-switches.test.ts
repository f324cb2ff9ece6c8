/**
 * Switches as one cluster-wide value: an operator's change bumps the version, the newest version wins on
 * every node, and what a peer (or a damaged file) sends passes the same validation as the API.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLog } from "../../src/core/log.js";
import { defaultSwitches } from "../../src/core/switches.js";
import { ClusterSwitches } from "../../src/node/cluster-switches.js";

const A = "127.0.0.1:8848";
const B = "127.0.0.2:8848";
const SKEW = 60_000;
const NOW = 10_000;

test("a change here is versioned above the clock and every earlier change; a peer adopts only what is newer", () => {
  const a = new ClusterSwitches(A, SKEW, silentLog);
  const b = new ClusterSwitches(B, SKEW, silentLog);
  const first = a.update("clientBeatInterval", "7000", 1_000);
  assert.deepEqual(first.version, { counter: 1_000, writer: A });
  const second = a.update("pushEnabled", "false", 500);
  assert.equal(second.version.counter, 1_001, "never below the previous version, whatever the clock says");
  assert.equal(b.adopt(second, A, NOW), true);
  assert.equal(b.switches.clientBeatInterval, 7_000);
  assert.equal(b.switches.pushEnabled, false);
  assert.equal(b.adopt(first, A, NOW), false, "an older state is ignored");
  assert.equal(b.switches.pushEnabled, false);
  const third = b.update("pushEnabled", "true", 900);
  assert.equal(a.adopt(third, B, NOW), true);
  assert.equal(a.switches.pushEnabled, true);
  assert.equal(a.switches.clientBeatInterval, 7_000, "earlier updates travel with the later ones");
});

test("a peer's state is rebuilt from the defaults through the API's validation: what the API refuses is dropped", () => {
  const node = new ClusterSwitches(B, SKEW, silentLog);
  node.update("defaultCacheMillis", "5000", 1);
  const hostile = {
    version: { counter: 10, writer: A },
    updates: { clientBeatInterval: "1", pushEnabled: "false", __proto__: "x", constructor: "y", nonsense: "z" } as Record<string, string>,
  };
  Object.defineProperty(hostile.updates, "__proto__", { value: "x", enumerable: true });
  assert.equal(node.adopt(hostile, A, NOW), true);
  assert.equal(node.switches.clientBeatInterval, defaultSwitches().clientBeatInterval, "1 ms beats are refused as by the API");
  assert.equal(node.switches.pushEnabled, false);
  assert.equal(node.switches.defaultCacheMillis, defaultSwitches().defaultCacheMillis, "the newer state replaces the older one whole");
  assert.deepEqual(node.state.updates, { pushEnabled: "false" }, "only what passed is passed on");
  assert.equal(Object.getPrototypeOf(node.switches), Object.prototype);
});

test("a peer's state versioned ahead of the clock (or past 2^53) is refused; one stored so is kept under a version of this node", () => {
  const node = new ClusterSwitches(A, SKEW, silentLog);
  const ahead = { version: { counter: NOW + SKEW + 1, writer: B }, updates: { pushEnabled: "false" } };
  assert.equal(node.adopt(ahead, B, NOW), false);
  assert.equal(node.adopt({ ...ahead, version: { counter: 2 ** 53, writer: B } }, B, NOW), false);
  assert.equal(node.switches.pushEnabled, true);
  assert.equal(node.update("clientBeatInterval", "6000", NOW).version.counter, NOW, "the clock did not follow the refused versions");

  const restarted = new ClusterSwitches(A, SKEW, silentLog);
  const restamped = restarted.restore({ version: { counter: 2 ** 53, writer: B }, updates: { clientBeatInterval: "7000" } }, NOW);
  assert.deepEqual(restamped, { version: { counter: NOW, writer: A }, updates: { clientBeatInterval: "7000" } });
  assert.equal(restarted.switches.clientBeatInterval, 7000, "the operator's last change is kept");
  assert.equal(new ClusterSwitches(A, SKEW, silentLog).restore({ version: { counter: NOW - 1, writer: B }, updates: {} }, NOW), undefined);
});
