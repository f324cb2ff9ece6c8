/**
 * DistroVerify on its own: which rounds it sends, what a confirmation means for tombstones, and what a peer's
 * digest may and may not make it do.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLog } from "../../../src/core/log.js";
import { Registry } from "../../../src/core/registry.js";
import { DEFAULT_SERVICE_META } from "../../../src/core/service-datum.js";
import { digestBucket } from "../../../src/node/distro/digest.js";
import { DistroMapper } from "../../../src/node/distro/distro-mapper.js";
import { DistroVerify } from "../../../src/node/distro/distro-verify.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { NotReadyError, type VerifyDetail, type VerifyDigest, type VerifyReply } from "../../../src/node/ports.js";
import { stubTransport, testInstance } from "../../support/fixtures.js";

const SELF = "127.0.0.1:8848";
const PEER = "127.0.0.2:8848";
const BUCKETS = 64;

function setup(answer: (digest: VerifyDigest) => VerifyReply, maxDetailBytes = 1 << 20, ready = () => true) {
  const scheduler = new VirtualScheduler(1, 1_700_000_000_000);
  const registry = new Registry(SELF, () => scheduler.now());
  const mapper = new DistroMapper(SELF);
  const sent: VerifyDigest[] = [];
  const transport = stubTransport({
    async verify(_peer, digest) {
      sent.push(digest);
      return answer(digest);
    },
  });
  let horizon = 0;
  const verify = new DistroVerify(
    {
      self: SELF,
      registry,
      mapper,
      transport,
      ready,
      purgeHorizon: () => horizon,
      clock: () => scheduler.now(),
      pushTo: () => {},
      merge: (_source, datum) => registry.apply(datum),
      log: silentLog,
    },
    { bucketCount: BUCKETS, queryBatchKeys: 1000, maxDetailBytes },
  );
  const owned = (n: number): string[] => {
    const keys: string[] = [];
    for (let i = 0; keys.length < n; i++) {
      const key = `public##DEFAULT_GROUP@@s${i}`;
      registry.commit(key, {
        deleted: false,
        meta: DEFAULT_SERVICE_META,
        instances: [testInstance("192.0.2.1", 80, `DEFAULT_GROUP@@s${i}`)],
      });
      keys.push(key);
    }
    return keys;
  };
  return { scheduler, registry, mapper, verify, sent, owned, setHorizon: (h: number) => (horizon = h) };
}

test("detail rounds hold whole buckets and stay within their byte budget; together they cover every bucket asked for", async () => {
  const all = Array.from({ length: BUCKETS }, (_, b) => b);
  const { verify, sent, owned } = setup((d) => (d.kind === "summary" ? { mismatchedBuckets: all } : { mismatchedBuckets: [] }), 2_000);
  const keys = owned(300);
  await verify.round([PEER]);
  const details = sent.filter((d): d is VerifyDetail => d.kind === "detail");
  assert.ok(details.length > 1, `split into ${details.length} rounds`);
  assert.deepEqual(
    details.flatMap((d) => d.buckets).sort((a, b) => a - b),
    all,
    "every bucket once",
  );
  assert.deepEqual(details.flatMap((d) => d.entries.map((e) => e.key)).sort(), [...keys].sort(), "every owned key once");
  for (const d of details) {
    const buckets = new Set(d.buckets);
    assert.ok(
      d.entries.every((e) => buckets.has(digestBucket(e.key, BUCKETS))),
      "entries only of the round's own buckets",
    );
  }
});

test("a peer is confirmed only by a round in which nothing differed, stamped with the round's start", async () => {
  let differ = true;
  const { scheduler, verify, owned } = setup((d) => ({ mismatchedBuckets: d.kind === "summary" && differ ? [0] : [] }));
  owned(3);
  assert.equal(verify.confirmedThrough([PEER]), 0, "never confirmed");
  await verify.round([PEER]);
  assert.equal(verify.confirmedThrough([PEER]), 0, "a round that found differences confirms nothing");
  differ = false;
  const startedAt = scheduler.now();
  await verify.round([PEER]);
  assert.equal(verify.confirmedThrough([PEER]), startedAt);
  assert.equal(verify.confirmedThrough([PEER, "127.0.0.3:8848"]), 0, "the least confirmed peer decides");
});

test("what a peer writes of an owned key voids only the confirmations made after its version: a fresh write keeps them", async () => {
  const { scheduler, registry, verify, owned } = setup(() => ({ mismatchedBuckets: [] }));
  const [key] = owned(1);
  // A peer's copy of the key: the instance registered here was removed there long ago, and a 2.x client's
  // instance is written there now (the node holding its connection writes it, not this owner).
  const peer = new Registry(PEER, () => scheduler.now());
  peer.apply(registry.get(key!)!);
  peer.commit(key!, { deleted: false, meta: DEFAULT_SERVICE_META, instances: [] });
  const removedAt = peer.get(key!)!.entries[0]!.version.counter;
  await scheduler.advance(10_000);
  const confirmedAt = scheduler.now();
  await verify.round([PEER]);
  assert.equal(verify.confirmedThrough([PEER]), confirmedAt);
  await scheduler.advance(10_000);
  const fresh = new Registry(PEER, () => scheduler.now());
  fresh.commit(key!, { deleted: false, meta: DEFAULT_SERVICE_META, instances: [testInstance("198.51.100.1", 9000, "DEFAULT_GROUP@@s0")] });
  assert.equal(registry.apply(fresh.get(key!)!), "applied");
  assert.equal(verify.confirmedThrough([PEER]), confirmedAt, "written after the round: the round still vouches for what it covered");
  assert.equal(registry.apply(peer.get(key!)!), "applied");
  assert.equal(verify.confirmedThrough([PEER]), removedAt, "a removal this node lacked when the peer confirmed: vouched for only below it");
});

test("a node still loading its snapshot refuses digests; the owner's round against it confirms nothing", async () => {
  let loading = true;
  const owner = setup(() => ({ mismatchedBuckets: [] }));
  const keys = owner.owned(20);
  const joiner = setup(
    () => ({ mismatchedBuckets: [] }),
    1 << 20,
    () => !loading,
  );
  const summaryOf = async (): Promise<VerifyDigest> => {
    await owner.verify.round([PEER]);
    return owner.sent.at(-1)!;
  };
  const summary = await summaryOf();
  assert.throws(() => joiner.verify.onDigest(summary), NotReadyError);
  const detail: VerifyDetail = { ...summary, kind: "detail", buckets: [digestBucket(keys[0]!, BUCKETS)], entries: [] };
  assert.throws(() => joiner.verify.onDigest(detail), NotReadyError, "details too");
  const refusing = setup(() => {
    throw new NotReadyError("not comparing digests yet");
  });
  refusing.owned(3);
  await refusing.verify.round([PEER]);
  assert.equal(refusing.verify.confirmedThrough([PEER]), 0, "a refused round confirms nothing");
  loading = false;
  assert.ok(joiner.verify.onDigest(summary).mismatchedBuckets.length > 0, "once ready, the differences are seen");
});

test("a peer's purge horizon cannot make this node forget a deleted service before its own horizon says so", () => {
  const { registry, verify, mapper, setHorizon } = setup(() => ({ mismatchedBuckets: [] }));
  mapper.update([SELF, PEER]);
  // A deleted service this node holds that the peer (its owner here) did not list.
  let key = "";
  for (let i = 0; key === ""; i++) {
    const candidate = `DEFAULT_GROUP@@gone${i}`;
    if (mapper.ownerOf(candidate) === PEER) key = `public##${candidate}`;
  }
  registry.commit(key, { deleted: false, meta: DEFAULT_SERVICE_META, instances: [] });
  registry.writeMeta(key, true, DEFAULT_SERVICE_META);
  const deletedAt = registry.get(key)!.version.counter;
  const detail = (purgeHorizon: number): VerifyDetail => ({
    kind: "detail",
    source: PEER,
    viewHash: mapper.viewHash,
    purgeHorizon,
    bucketCount: BUCKETS,
    buckets: [digestBucket(key, BUCKETS)],
    entries: [],
  });
  setHorizon(0);
  verify.onDigest(detail(Number.MAX_SAFE_INTEGER));
  assert.notEqual(registry.get(key), undefined, "kept: this node's own horizon has not passed the deletion");
  setHorizon(deletedAt + 1);
  verify.onDigest(detail(deletedAt + 1));
  assert.equal(registry.get(key), undefined, "forgotten once both horizons passed it");
});

test("a differing key is fetched only once the owner's copy held still for a round, not while it is being written", async () => {
  const queried: string[][] = [];
  const scheduler = new VirtualScheduler(1, 1_700_000_000_000);
  const registry = new Registry(SELF, () => scheduler.now());
  const mapper = new DistroMapper(SELF);
  mapper.update([SELF, PEER]);
  const transport = stubTransport({
    async query(_peer, keys) {
      queried.push([...keys]);
      return [];
    },
  });
  const verify = new DistroVerify(
    {
      self: SELF,
      registry,
      mapper,
      transport,
      ready: () => true,
      purgeHorizon: () => 0,
      clock: () => scheduler.now(),
      pushTo: () => {},
      merge: (_source, datum) => registry.apply(datum),
      log: silentLog,
    },
    { bucketCount: BUCKETS, queryBatchKeys: 1000, maxDetailBytes: 1 << 20 },
  );
  const key = "public##DEFAULT_GROUP@@busy";
  const detail = (digest: string): VerifyDetail => ({
    kind: "detail",
    source: PEER,
    viewHash: mapper.viewHash,
    purgeHorizon: 0,
    bucketCount: BUCKETS,
    buckets: [digestBucket(key, BUCKETS)],
    entries: [{ key, digest }],
  });
  verify.onDigest(detail("d1"));
  verify.onDigest(detail("d2"));
  verify.onDigest(detail("d3"));
  await scheduler.advance(10);
  assert.deepEqual(queried, [], "the owner's copy changed every round: replication is still delivering it");
  verify.onDigest(detail("d3"));
  await scheduler.advance(10);
  assert.deepEqual(queried, [[key]], "held still for a round: fetched");
});
