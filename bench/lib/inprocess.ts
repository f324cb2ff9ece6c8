/**
 * The in-process measurements (they import this checkout's src/, so they measure only it): a registry of
 * `services` × 10 instances on 3 members, then
 *  - verify traffic of a converged cluster, per peer and period: ts-nacos's bucketed summary vs the
 *    `{key: checksum}` map Nacos 1.4 sends (PUT /v1/ns/distro/checksum) for the same keys;
 *  - snapshot sender memory: the registry streamed in ~256 KiB protobuf chunks vs encoded as one message (the way
 *    Nacos 2.x answers a snapshot request), as the largest message alive at once;
 *  - snapshot encoding throughput of both, instances per second.
 * The two snapshot figures share one encoding pass per registry size.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { SnapshotResponseSchema, VerifyRequestSchema } from "../../gen/nacos/cluster/v1/distro_pb.js";
import { datumChecksum } from "../../src/core/checksum.js";
import type { Instance } from "../../src/core/instance.js";
import { parseServiceKey } from "../../src/core/naming.js";
import { Registry } from "../../src/core/registry.js";
import { bucketHashes } from "../../src/node/distro/digest.js";
import { DistroMapper } from "../../src/node/distro/distro-mapper.js";
import { snapshotChunks } from "../../src/node/distro/snapshot-source.js";
import { writeSnapshotChunk } from "../../src/transport/grpc/codecs/datum-writer.js";
import { encodeChunk, encodeVerify } from "../../src/transport/grpc/codecs/distro.js";
import { toLegacyKey } from "../../src/transport/nacos14/codecs/keys.js";
import type { Figure, Mode, Row } from "./figure.js";
import { instanceAddress } from "./http.js";

const PER_SERVICE = 10;
const MEMBERS = ["127.0.0.1:8848", "127.0.0.2:8848", "127.0.0.3:8848"];

export const servicesFor = (mode: Mode): number => ({ smoke: 500, quick: 2_000, default: 5_000, full: 20_000 })[mode];

export function registry(services: number): Registry {
  const r = new Registry(MEMBERS[0]!, () => 1_700_000_000_000);
  for (let s = 0; s < services; s++) {
    const svc = `DEFAULT_GROUP@@bench-service-${s}`;
    const instances: Instance[] = [];
    for (let i = 0; i < PER_SERVICE; i++) {
      const { ip } = instanceAddress(i);
      const port = 10_000 + (s % 50_000); // services differ by port
      const base = { instanceId: `${ip}#${port}#DEFAULT#${svc}`, ip, port, weight: 1, healthy: true, enabled: true, ephemeral: true };
      const rest = { clusterName: "DEFAULT", serviceName: svc, app: "DEFAULT", marked: false };
      instances.push({ ...base, ...rest, metadata: { version: "1.0.0", zone: `zone-${i % 3}` } });
    }
    r.commit(`public##${svc}`, {
      deleted: false,
      meta: { protectThreshold: 0, metadata: {}, selector: { type: "none" }, clusters: {} },
      instances,
    });
  }
  return r;
}

/** Bytes one verify round sends a peer: ours (bucketed summary) and Nacos 1.4's checksum map. */
export function verifyTraffic(r: Registry): { ours: number; nacos14: number; keys: number } {
  const mapper = new DistroMapper(MEMBERS[0]!);
  mapper.update(MEMBERS);
  const owned = [...r.services()].filter((d) => mapper.responsible(parseServiceKey(d.key).groupedName));
  const hashes = bucketHashes(
    owned.map((d) => ({ key: d.key, digest: d.digest })),
    64,
  );
  const summary = {
    kind: "summary" as const,
    source: MEMBERS[0]!,
    viewHash: mapper.viewHash,
    purgeHorizon: 0,
    bucketCount: 64,
    bucketHashes: hashes,
  };
  const ours = toBinary(VerifyRequestSchema, create(VerifyRequestSchema, encodeVerify(summary))).length;
  const checksums = owned.map((d) => [toLegacyKey(d.key), datumChecksum([...d.instances()])]);
  const nacos14 = Buffer.byteLength(JSON.stringify(Object.fromEntries(checksums)));
  return { ours, nacos14, keys: owned.length };
}

export interface SnapshotCosts {
  readonly instances: number;
  readonly streamedPeak: number;
  readonly singleBytes: number;
  readonly streamedRate: number;
  readonly singleRate: number;
}

async function measureSnapshot(r: Registry): Promise<SnapshotCosts> {
  const instances = r.instanceCount;
  let started = performance.now();
  let streamedPeak = 0;
  for await (const chunk of snapshotChunks(r, "", 256 * 1024)) {
    const bytes = writeSnapshotChunk(chunk); // what the node's gRPC server sends
    streamedPeak = Math.max(streamedPeak, bytes.length); // one chunk is alive at a time (the stream is back-pressured)
  }
  const streamedRate = instances / ((performance.now() - started) / 1000);
  started = performance.now();
  const all = { datums: [...r.services()].map((d) => d.snapshot()), totalKeys: r.size, totalInstances: instances, resumeToken: "" };
  const single = toBinary(SnapshotResponseSchema, create(SnapshotResponseSchema, encodeChunk(all)));
  const singleRate = instances / ((performance.now() - started) / 1000);
  return { instances, streamedPeak, singleBytes: single.length, streamedRate, singleRate };
}

const costs = new Map<number, Promise<SnapshotCosts>>();

/** Snapshot costs of a registry of `services` services, measured once per size and process. */
export function snapshotCosts(services: number): Promise<SnapshotCosts> {
  let c = costs.get(services);
  if (c === undefined) {
    c = measureSnapshot(registry(services));
    costs.set(services, c);
  }
  return c;
}

/** A figure measured in this process on a registry sized by the mode: `measure` gives its one row and raw numbers. */
export function inProcessFigure(name: string, title: string, measure: (services: number) => Promise<{ row: Row; raw: object }>): Figure {
  return {
    name,
    title,
    inProcess: true,
    async run(ctx) {
      const services = servicesFor(ctx.mode);
      const m = await measure(services);
      return { rows: [m.row], raw: { services, ...m.raw } };
    },
  };
}
