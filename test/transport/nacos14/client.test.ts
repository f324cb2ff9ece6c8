/** Nacos14Transport against a recording stub: every request pinned to the 1.4 shapes, every failure to its kind. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import type { MemberInfo } from "../../../src/node/cluster/member.js";
import { datumChecksum, nacos14Instances } from "../../../src/core/checksum.js";
import { UNVERSIONED_COUNTER } from "../../../src/transport/nacos14/codecs/datum.js";
import { Nacos14Transport } from "../../../src/transport/nacos14/client.js";
import { PeerError, type SnapshotChunk, type VerifySummary } from "../../../src/node/ports.js";
import { fixture, fixtureText, freePort, instance, stubServer, type StubAnswer } from "./support.js";
import { testDatum } from "../../support/fixtures.js";

const NOW = 1690000000000;
const SELF = "127.0.0.1:8850";
const OURS = { counter: 5, writer: SELF };
const ORDERS = "public##DEFAULT_GROUP@@orders";
const PAYMENTS = "dev##g1@@payments";

const datums = [
  testDatum(
    ORDERS,
    [
      instance("192.0.2.10", 8080, "DEFAULT_GROUP@@orders", { metadata: { zone: "a" } }),
      instance("192.0.2.11", 8081, "DEFAULT_GROUP@@orders", { clusterName: "c1", weight: 2.5, healthy: false }),
    ],
    OURS,
  ),
  testDatum(
    PAYMENTS,
    [instance("198.51.100.7", 9090, "g1@@payments", { metadata: { "preserved.heart.beat.interval": "3000", version: "2" } })],
    OURS,
  ),
];

const selfInfo: MemberInfo = {
  address: SELF,
  version: "0.1.0",
  grpcPort: 9851,
  abilities: { grpcPeer: true, httpPeer: true },
  ready: true,
  viewHash: "0123456789abcdef",
  clock: NOW,
  confirmedThrough: NOW - 1_000_000,
};

const closers: Array<() => unknown> = [];
after(async () => {
  for (const close of closers) await close();
});

function transport(options: { secret?: string; timeoutMs?: number; chunkBytes?: number } = {}): Nacos14Transport {
  const t = new Nacos14Transport({
    self: SELF,
    version: "0.1.0",
    timeoutMs: options.timeoutMs ?? 2000,
    secret: options.secret,
    snapshotChunkBytes: options.chunkBytes ?? 256 * 1024,
    maxBodyBytes: 4 << 20,
    clock: () => NOW,
  });
  closers.push(() => t.close());
  return t;
}

async function stub(answer: StubAnswer): ReturnType<typeof stubServer> {
  const s = await stubServer(answer);
  closers.push(() => s.app.close());
  return s;
}

const ok: StubAnswer = () => ({ body: "ok" });

function withoutExtension(body: string): Record<string, unknown> {
  const map = JSON.parse(body) as Record<string, Record<string, unknown>>;
  return Object.fromEntries(Object.entries(map).map(([k, { tsNacos: _versions, ...legacy }]) => [k, legacy]));
}

test("sync PUTs the 1.4 Datum map with the peer headers, naming us as the source", async () => {
  const peer = await stub(ok);
  await transport().sync(peer.address, datums);
  await transport().sync(peer.address, []);
  assert.equal(peer.requests.length, 1, "an empty sync sends nothing (1.4 refuses empty maps)");
  const [req] = peer.requests;
  assert.equal(req!.method, "PUT");
  assert.equal(req!.path, "/nacos/v1/ns/distro/datum");
  assert.deepEqual(req!.query, { source: SELF });
  assert.equal(req!.headers["user-agent"], "Nacos-Server:0.1.0");
  assert.equal(req!.headers["client-version"], "0.1.0");
  assert.match(String(req!.headers["content-type"]), /^application\/json/);
  assert.equal(req!.headers["x-nacos-cluster-secret"], undefined);
  assert.deepEqual(withoutExtension(req!.body), fixture("datum-map.json"));
});

/** A 1.4 node: no digest endpoint (its DistroFilter answers 501), "ok" to everything else. */
const nacos14: StubAnswer = (req) =>
  req.path.endsWith("/distro/digest") ? { status: 501, body: `no such api:PUT:${req.path}` } : { body: "ok" };

test("verify to a 1.4 node answers that it keeps no digests; 1.4's checksum round goes on 1.4's path", async () => {
  const peer = await stub(nacos14);
  const summary: VerifySummary = { kind: "summary", source: SELF, viewHash: "abc", purgeHorizon: 0, bucketCount: 64, bucketHashes: [] };
  assert.deepEqual(await transport().verify(peer.address, summary), { mismatchedBuckets: [], digestsUnsupported: true });
  assert.equal(peer.requests[0]!.path, "/nacos/v1/ns/distro/digest");
  await transport().sendChecksums(peer.address, new Map(datums.map((d) => [d.key, datumChecksum(nacos14Instances(d))])), "abc");
  const req = peer.requests[1]!;
  assert.equal(req.method, "PUT");
  assert.equal(req.path, "/nacos/v1/ns/distro/checksum");
  assert.deepEqual(req.query, { source: SELF, viewHash: "abc" });
  // The fixture holds 1.4's Instances.getChecksum of its lists as a JVM printed them (test/support/nacos14-checksums.ts:
  // `orders` and `payments`).
  assert.deepEqual(JSON.parse(req.body), fixture("checksum-map.json"));
});

