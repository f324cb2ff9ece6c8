/**
 * One peer's lane: sends at once when idle and merges while busy, carries only changed entries (whole services
 * when asked or to a 1.4 peer), keeps every batch within its limits, and pauses with back-off after a failure.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { estimateBytes } from "../../../src/core/datum-size.js";
import { identityOf } from "../../../src/core/instance.js";
import { Registry } from "../../../src/core/registry.js";
import type { ServiceDatum } from "../../../src/core/service-datum.js";
import { type LaneConfig, PeerSyncQueue } from "../../../src/node/distro/peer-sync-queue.js";
import { PeerError, SYNC_ACCEPTED } from "../../../src/node/ports.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { stubTransport, testInstance } from "../../support/fixtures.js";

const PEER = "127.0.0.2:8848";
const WIDE: LaneConfig = {
  maxKeys: 1000,
  maxInstances: 1_000_000,
  maxBytes: 1 << 30,
  maxDelayMs: 1000,
  minIntervalMs: 0,
  retryBaseMs: 3000,
  retryMaxMs: 30_000,
};
const k = (name: string): string => `public##DEFAULT_GROUP@@${name}`;

interface Sent {
  readonly at: number;
  readonly datums: ServiceDatum[];
}

/** A lane over a real registry and a transport whose calls take `rttMs` of virtual time (or fail). */
function lane(config: Partial<LaneConfig> = {}, options: { rttMs?: number; wholeOnly?: boolean } = {}) {
  const scheduler = new VirtualScheduler(1, 0);
  const registry = new Registry("127.0.0.1:8848", () => scheduler.now());
  const sent: Sent[] = [];
  const failures: number[] = [];
  let failing = false;
  const transport = stubTransport({
    async sync(peer, datums) {
      sent.push({ at: scheduler.now(), datums: [...datums] });
      await new Promise<void>((resolve) => scheduler.schedule(options.rttMs ?? 5, resolve));
      if (failing) throw new PeerError("refused", peer, "down");
      return SYNC_ACCEPTED;
    },
  });
  const queue = new PeerSyncQueue(
    {
      peer: PEER,
      transport,
      scheduler,
      read: (key) => registry.service(key),
      wholeOnly: () => options.wholeOnly ?? false,
      onSent: () => {},
      onFailure: (_keys, n) => failures.push(n),
    },
    { ...WIDE, ...config },
  );
  /** Registers `count` instances into `name` and hands the change to the lane, as the node does. */
  const write = (name: string, ...ips: string[]): void => {
    const put = ips.map((ip) => testInstance(ip, 80, `DEFAULT_GROUP@@${name}`));
    registry.update(k(name), { put });
    queue.add(
      k(name),
      put.map((i) => identityOf(i)),
    );
  };
  return { scheduler, registry, queue, sent, failures, write, fail: (on: boolean) => (failing = on) };
}

const keysOf = (s: Sent): string[] => s.datums.map((d) => d.key);

test("an idle lane sends at once, one batch for a burst; a busy lane merges until its batch is answered", async () => {
  const l = lane({}, { rttMs: 50 });
  l.write("a", "192.0.2.1");
  l.write("b", "192.0.2.1");
  await l.scheduler.advance(1);
  assert.deepEqual(l.sent.map(keysOf), [[k("a"), k("b")]], "the burst left as one batch, without a merge window");
  assert.equal(l.sent[0]!.at, 0);
  l.write("a", "192.0.2.2");
  l.write("a", "192.0.2.3");
  l.write("c", "192.0.2.1");
  await l.scheduler.advance(10);
  assert.equal(l.sent.length, 1, "nothing more while the first batch is in flight");
  await l.scheduler.advance(50);
  assert.deepEqual(l.sent.map(keysOf)[1], [k("a"), k("c")]);
  assert.equal(l.sent[1]!.at, 50, "the merged batch left when the first was answered");
  assert.equal(l.queue.idle, false);
  await l.scheduler.advance(50);
  assert.equal(l.queue.idle, true);
});

test("a delta carries only the entries that changed, as they are when sent, with the service's meta", async () => {
  const l = lane();
  l.write("a", "192.0.2.1", "192.0.2.2", "192.0.2.3");
  await l.scheduler.advance(10);
  l.write("a", "192.0.2.4");
  l.registry.update(k("a"), { remove: [identityOf(testInstance("192.0.2.4", 80, "DEFAULT_GROUP@@a"))] });
  await l.scheduler.advance(10);
  const d = l.sent[1]!.datums[0]!;
  assert.equal(d.partial, true);
  assert.deepEqual(
    d.entries.map((e) => [e.id.split(":")[0], e.instance === undefined]),
    [["192.0.2.4", true]],
    "one entry, as it is at send time: removed",
  );
  assert.deepEqual(d.metaVersion, l.registry.service(k("a"))!.metaVersion);
});

test("whole services go when asked, and always to a peer that takes whole lists only", async () => {
  const asked = lane();
  asked.write("a", "192.0.2.1", "192.0.2.2");
  await asked.scheduler.advance(10);
  asked.queue.add(k("a"), "whole");
  await asked.scheduler.advance(10);
  assert.equal(asked.sent[1]!.datums[0]!.partial, undefined);
  assert.equal(asked.sent[1]!.datums[0]!.entries.length, 2);
  const legacy = lane({}, { wholeOnly: true });
  legacy.write("a", "192.0.2.1", "192.0.2.2");
  await legacy.scheduler.advance(10);
  legacy.write("a", "192.0.2.3");
  await legacy.scheduler.advance(10);
  assert.ok(legacy.sent.every((s) => s.datums.every((d) => d.partial === undefined)));
  assert.equal(legacy.sent[1]!.datums[0]!.entries.length, 3);
});

