import { testInstance } from "../../support/fixtures.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Instance } from "../../../src/core/instance.js";
import { silentLog } from "../../../src/core/log.js";
import { Registry } from "../../../src/core/registry.js";
import { snapshotChunks } from "../../../src/node/distro/snapshot-source.js";
import { SnapshotLoader } from "../../../src/node/distro/snapshot-loader.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { PeerError, type PeerTransport, type SnapshotChunk } from "../../../src/node/ports.js";
import { stubTransport } from "../../support/fixtures.js";

const inst = (svc: string, n: number): Instance => testInstance(`192.0.2.${n}`, 80, svc, { metadata: { pad: "x".repeat(200) } });

function sourceRegistry(services: number): Registry {
  const r = new Registry("127.0.0.1:8848", () => 1_000);
  for (let s = 0; s < services; s++) {
    const svc = `DEFAULT_GROUP@@s${String(s).padStart(3, "0")}`;
    r.commit(`public##${svc}`, {
      deleted: false,
      meta: { protectThreshold: 0, metadata: {}, selector: { type: "none" }, clusters: {} },
      instances: [1, 2, 3].map((n) => inst(svc, n)),
    });
  }
  return r;
}

/** A transport whose streams come from real registries; `breakAfter` chunks into the first stream, it resets. */
function transportOver(sources: Record<string, Registry>, breakAfter: number, calls: Array<[string, string]>): PeerTransport {
  let broken = false;
  return stubTransport({
    snapshot(peer: string, resumeAfter: string): AsyncIterable<SnapshotChunk> {
      calls.push([peer, resumeAfter]);
      const source = sources[peer];
      return (async function* () {
        if (source === undefined) throw new PeerError("refused", peer, "connection refused");
        let n = 0;
        for await (const chunk of snapshotChunks(source, resumeAfter, 4 * 1024)) {
          if (!broken && n++ === breakAfter) {
            broken = true;
            throw new PeerError("unavailable", peer, "stream reset");
          }
          yield chunk;
        }
      })();
    },
  });
}

test("a broken snapshot stream resumes after its last key on the next peer: nothing twice, nothing missed", async () => {
  const scheduler = new VirtualScheduler(1, 0);
  const a = sourceRegistry(100);
  const b = sourceRegistry(100);
  const target = new Registry("127.0.0.3:8848", () => scheduler.now());
  const applied = new Map<string, number>();
  target.onChange((c) => applied.set(c.key, (applied.get(c.key) ?? 0) + 1));
  const calls: Array<[string, string]> = [];
  const loader = new SnapshotLoader(
    scheduler,
    transportOver({ "127.0.0.1:8848": a, "127.0.0.2:8848": b }, 5, calls),
    (_, d) => target.apply(d),
    () => ["127.0.0.1:8848", "127.0.0.2:8848"],
    { retryDelayMs: 1000, giveUpAfterMs: 10_000 },
    silentLog,
  );
  await scheduler.runUntilSettled(loader.load(), 60_000);
  assert.equal(loader.progress.state, "done");
  assert.equal(loader.progress.resumes, 1);
  assert.equal(calls.length, 2);
  assert.equal(calls[0]![1], "", "the first stream starts at the beginning");
  assert.notEqual(calls[1]![1], "", "the second resumes after a key");
  assert.equal(calls[1]![0], "127.0.0.2:8848", "from the other peer");
  assert.equal(target.size, 100);
  assert.equal(loader.progress.keysDone, 100, "every key counted once");
  assert.equal(loader.progress.keysTotal, 100);
  assert.equal(loader.progress.instancesDone, 300);
  assert.ok(
    [...applied.values()].every((n) => n === 1),
    "no key applied twice",
  );
});

test("with no peer able to serve, a starting node becomes ready after the give-up delay (first node of a cluster)", async () => {
  const scheduler = new VirtualScheduler(1, 0);
  const target = new Registry("127.0.0.3:8848", () => scheduler.now());
  const calls: Array<[string, string]> = [];
  const loader = new SnapshotLoader(
    scheduler,
    transportOver({}, 0, calls),
    (_, d) => target.apply(d),
    () => ["127.0.0.1:8848"],
    { retryDelayMs: 1000, giveUpAfterMs: 10_000 },
    silentLog,
  );
  await scheduler.runUntilSettled(loader.load(), 60_000);
  assert.equal(loader.progress.state, "done");
  assert.ok(scheduler.now() >= 10_000);
  assert.ok(calls.length >= 10, "kept asking meanwhile");
});

test("snapshot chunks respect their byte budget and end with a resume token; an empty registry still sends totals", async () => {
  const source = sourceRegistry(50);
  const chunks: SnapshotChunk[] = [];
  for await (const c of snapshotChunks(source, "", 8 * 1024)) chunks.push(c);
  assert.ok(chunks.length > 3);
  assert.equal(chunks.flatMap((c) => c.datums).length, 50);
  assert.ok(chunks.every((c) => c.totalKeys === 50 && c.totalInstances === 150));
  assert.equal(chunks.at(-1)!.resumeToken, source.sortedKeys().at(-1));
  const empty: SnapshotChunk[] = [];
  for await (const c of snapshotChunks(new Registry("x", () => 0), "", 1024)) empty.push(c);
  assert.deepEqual(
    empty.map((c) => [c.datums.length, c.totalKeys]),
    [[0, 0]],
  );
});