test("verify to a ts-nacos node carries the versioned digest and returns its answer", async () => {
  const peer = await stub(() => ({ body: JSON.stringify({ mismatchedBuckets: [3, 7] }), type: "application/json" }));
  const summary: VerifySummary = {
    kind: "summary",
    source: SELF,
    viewHash: "abc",
    purgeHorizon: 5,
    bucketCount: 8,
    bucketHashes: Array.from({ length: 8 }, (_, i) => `h${i}`),
  };
  assert.deepEqual(await transport().verify(peer.address, summary), { mismatchedBuckets: [3, 7] });
  const [req] = peer.requests;
  assert.deepEqual([req!.method, req!.path, req!.query], ["PUT", "/nacos/v1/ns/distro/digest", { source: SELF }]);
  assert.deepEqual(JSON.parse(req!.body), summary);
  assert.equal(peer.requests.length, 1);
});

test("query GETs with the keys in a JSON body; keys the peer lacks are left out", async () => {
  const answer = {
    ...(fixture("datum-map.json") as object),
    "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@gone": null,
  };
  const peer = await stub(() => ({ body: JSON.stringify(answer), type: "application/json" }));
  const got = await transport().query(peer.address, [ORDERS, PAYMENTS, "public##DEFAULT_GROUP@@gone"]);
  const [req] = peer.requests;
  assert.equal(req!.method, "GET");
  assert.equal(req!.path, "/nacos/v1/ns/distro/datum");
  assert.deepEqual(JSON.parse(req!.body), {
    keys: `${(fixture("datum-query-body.json") as { keys: string }).keys},com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@gone`,
  });
  assert.deepEqual(
    got.map((d) => [d.key, d.instances.length, d.version.counter, d.version.writer]),
    [
      [ORDERS, 2, UNVERSIONED_COUNTER, peer.address],
      [PAYMENTS, 1, UNVERSIONED_COUNTER, peer.address],
    ],
  );
});