test("a batch closes at whichever limit comes first: services, instances or estimated bytes", async () => {
  const sizes = async (config: Partial<LaneConfig>): Promise<number[]> => {
    const l = lane(config);
    for (const name of ["a", "b", "c", "d"]) l.write(name, "192.0.2.1", "192.0.2.2", "192.0.2.3");
    await l.scheduler.advance(100);
    return l.sent.map((s) => s.datums.length);
  };
  const probe = lane();
  probe.write("a", "192.0.2.1", "192.0.2.2", "192.0.2.3");
  await probe.scheduler.advance(10);
  const one = estimateBytes(probe.sent[0]!.datums[0]!);
  assert.deepEqual(await sizes({ maxKeys: 3 }), [3, 1]);
  assert.deepEqual(await sizes({ maxInstances: 7 }), [2, 2]);
  assert.deepEqual(await sizes({ maxBytes: 2 * one + 1 }), [2, 2]);
  assert.deepEqual(await sizes({ maxBytes: 10 }), [1, 1, 1, 1], "a service larger than the budget still goes, alone");
});

test("a batch in flight longer than the merge window lets a second one go, never more", async () => {
  const l = lane({ maxDelayMs: 100 }, { rttMs: 10_000 });
  l.write("a", "192.0.2.1");
  await l.scheduler.advance(1);
  l.write("b", "192.0.2.1");
  await l.scheduler.advance(98);
  assert.equal(l.sent.length, 1);
  await l.scheduler.advance(2);
  assert.equal(l.sent.length, 2, "b waited one merge window, not the whole round trip");
  l.write("c", "192.0.2.1");
  await l.scheduler.advance(5_000);
  assert.equal(l.sent.length, 2, "two in flight at most");
});

test("a failure keeps the batch in the lane and pauses it with doubling back-off; a success resets it", async () => {
  const l = lane({ retryBaseMs: 1000 });
  l.fail(true);
  l.write("a", "192.0.2.1");
  await l.scheduler.advance(10);
  l.write("b", "192.0.2.1");
  await l.scheduler.advance(900);
  assert.equal(l.sent.length, 1, "paused: b waits with a");
  await l.scheduler.advance(200);
  assert.deepEqual(l.sent.map(keysOf)[1], [k("a"), k("b")], "the retry carries what failed and what came since");
  await l.scheduler.advance(1_800);
  assert.equal(l.sent.length, 2, "the second pause is twice as long");
  l.fail(false);
  await l.scheduler.advance(200);
  assert.deepEqual(l.failures, [1, 2]);
  assert.equal(l.queue.idle, true);
  assert.equal(l.queue.failures, 0);
});

test("a forgotten service is skipped; a closed lane sends nothing more", async () => {
  const l = lane();
  l.write("a", "192.0.2.1");
  l.registry.forget(k("a"));
  l.write("b", "192.0.2.1");
  await l.scheduler.advance(10);
  assert.deepEqual(l.sent.map(keysOf), [[k("b")]]);
  l.write("c", "192.0.2.1");
  l.queue.close();
  await l.scheduler.advance(100);
  assert.equal(l.sent.length, 1);
});

test("a quiet lane starts at most one batch per minimum interval", async () => {
  const l = lane({ minIntervalMs: 20 }, { rttMs: 1 });
  l.write("a", "192.0.2.1");
  await l.scheduler.advance(5);
  l.write("b", "192.0.2.1");
  await l.scheduler.advance(10);
  assert.equal(l.sent.length, 1, "answered at 1 ms, but the next batch waits for the interval");
  await l.scheduler.advance(5);
  assert.deepEqual(
    l.sent.map((s) => s.at),
    [0, 20],
  );
});

test("whenSent settles when the batch carrying the change waiting now is answered, not an earlier one in flight", async () => {
  const l = lane({}, { rttMs: 50 });
  const settledAt = (p: Promise<void> | undefined): { at: number | undefined } => {
    const seen: { at: number | undefined } = { at: undefined };
    void p?.then(() => (seen.at = l.scheduler.now()));
    return seen;
  };
  assert.equal(l.queue.whenSent(k("a")), undefined, "nothing of the key waits: nothing to wait for");
  l.write("a", "192.0.2.1");
  const first = settledAt(l.queue.whenSent(k("a")));
  await l.scheduler.advance(10);
  l.write("a", "192.0.2.2"); // while the first batch is in flight
  const second = settledAt(l.queue.whenSent(k("a")));
  await l.scheduler.advance(45);
  assert.equal(first.at, 50, "the first batch's answer");
  assert.equal(second.at, undefined, "the first batch did not carry the second change");
  await l.scheduler.advance(60);
  assert.equal(second.at, 100, "the batch that carried it was answered at 100");
  assert.equal(l.sent.length, 2);
});

test("whenSent settles on a failed batch too, waits for nothing while the lane backs off, and settles on close", async () => {
  const l = lane({ retryBaseMs: 1000 }, { rttMs: 5 });
  l.fail(true);
  l.write("a", "192.0.2.1");
  let failedAt: number | undefined;
  void l.queue.whenSent(k("a"))!.then(() => (failedAt = l.scheduler.now()));
  await l.scheduler.advance(10);
  assert.equal(failedAt, 5, "an unreachable peer is not waited for beyond its answer");
  l.write("b", "192.0.2.1");
  assert.equal(l.queue.whenSent(k("b")), undefined, "backing off: nobody waits for this peer");
  l.fail(false);
  await l.scheduler.advance(2_000);
  l.write("c", "192.0.2.1");
  const closing = l.queue.whenSent(k("c"));
  assert.ok(closing !== undefined, "answering again: waited for");
  l.queue.close();
  await l.scheduler.runUntilSettled(closing, 1);
});
