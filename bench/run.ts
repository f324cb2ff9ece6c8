/**
 * `npm run bench`: side-by-side measurements in one run, reported as ratios.
 *
 * 1. Verify traffic of a converged cluster, per peer and period: ts-nacos's bucketed summary vs the
 *    `{key: checksum}` map Nacos 1.4 sends (PUT /v1/ns/distro/checksum) for the same keys.
 * 2. Snapshot sender memory: the registry streamed in ~256 KiB protobuf chunks vs encoded as one message (the way
 *    Nacos 2.x answers a snapshot request), measured as the peak of bytes alive for encoding at once, plus whether
 *    the single message would pass Nacos 2.x's 10 MiB default limit.
 * 3. Snapshot encoding throughput of both, instances per second.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { SnapshotResponseSchema, VerifyRequestSchema } from "../gen/nacos/cluster/v1/distro_pb.js";
import { datumChecksum } from "../src/core/checksum.js";
import type { Instance } from "../src/core/instance.js";
import { parseServiceKey } from "../src/core/naming.js";
import { Registry } from "../src/core/registry.js";
import { bucketHashes } from "../src/node/distro/digest.js";
import { DistroMapper } from "../src/node/distro/distro-mapper.js";
import { snapshotChunks } from "../src/node/distro/snapshot-source.js";
import { encodeChunk, encodeVerify } from "../src/transport/grpc/codecs/distro.js";
import { toLegacyKey } from "../src/transport/nacos14/codecs/keys.js";

const SERVICES = Number(process.env.BENCH_SERVICES ?? 5_000);
const PER_SERVICE = Number(process.env.BENCH_PER_SERVICE ?? 10);
const MEMBERS = ["127.0.0.1:8848", "127.0.0.2:8848", "127.0.0.3:8848"];

function registry(): Registry {
  const r = new Registry(MEMBERS[0]!, () => 1_700_000_000_000);
  for (let s = 0; s < SERVICES; s++) {
    const svc = `DEFAULT_GROUP@@bench-service-${s}`;
    const instances: Instance[] = [];
    for (let i = 0; i < PER_SERVICE; i++) {
      const ip = `198.51.100.${i + 1}`; // documentation addresses; services differ by port
      const port = 10_000 + (s % 50_000);
      instances.push({
        instanceId: `${ip}#${port}#DEFAULT#${svc}`,
        ip,
        port,
        weight: 1,
        healthy: true,
        enabled: true,
        ephemeral: true,
        clusterName: "DEFAULT",
        serviceName: svc,
        metadata: { version: "1.0.0", zone: `zone-${i % 3}` },
        app: "DEFAULT",
        marked: false,
      });
    }
    r.commit(`public##${svc}`, { deleted: false, meta: { protectThreshold: 0, metadata: {}, selector: { type: "none" } }, instances });
  }
  return r;
}

function verifyTraffic(r: Registry): { ours: number; nacos14: number } {
  const mapper = new DistroMapper(MEMBERS[0]!);
  mapper.update(MEMBERS);
  const owned = [...r.values()].filter((d) => mapper.responsible(parseServiceKey(d.key).groupedName));
  const bucketHashesOwned = bucketHashes(
    owned.map((d) => ({ key: d.key, digest: d.digest })),
    64,
  );
  const summary = {
    kind: "summary" as const,
    source: MEMBERS[0]!,
    viewHash: mapper.viewHash,
    purgeHorizon: 0,
    bucketCount: 64,
    bucketHashes: bucketHashesOwned,
  };
  const ours = toBinary(VerifyRequestSchema, create(VerifyRequestSchema, encodeVerify(summary))).length;
  const nacos14 = Buffer.byteLength(JSON.stringify(Object.fromEntries(owned.map((d) => [toLegacyKey(d.key), datumChecksum(d.instances)]))));
  return { ours, nacos14 };
}

async function snapshotCosts(
  r: Registry,
): Promise<{ streamedPeak: number; singleBytes: number; streamedRate: number; singleRate: number }> {
  let instances = 0;
  for (const d of r.values()) instances += d.instances.length;
  let started = performance.now();
  let streamedPeak = 0;
  for await (const chunk of snapshotChunks(r, "", 256 * 1024)) {
    const bytes = toBinary(SnapshotResponseSchema, create(SnapshotResponseSchema, encodeChunk(chunk)));
    streamedPeak = Math.max(streamedPeak, bytes.length); // one chunk is alive at a time (the stream is back-pressured)
  }
  const streamedRate = instances / ((performance.now() - started) / 1000);
  started = performance.now();
  const all = { datums: [...r.values()], totalKeys: r.size, totalInstances: instances, resumeToken: "" };
  const single = toBinary(SnapshotResponseSchema, create(SnapshotResponseSchema, encodeChunk(all)));
  const singleRate = instances / ((performance.now() - started) / 1000);
  return { streamedPeak, singleBytes: single.length, streamedRate, singleRate };
}

const r = registry();
const v = verifyTraffic(r);
const s = await snapshotCosts(r);
const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(2)} MiB`;
console.log(`registry: ${SERVICES} services × ${PER_SERVICE} instances, 3 members`);
console.log(
  `verify bytes per peer per period (converged): ts-nacos ${v.ours} B, Nacos 1.4 checksum map ${v.nacos14} B → ratio ${(v.nacos14 / v.ours).toFixed(1)}× less`,
);
console.log(
  `snapshot sender, largest message alive: streamed ${mib(s.streamedPeak)}, single message ${mib(s.singleBytes)} → ratio ${(s.singleBytes / s.streamedPeak).toFixed(1)}× less; ` +
    `single message ${s.singleBytes > 10 * 1024 * 1024 ? "EXCEEDS" : "fits"} Nacos 2.x's 10 MiB default limit`,
);
console.log(
  `snapshot encoding: streamed ${Math.round(s.streamedRate)} instances/s, single ${Math.round(s.singleRate)} instances/s → ratio ${(s.streamedRate / s.singleRate).toFixed(2)}`,
);
