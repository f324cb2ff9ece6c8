/**
 * ConnectionGrace: what connections left behind when their node died (or in this node's previous life) goes
 * after the grace, and nothing else does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundInstances } from "../../../src/core/bound-instances.js";
import { type ConnectionBinding, identityOf } from "../../../src/core/instance.js";
import { LastBeats } from "../../../src/core/last-beats.js";
import { silentLog } from "../../../src/core/log.js";
import { NamingService } from "../../../src/core/naming-service.js";
import { Registry } from "../../../src/core/registry.js";
import { DEFAULT_SERVICE_META, makeDatum } from "../../../src/core/service-datum.js";
import { defaultSwitches } from "../../../src/core/switches.js";
import { ConnectionGrace } from "../../../src/node/clients/connection-grace.js";
import { MemberTable } from "../../../src/node/cluster/member-table.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { testInstance } from "../../support/fixtures.js";

const SELF = "127.0.0.1:8848";
const PEER = "127.0.0.2:8848";
const GRACE = 30_000;
const MINE = "public##DEFAULT_GROUP@@mine";
const THEIRS = "public##DEFAULT_GROUP@@theirs";

function setup() {
  const scheduler = new VirtualScheduler(5);
  const clock = () => scheduler.now();
  const registry = new Registry(SELF, clock);
  const bound = new BoundInstances(registry, clock);
  const naming = new NamingService(registry, new LastBeats(clock), defaultSwitches(), () => true, bound);
  const members = new MemberTable(SELF, [SELF, PEER], clock());
  const held = new Set<string>();
  const loading = { now: false };
  const grace = new ConnectionGrace(
    {
      self: SELF,
      bound,
      naming,
      members,
      responsible: (name) => name.endsWith("@@mine"),
      holds: (id) => held.has(id),
      registryComplete: () => !loading.now,
      scheduler,
      log: silentLog,
    },
    { graceMs: GRACE, sweepMs: 5000 },
  );
  grace.start();
  /** An instance bound to `binding`, as a peer's datum (or this node's own write, for this node) brings it. */
  const put = (key: string, ip: string, binding: ConnectionBinding) => {
    const instance = testInstance(ip, 8080, key.split("##")[1], { connection: binding });
    if (binding.node === SELF) return void registry.update(key, { put: [instance] });
    const version = { counter: scheduler.now(), writer: binding.node };
    registry.apply({
      ...makeDatum(key, false, DEFAULT_SERVICE_META, version, [{ id: identityOf(instance), version, instance }]),
      partial: true,
    });
  };
  const has = (key: string, ip: string) => registry.liveService(key)?.entry(identityOf(testInstance(ip, 8080)))?.instance !== undefined;
  const peerDown = () => {
    const m = members.get(PEER)!;
    m.state = "DOWN";
    m.failingSince = scheduler.now();
  };
  return { scheduler, members, held, loading, grace, put, has, peerDown };
}

test("a DOWN member's connections' instances go after the grace, from the services this node is responsible for only", async () => {
  const { scheduler, members, put, has, peerDown } = setup();
  const m = members.get(PEER)!;
  m.state = "UP";
  put(MINE, "192.0.2.1", { node: PEER, connectionId: "p1" });
  put(THEIRS, "192.0.2.2", { node: PEER, connectionId: "p1" });
  await scheduler.advance(GRACE * 2);
  assert.ok(has(MINE, "192.0.2.1"), "an UP holder's instances stay however old");
  peerDown();
  await scheduler.advance(GRACE - 5000);
  assert.ok(has(MINE, "192.0.2.1"), "within the grace they stay");
  await scheduler.advance(10_000);
  assert.equal(has(MINE, "192.0.2.1"), false, "removed once the holder is DOWN past the grace");
  assert.ok(has(THEIRS, "192.0.2.2"), "another node's service is its responsible node's to clean");
});

test("an instance its holder wrote while DOWN here (it is only cut off) waits a whole grace after that write", async () => {
  const { scheduler, put, has, peerDown } = setup();
  peerDown();
  put(MINE, "192.0.2.1", { node: PEER, connectionId: "p1" });
  await scheduler.advance(20_000);
  put(MINE, "192.0.2.1", { node: PEER, connectionId: "p2" }); // the holder put it back / the client re-registered there
  await scheduler.advance(GRACE - 5000);
  assert.ok(has(MINE, "192.0.2.1"), "still within a grace of its last change");
  await scheduler.advance(10_000);
  assert.equal(has(MINE, "192.0.2.1"), false);
});

test("a node removes its previous life's bindings after the grace, never those of connections it holds", async () => {
  const { scheduler, held, put, has } = setup();
  held.add("now-1");
  put(THEIRS, "192.0.2.1", { node: SELF, connectionId: "old-1" }); // from the snapshot of what peers held
  put(THEIRS, "192.0.2.2", { node: SELF, connectionId: "now-1" });
  await scheduler.advance(GRACE - 5000);
  assert.ok(has(THEIRS, "192.0.2.1"), "its client may still reconnect and register again");
  await scheduler.advance(10_000);
  assert.equal(has(THEIRS, "192.0.2.1"), false, "an orphan of this node goes, whoever owns the service");
  assert.ok(has(THEIRS, "192.0.2.2"));
});

test("bindings to an address that is no member go after the grace; nothing goes while the node is still loading", async () => {
  const { scheduler, loading, put, has } = setup();
  loading.now = true;
  put(MINE, "192.0.2.1", { node: "127.0.0.9:8848", connectionId: "x" });
  await scheduler.advance(GRACE * 2);
  assert.ok(has(MINE, "192.0.2.1"), "a loading node decides nothing on a partial view");
  loading.now = false;
  await scheduler.advance(10_000);
  assert.equal(has(MINE, "192.0.2.1"), false);
});
