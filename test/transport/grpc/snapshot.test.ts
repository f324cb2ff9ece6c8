/**
 * The snapshot stream over gRPC: the server pulls chunks from the handler only as fast as the reader takes
 * them (backpressure), stops the handler's producer when the reader cancels, refuses to send a chunk over the
 * message limit, and the reader's deadline is per silence, not per stream.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, test } from "node:test";
import { makeDatum, type ServiceDatum } from "../../../src/core/service-datum.js";
import { identityOf } from "../../../src/core/instance.js";
import { BusyError, PeerError, type SnapshotChunk } from "../../../src/node/ports.js";
import { testInstance } from "../../support/fixtures.js";
import { PEER, SELF, loopback, rejectsWith, type Loopback } from "./fixtures.js";

let net: Loopback | undefined;

afterEach(async () => {
  await net?.close();
  net = undefined;
});

/** A datum of about `bytes` bytes, distinct from every other (so nothing is shared between chunks). */
function bulkyDatum(n: number, bytes: number): ServiceDatum {
  const grouped = `G@@svc-${String(n).padStart(6, "0")}`;
  const blob = `${n}:`.padEnd(bytes, String.fromCharCode(97 + (n % 26)));
  const i = testInstance("10.1.0.1", 1000 + (n % 60_000), grouped, { metadata: { blob } });
  const version = { counter: n + 1, writer: SELF };
  const meta = { protectThreshold: 0, metadata: {}, selector: { type: "none" }, clusters: {} } as const;
  return makeDatum(`public##${grouped}`, false, meta, version, [{ id: identityOf(i), version, instance: i }]);
}

const chunkOf = (n: number, total: number, bytes: number): SnapshotChunk => {
  const datum = bulkyDatum(n, bytes);
  return { datums: [datum], totalKeys: total, totalInstances: total, resumeToken: datum.key };
};

/** How far a producer runs ahead of its reader, and whether it was stopped. */
class Producer {
  produced = 0;
  finished = false;

  constructor(
    private readonly total: number,
    private readonly bytes: number,
  ) {}

  async *chunks(): AsyncGenerator<SnapshotChunk> {
    try {
      for (; this.produced < this.total; this.produced++) yield chunkOf(this.produced, this.total, this.bytes);
    } finally {
      this.finished = true;
    }
  }
}

async function waitFor(condition: () => boolean, ms: number, what: string): Promise<void> {
  for (const deadline = Date.now() + ms; !condition(); await sleep(10)) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
  }
}

test("a slow reader holds the producer back: the server waits for drain instead of buffering the snapshot", async () => {
  net = await loopback();
  const total = 200;
  const producer = new Producer(total, 64 * 1024);
  net.handler.snapshotChunks = () => producer.chunks();
  let consumed = 0;
  let maxLead = 0;
  for await (const chunk of net.transport.snapshot(PEER, "")) {
    assert.equal(chunk.datums[0]!.key, bulkyDatum(consumed, 10).key);
    consumed++;
    maxLead = Math.max(maxLead, producer.produced - consumed);
    await sleep(2);
  }
  assert.equal(consumed, total);
  assert.ok(net.server.drainWaits > 0, "the server never had to wait for the reader");
  // 12.5 MB in total; the producer may run ahead only by the stream's buffers (~16 messages on each side).
  assert.ok(maxLead < 60, `producer ran ${maxLead} chunks ahead of the reader`);
});

test("a reader that stops early cancels the stream and the producer is stopped", async () => {
  net = await loopback();
  const producer = new Producer(10_000, 16 * 1024);
  net.handler.snapshotChunks = () => producer.chunks();
  let read = 0;
  for await (const _ of net.transport.snapshot(PEER, "")) if (++read === 5) break;
  await waitFor(() => producer.finished, 3000, "producer stopped");
  assert.ok(producer.produced < 200, `producer went on to ${producer.produced} chunks`);
});

test("a reader that stops reading is cut after the stall deadline, and the producer stopped", async () => {
  net = await loopback({ snapshotStallMs: 300 });
  const producer = new Producer(10_000, 64 * 1024);
  net.handler.snapshotChunks = () => producer.chunks();
  const stream = net.transport.snapshot(PEER, "")[Symbol.asyncIterator]();
  await stream.next(); // one chunk, then the reader stops taking any
  await waitFor(() => producer.finished, 5000, "the stalled stream was cut and its producer stopped");
  assert.ok(producer.produced < 200, `producer went on to ${producer.produced} chunks`);
  await stream.return?.(undefined);
});