async function collect(chunks: AsyncIterable<SnapshotChunk>): Promise<SnapshotChunk[]> {
  const out: SnapshotChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

test("a snapshot body is read as a stream and handed on in chunks of bounded size", async () => {
  const many: Record<string, unknown> = {};
  const template = (fixture("datum-map.json") as Record<string, { value: unknown }>)[
    "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@orders"
  ]!;
  for (let i = 0; i < 50; i++) {
    const key = `com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@s${i}`;
    many[key] = { key, value: template.value, timestamp: 1 };
  }
  const peer = await stub((req) => ({ body: req.query.resumeAfter === undefined ? JSON.stringify(many) : "{}", type: "application/json" }));
  const chunks = await collect(transport({ chunkBytes: 2000 }).snapshot(peer.address, ""));
  assert.ok(chunks.length > 3, `several chunks (${chunks.length})`);
  assert.equal(chunks.flatMap((c) => c.datums).length, 50);
  assert.equal(chunks.at(-1)!.totalKeys, 50);
  assert.equal(chunks.at(-1)!.totalInstances, 100);
  assert.equal(chunks.at(-1)!.resumeToken, "public##DEFAULT_GROUP@@s49");
  assert.equal(peer.requests[0]!.path, "/nacos/v1/ns/distro/datums");

  const resumed = await collect(transport().snapshot(peer.address, "public##DEFAULT_GROUP@@s9"));
  assert.deepEqual(peer.requests[1]!.query, { resumeAfter: "public##DEFAULT_GROUP@@s9" });
  assert.deepEqual(
    resumed.map((c) => c.datums.length),
    [0],
    "an empty snapshot still ends with one chunk",
  );
});

test("a snapshot that is refused or breaks off fails with a PeerError", async () => {
  const busy = await stub(() => ({ status: 503, body: "node is still loading its registry" }));
  await assert.rejects(
    collect(transport().snapshot(busy.address, "")),
    (err: unknown) => err instanceof PeerError && err.kind === "unavailable",
  );
  const truncated = await stub(() => ({ body: fixtureText("datum-map.json").slice(0, 500), type: "application/json" }));
  await assert.rejects(
    collect(transport().snapshot(truncated.address, "")),
    (err: unknown) => err instanceof PeerError && /malformed snapshot/.test(err.message),
  );
});

test("report POSTs our Member JSON; 1.4's answer makes an HTTP-only Nacos node, a refusal a rejection", async () => {
  let answer = fixtureText("report-answer-nacos-1.4.json");
  const peer = await stub(() => ({ body: answer, type: "application/json" }));
  const info = await transport().report(peer.address, selfInfo);
  const [req] = peer.requests;
  assert.equal(req!.method, "POST");
  assert.equal(req!.path, "/nacos/v1/core/cluster/report");
  assert.equal(req!.headers["nacos-server"], "0.1.0");
  assert.deepEqual(JSON.parse(req!.body), fixture("member-ts-nacos.json"));
  assert.deepEqual(info.abilities, { grpcPeer: false, httpPeer: true });
  assert.equal(info.address, peer.address);

  answer = JSON.stringify({ code: 200, message: null, data: fixtureText("member-ts-nacos.json") });
  assert.deepEqual(await transport().report(peer.address, selfInfo), selfInfo);

  answer = fixtureText("report-refused.json");
  await assert.rejects(transport().report(peer.address, selfInfo), (err: unknown) => err instanceof PeerError && err.kind === "rejected");
});

test("service status and instance statuses use 1.4's paths and bodies", async () => {
  const peer = await stub((req) =>
    req.path.endsWith("/statuses") ? { body: fixtureText("instance-statuses.json"), type: "application/json" } : { body: "ok" },
  );
  const t = new Nacos14Transport({
    self: "127.0.0.1:8848",
    version: "0.1.0",
    timeoutMs: 2000,
    snapshotChunkBytes: 1024,
    maxBodyBytes: 1 << 20,
  });
  closers.push(() => t.close());
  const { statuses } = fixture("service-status-body.json") as { statuses: string };
  await t.sendServiceStatus(peer.address, JSON.parse(statuses) as Parameters<Nacos14Transport["sendServiceStatus"]>[1]);
  assert.equal(peer.requests[0]!.method, "POST");
  assert.equal(peer.requests[0]!.path, "/nacos/v1/ns/service/status");
  assert.deepEqual(JSON.parse(peer.requests[0]!.body), fixture("service-status-body.json"));

  const health = await t.fetchStatuses(peer.address, ORDERS);
  assert.equal(peer.requests[1]!.method, "GET");
  assert.equal(peer.requests[1]!.path, "/nacos/v1/ns/instance/statuses");
  assert.deepEqual(peer.requests[1]!.query, { key: ORDERS });
  assert.deepEqual(
    [...health],
    [
      ["192.0.2.10:8080", false],
      ["192.0.2.11:8081", true],
    ],
  );
});

test("the cluster secret travels in X-Nacos-Cluster-Secret", async () => {
  const peer = await stub(ok);
  await transport({ secret: "s3cret" }).sync(peer.address, datums);
  assert.equal(peer.requests[0]!.headers["x-nacos-cluster-secret"], "s3cret");
});

test("failures map to PeerError kinds: refused, timeout, unauthenticated, rejected, unavailable", async () => {
  const kindOf = async (call: Promise<unknown>): Promise<string> => {
    try {
      await call;
      return "resolved";
    } catch (err) {
      return err instanceof PeerError ? err.kind : `other: ${String(err)}`;
    }
  };
  const closed = `127.0.0.1:${await freePort()}`;
  assert.equal(await kindOf(transport().sync(closed, datums)), "refused");

  const silent = createServer(() => {});
  silent.listen(0, "127.0.0.1");
  await new Promise((resolve) => silent.once("listening", resolve));
  closers.push(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const silentPeer = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  assert.equal(await kindOf(transport({ timeoutMs: 200 }).sync(silentPeer, datums)), "timeout");
  assert.equal(await kindOf(collect(transport({ timeoutMs: 200 }).snapshot(silentPeer, ""))), "timeout");

  const stalling = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@a":');
  });
  stalling.listen(0, "127.0.0.1");
  await new Promise((resolve) => stalling.once("listening", resolve));
  closers.push(() => {
    stalling.closeAllConnections();
    stalling.close();
  });
  const stallingPeer = `127.0.0.1:${(stalling.address() as AddressInfo).port}`;
  const stalledAt = Date.now();
  assert.equal(await kindOf(collect(transport({ timeoutMs: 200 }).snapshot(stallingPeer, ""))), "timeout", "a stream that stalls midway");
  assert.ok(Date.now() - stalledAt < 1500, "broken after one silent deadline, not later");

  const forbidden = await stub(() => ({ status: 403, body: "missing or wrong X-Nacos-Cluster-Secret" }));
  assert.equal(await kindOf(transport().sync(forbidden.address, datums)), "unauthenticated", "refused for the secret");
  const notMember = await stub(() => ({ status: 403, body: "127.0.0.9:8848 is not a member of this cluster" }));
  assert.equal(await kindOf(transport().sync(notMember.address, datums)), "rejected");
  const broken = await stub(() => ({ status: 500, body: "caused: boom;" }));
  assert.equal(await kindOf(transport().sync(broken.address, datums)), "unavailable");
  const garbage = await stub(() => ({ body: "not json" }));
  assert.equal(await kindOf(transport().query(garbage.address, [ORDERS])), "unavailable");
});
