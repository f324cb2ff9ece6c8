import assert from "node:assert/strict";
import { test } from "node:test";
import { estimateBytes } from "../../../src/core/datum-size.js";
import { silentLog } from "../../../src/core/log.js";
import { Registry } from "../../../src/core/registry.js";
import { DEFAULT_SERVICE_META } from "../../../src/core/service-datum.js";
import { DistroSync } from "../../../src/node/distro/distro-sync.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { PeerError, SYNC_ACCEPTED, type PeerTransport } from "../../../src/node/ports.js";
import type { ServiceDatum } from "../../../src/core/service-datum.js";
import { stubTransport } from "../../support/fixtures.js";

interface SentBatch {
  peer: string;
  at: number;
  keys: string[];
}

function fakeTransport(s: VirtualScheduler, behaviour: (peer: string) => "ok" | "fail" | number): { t: PeerTransport; sent: SentBatch[] } {
  const sent: SentBatch[] = [];
  const t = stubTransport({
    async sync(peer: string, datums: readonly ServiceDatum[]) {
      const b = behaviour(peer);
      if (b === "fail") throw new PeerError("refused", peer, "down");
      if (typeof b === "number") await new Promise<void>((r) => s.schedule(b, r));
      sent.push({ peer, at: s.now(), keys: datums.map((d) => d.key) });
      return SYNC_ACCEPTED;
    },
  });
  return { t, sent };
}

function registryWith(s: VirtualScheduler, keys: string[]): Registry {
  const r = new Registry("self", () => s.now());
  for (const k of keys) r.commit(k, { deleted: false, meta: DEFAULT_SERVICE_META, instances: [] });
  return r;
}

const config = {
  delayMs: 1000,
  minIntervalMs: 5,
  retryBaseMs: 3000,
  retryMaxMs: 30_000,
  maxKeys: 2,
  maxInstances: 1000,
  maxBytes: 1 << 20,
};

function distroSync(s: VirtualScheduler, t: PeerTransport, reg: Registry, over: Partial<typeof config> = {}): DistroSync {
  return new DistroSync(
    { scheduler: s, transport: t, read: (k) => reg.service(k), wholeOnly: () => false, log: silentLog },
    { ...config, ...over },
  );
}

test("changes go to every peer at once, in batches; a slow peer never delays another", async () => {
  const s = new VirtualScheduler(1, 0);
  const { t, sent } = fakeTransport(s, (peer) => (peer === "slow" ? 60_000 : "ok"));
  const reg = registryWith(s, ["k1", "k2", "k3"]);
  const sync = distroSync(s, t, reg);
  sync.setPeers(["fast", "slow"]);
  for (const k of ["k1", "k2", "k3", "k1"]) sync.syncToAll(k, []);
  await s.advance(100);
  const fast = sent.filter((b) => b.peer === "fast");
  assert.deepEqual(
    fast.map((b) => b.keys),
    [["k1", "k2"], ["k3"]],
    "batches of at most 2 keys, k1 merged",
  );
  assert.deepEqual(
    fast.map((b) => b.at),
    [0, 5],
    "no merge window for an idle peer: at once, the rest one minimum interval later",
  );
  assert.equal(sent.filter((b) => b.peer === "slow").length, 0);
  await s.advance(120_000);
  assert.deepEqual(
    sent.filter((b) => b.peer === "slow").map((b) => b.keys),
    [["k1", "k2"], ["k3"]],
  );
  sync.close();
});

test("failed keys retry with back-off while the peer is a member, and stop when it leaves", async () => {
  const s = new VirtualScheduler(1, 0);
  let down = true;
  const { t, sent } = fakeTransport(s, () => (down ? "fail" : "ok"));
  const reg = registryWith(s, ["k1"]);
  const sync = distroSync(s, t, reg);
  sync.setPeers(["p"]);
  sync.syncToAll("k1", []);
  await s.advance(3000 + 6000 + 100); // first try at once, retry after 3 s, then 6 s
  assert.equal(sync.failedBatches, 3);
  down = false;
  await s.advance(12_000);
  assert.deepEqual(
    sent.map((b) => b.keys),
    [["k1"]],
    "delivered once the peer answers",
  );
  down = true;
  sync.syncToAll("k1", []);
  await s.advance(1100);
  const failuresBefore = sync.failedBatches;
  sync.setPeers([]);
  await s.advance(120_000);
  assert.equal(sync.failedBatches, failuresBefore, "no retries to a peer that left");
  assert.equal(sync.pendingTasks, 0);
  sync.close();
});

test("batches stay within their byte budget, so one sync message stays within the message limit", async () => {
  const s = new VirtualScheduler(1, 0);
  const { t, sent } = fakeTransport(s, () => "ok");
  const reg = registryWith(s, ["k1", "k2", "k3", "k4"]);
  const oneDatum = estimateBytes(reg.get("k1")!);
  const sync = distroSync(s, t, reg, { maxKeys: 100, maxBytes: 2 * oneDatum });
  sync.setPeers(["p"]);
  for (const k of ["k1", "k2", "k3", "k4"]) sync.syncToAll(k, []);
  await s.advance(100);
  assert.deepEqual(
    sent.map((b) => b.keys),
    [
      ["k1", "k2"],
      ["k3", "k4"],
    ],
  );
  sync.close();
});