test("a node serving as many snapshot streams as it allows refuses another as RESOURCE_EXHAUSTED", async () => {
  net = await loopback();
  net.handler.snapshotChunks = () => {
    throw new BusyError("already serving 4 snapshot streams (at most 4); try again later");
  };
  await rejectsWith(
    (async () => {
      for await (const _ of net!.transport.snapshot(PEER, "")) assert.fail("no chunk expected");
    })(),
    (err) => err instanceof PeerError && /RESOURCE_EXHAUSTED: already serving/.test(err.message),
    "busy snapshot",
  );
});

test("aborting the signal cancels the stream mid-way", async () => {
  net = await loopback();
  const producer = new Producer(10_000, 16 * 1024);
  net.handler.snapshotChunks = () => producer.chunks();
  const abort = new AbortController();
  let read = 0;
  await rejectsWith(
    (async () => {
      for await (const _ of net!.transport.snapshot(PEER, "", abort.signal)) if (++read === 3) abort.abort();
    })(),
    (err) => err instanceof PeerError && /CANCELLED/.test(err.message),
    "aborted snapshot",
  );
  await waitFor(() => producer.finished, 3000, "producer stopped");
  assert.ok(producer.produced < 200, `producer went on to ${producer.produced} chunks`);
});

test("a broken stream resumes with the last chunk's token", async () => {
  net = await loopback();
  net.handler.snapshotChunks = async function* (resumeAfter) {
    if (resumeAfter === "") {
      yield chunkOf(0, 3, 10);
      yield chunkOf(1, 3, 10);
      throw new Error("registry went away");
    }
    yield chunkOf(2, 3, 10);
  };
  const keys: string[] = [];
  let token = "";
  await rejectsWith(
    (async () => {
      for await (const chunk of net!.transport.snapshot(PEER, token)) {
        keys.push(chunk.datums[0]!.key);
        token = chunk.resumeToken;
      }
    })(),
    (err) => err instanceof PeerError && err.kind === "unavailable" && /registry went away/.test(err.message),
    "broken stream",
  );
  for await (const chunk of net.transport.snapshot(PEER, token)) keys.push(chunk.datums[0]!.key);
  assert.deepEqual(
    keys,
    [0, 1, 2].map((n) => bulkyDatum(n, 10).key),
  );
  assert.deepEqual(
    net.handler.calls.map((c) => (c.method === "onSnapshot" ? c.resumeAfter : c.method)),
    ["", bulkyDatum(1, 10).key],
  );
});

test("a chunk over the message limit fails the stream clearly, after the chunks before it", async () => {
  net = await loopback({ connection: { maxMessageBytes: 1024 * 1024 } }, { connection: { maxMessageBytes: 1024 * 1024 } });
  let stopped = false;
  net.handler.snapshotChunks = async function* () {
    try {
      yield chunkOf(0, 2, 1000);
      yield chunkOf(1, 2, 2 * 1024 * 1024);
    } finally {
      stopped = true;
    }
  };
  let read = 0;
  await rejectsWith(
    (async () => {
      for await (const _ of net!.transport.snapshot(PEER, "")) read++;
    })(),
    (err) => err instanceof PeerError && /RESOURCE_EXHAUSTED: snapshot chunk .* over the 1048576-byte message limit/.test(err.message),
    "oversized chunk",
  );
  assert.equal(read, 1);
  assert.ok(stopped);
});

test("the reader's deadline covers each wait for the peer, not the whole stream nor the reader's own time", async () => {
  net = await loopback({}, { snapshotIdleMs: 300 });
  let release: () => void = () => {};
  const stuck = new Promise<void>((resolve) => (release = resolve));
  net.handler.snapshotChunks = async function* (resumeAfter) {
    yield chunkOf(0, 9, 10);
    if (resumeAfter === "stall") await stuck;
    yield chunkOf(1, 9, 10);
  };
  try {
    // A reader slower than the deadline is fine: only silence from the peer counts.
    let read = 0;
    for await (const _ of net.transport.snapshot(PEER, "")) {
      read++;
      await sleep(500);
    }
    assert.equal(read, 2);
    const started = Date.now();
    await rejectsWith(
      (async () => {
        for await (const _ of net!.transport.snapshot(PEER, "stall"));
      })(),
      (err) => err instanceof PeerError && err.kind === "timeout",
      "stalled stream",
    );
    assert.ok(Date.now() - started < 3000);
  } finally {
    release();
  }
});
