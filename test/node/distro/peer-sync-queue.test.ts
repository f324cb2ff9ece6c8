/** One peer's lane: batches within every limit, one batch in flight, current datums, failures handed back whole. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { estimateBytes } from "../../../src/core/datum-size.js";
import { Registry } from "../../../src/core/registry.js";
import { DEFAULT_SERVICE_META, type ServiceDatum } from "../../../src/core/service-datum.js";
import { PeerSyncQueue, type BatchLimits } from "../../../src/node/distro/peer-sync-queue.js";
import { PeerError, SYNC_ACCEPTED } from "../../../src/node/ports.js";
import { stubTransport, testInstance } from "../../support/fixtures.js";

const PEER = "127.0.0.2:8848";

/** A transport whose sync calls wait until the test releases them, recording what each carried. */
function heldTransport() {
  const batches: ServiceDatum[][] = [];
  const waiting: Array<(fail: boolean) => void> = [];
  const transport = stubTransport({
    sync(peer, datums) {
      batches.push([...datums]);
      return new Promise((resolve, reject) =>
        waiting.push((fail) => (fail ? reject(new PeerError("refused", peer, "down")) : resolve(SYNC_ACCEPTED))),
      );
    },
  });
  /** Settles the oldest call still waiting, then lets the queue go on. */
  const settle = async (fail = false): Promise<void> => {
    waiting.shift()!(fail);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { transport, batches, settle, keysOf: (n: number) => batches[n]!.map((d) => d.key) };
}

function registry(keys: Record<string, number>): Registry {
  const r = new Registry("self", () => 1_700_000_000_000);
  for (const [key, instances] of Object.entries(keys)) {
    const list = Array.from({ length: instances }, (_, i) => testInstance(`192.0.2.${i + 1}`, 80, key.split("##")[1]));
    r.commit(key, { deleted: false, meta: DEFAULT_SERVICE_META, instances: list });
  }
  return r;
}

const k = (name: string): string => `public##DEFAULT_GROUP@@${name}`;
const WIDE: BatchLimits = { maxKeys: 1000, maxInstances: 1_000_000, maxBytes: 1 << 30 };

function lane(r: Registry, limits: Partial<BatchLimits> = {}) {
  const held = heldTransport();
  const failures: Array<{ keys: string[]; failures: number }> = [];
  const sent: number[] = [];
  const queue = new PeerSyncQueue(
    PEER,
    held.transport,
    (key) => r.get(key),
    { ...WIDE, ...limits },
    (keys, n) => failures.push({ keys, failures: n }),
    (n) => sent.push(n),
  );
  return { ...held, queue, failures, sent };
}

test("a batch closes at whichever limit comes first: keys, instances or estimated bytes", async () => {
  const r = registry({ [k("a")]: 3, [k("b")]: 3, [k("c")]: 3, [k("d")]: 3 });
  const bytesOfTwo = estimateBytes(r.get(k("a"))!) * 2;
  for (const [limits, sizes] of [
    [{ maxKeys: 3 }, [3, 1]],
    [{ maxInstances: 7 }, [2, 2]],
    [{ maxBytes: bytesOfTwo + 1 }, [2, 2]],
  ] as const) {
    const l = lane(r, limits);
    l.queue.enqueue([k("a"), k("b"), k("c"), k("d")]);
    await l.settle();
    await l.settle();
    assert.deepEqual(
      l.batches.map((b) => b.length),
      sizes,
      JSON.stringify(limits),
    );
    assert.deepEqual(l.sent, sizes);
    assert.equal(l.queue.idle, true);
  }
});

test("a datum larger than the byte budget on its own still goes, alone", async () => {
  const r = registry({ [k("big")]: 50, [k("small")]: 1 });
  const l = lane(r, { maxBytes: 100 });
  l.queue.enqueue([k("big"), k("small")]);
  await l.settle();
  await l.settle();
  assert.deepEqual([l.keysOf(0), l.keysOf(1)], [[k("big")], [k("small")]]);
});

test("one batch in flight: keys queued meanwhile (repeats merged) go next, with the datum as it is then", async () => {
  const r = registry({ [k("a")]: 1, [k("b")]: 1 });
  const l = lane(r);
  l.queue.enqueue([k("a")]);
  l.queue.enqueue([k("a"), k("b"), k("a")]);
  assert.equal(l.batches.length, 1, "the second enqueue waits for the first batch");
  assert.equal(l.queue.backlog, 2);
  r.commit(k("a"), { deleted: false, meta: DEFAULT_SERVICE_META, instances: [] });
  await l.settle();
  assert.deepEqual(l.keysOf(1), [k("a"), k("b")]);
  assert.equal(l.batches[1]![0]!.instances.length, 0, "the current datum, not the one at enqueue time");
  await l.settle();
  assert.equal(l.queue.idle, true);
});

test("a failed batch hands back its keys and everything queued behind it, counting consecutive failures", async () => {
  const r = registry({ [k("a")]: 1, [k("b")]: 1, [k("c")]: 1 });
  const l = lane(r, { maxKeys: 1 });
  l.queue.enqueue([k("a"), k("b"), k("c")]);
  await l.settle(true);
  assert.deepEqual(l.failures, [{ keys: [k("a"), k("b"), k("c")], failures: 1 }]);
  assert.equal(l.queue.idle, true, "nothing left to hammer the peer with");
  l.queue.enqueue([k("a")]);
  await l.settle(true);
  assert.equal(l.failures[1]!.failures, 2);
  l.queue.enqueue([k("a")]);
  await l.settle();
  assert.equal(l.queue.failures, 0, "a success resets the count");
});

test("a key forgotten since it was queued is skipped; a closed lane sends nothing more and reports no failure", async () => {
  const r = registry({ [k("a")]: 1, [k("b")]: 1 });
  const l = lane(r);
  l.queue.enqueue([k("gone"), k("a")]);
  assert.deepEqual(l.keysOf(0), [k("a")]);
  l.queue.enqueue([k("b")]);
  l.queue.close();
  await l.settle(true);
  assert.equal(l.batches.length, 1);
  assert.deepEqual(l.failures, []);
});