test("a datum the peer refuses is counted and not retried", async () => {
  const s = new VirtualScheduler(1, 0);
  let calls = 0;
  const t = stubTransport({
    async sync(_peer, datums) {
      calls++;
      return { refused: datums.map((d) => ({ key: d.key, reason: "version ahead of the receiver's clock" })) };
    },
  });
  const reg = registryWith(s, ["k1"]);
  const sync = distroSync(s, t, reg);
  sync.setPeers(["p"]);
  sync.syncToAll("k1", []);
  await s.advance(60_000);
  assert.equal(calls, 1);
  assert.equal(sync.refusedByPeers, 1);
  assert.equal(sync.failedBatches, 0);
  assert.equal(sync.pendingTasks, 0);
  sync.close();
});

test("flush sends what waits in the merge window at once, retries failures until the deadline, and skips unreachable peers", async () => {
  const s = new VirtualScheduler(1, 0);
  let flaky = 2;
  const { t, sent } = fakeTransport(s, (peer) => (peer === "down" ? "fail" : peer === "flaky" && flaky-- > 0 ? "fail" : "ok"));
  const reg = registryWith(s, ["k1", "k2"]);
  const sync = distroSync(s, t, reg, { delayMs: 60_000 });
  sync.setPeers(["up", "flaky", "down"]);
  sync.syncToAll("k1", []);
  sync.syncToAll("k2", []);
  const flushed = await s.runUntilSettled(
    sync.flush(5_000, (peer) => peer !== "down"),
    10_000,
  );
  assert.equal(flushed, true);
  assert.ok(s.now() < 1_000, `flushed within ${s.now()} ms, not after the 60 s window`);
  for (const peer of ["up", "flaky"])
    assert.deepEqual(
      sent
        .filter((b) => b.peer === peer)
        .flatMap((b) => b.keys)
        .sort(),
      ["k1", "k2"],
    );
  const stuck = distroSync(s, fakeTransport(s, () => "fail").t, reg);
  stuck.setPeers(["p"]);
  stuck.syncToAll("k1", []);
  const start = s.now();
  assert.equal(
    await s.runUntilSettled(
      stuck.flush(2_000, () => true),
      10_000,
    ),
    false,
    "an unreachable peer that is waited for times out",
  );
  assert.ok(s.now() - start >= 2_000);
  sync.close();
  stuck.close();
});

test("delivered waits for the chosen peers' answers to the batch carrying the key, at most the given time", async () => {
  const s = new VirtualScheduler(1, 0);
  const { t } = fakeTransport(s, (peer) => (peer === "slow" ? 5_000 : peer === "fast" ? 10 : 30));
  const reg = registryWith(s, ["k1", "k2"]);
  const sync = distroSync(s, t, reg);
  sync.setPeers(["fast", "other", "slow"]);
  const started = s.now();
  sync.syncToAll("k1", []);
  await s.runUntilSettled(
    sync.delivered("k1", (peer) => peer !== "slow", 1_000),
    10_000,
  );
  assert.equal(s.now() - started, 30, "until the slower of the peers waited for answered");
  sync.syncToAll("k2", []);
  const again = s.now();
  await s.runUntilSettled(
    sync.delivered("k2", () => true, 1_000),
    10_000,
  );
  assert.equal(s.now() - again, 1_000, "a slow peer holds the answer back for the given time at most");
  const idle = s.now();
  await s.runUntilSettled(
    sync.delivered("k1", () => true, 1_000),
    10_000,
  );
  assert.equal(s.now(), idle, "nothing of the key waiting: resolved at once");
  sync.close();
});

test("each peer's backlog: what waits for a peer that is down and its failed batches in a row; none for one keeping up", async () => {
  const s = new VirtualScheduler(1, 0);
  let downIsDown = true;
  const { t } = fakeTransport(s, (peer) => (peer === "down" && downIsDown ? "fail" : "ok"));
  const reg = registryWith(s, ["k1", "k2", "k3"]);
  const sync = distroSync(s, t, reg, { maxKeys: 10 });
  sync.setPeers(["up", "down", "quiet"]);
  for (const k of ["k1", "k2", "k3"]) sync.syncToAll(k, []);
  // Tries at 0, 3 s and 9 s (back-off 3 s, then 6 s).
  await s.advance(10_000);
  assert.deepEqual(Object.fromEntries(sync.peerBacklogs()), {
    up: { pending: 0, failures: 0 },
    down: { pending: 3, failures: 3 },
    quiet: { pending: 0, failures: 0 },
  });
  downIsDown = false;
  await s.advance(30_000);
  assert.deepEqual(sync.peerBacklogs().get("down"), { pending: 0, failures: 0 }, "caught up once it answers");
  sync.close();
});
