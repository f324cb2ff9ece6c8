/** Verify digests and snapshot chunks ↔ nacos.cluster.v1 messages (datums themselves: datum-codec). */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SnapshotChunk, VerifyDigest, VerifyReply } from "../../../node/ports.js";
import type {
  SnapshotResponseSchema,
  VerifyRequest,
  VerifyRequestSchema,
  VerifyResponse,
  VerifyResponseSchema,
} from "../../../../gen/nacos/cluster/v1/distro_pb.js";
import type { ChunkFields } from "./datum-reader.js";
import { decodeDatums, encodeDatum } from "./datum.js";
import { atMost, inRange, InvalidMessageError, LIMITS, nonEmpty, safeInteger, unknownCase } from "./invalid.js";

/** Bounds what a digest can make the receiver allocate (one hash per bucket). */
const MAX_BUCKET_COUNT = 65_536;

/** The digest's `source` is not sent: it is the caller, known from the call's metadata. */
export function encodeVerify(d: VerifyDigest): MessageInitShape<typeof VerifyRequestSchema> {
  // Clocks give integer milliseconds; were a horizon ever fractional, flooring it only purges less, which is safe.
  const common = { viewHash: d.viewHash, purgeHorizon: BigInt(Math.floor(d.purgeHorizon)), bucketCount: d.bucketCount };
  return d.kind === "summary"
    ? { ...common, round: { case: "summary", value: { bucketHashes: [...d.bucketHashes] } } }
    : { ...common, round: { case: "detail", value: { buckets: [...d.buckets], entries: [...d.entries] } } };
}

export function decodeVerify(m: VerifyRequest, source: string, path: string): VerifyDigest {
  const bucketCount = inRange(m.bucketCount, 1, MAX_BUCKET_COUNT, `${path}.bucketCount`);
  const common = { source, viewHash: m.viewHash, purgeHorizon: safeInteger(m.purgeHorizon, `${path}.purgeHorizon`), bucketCount };
  const { round } = m;
  switch (round.case) {
    case "summary": {
      const { bucketHashes } = round.value;
      if (bucketHashes.length !== bucketCount) {
        const problem = `has ${bucketHashes.length} hashes for ${bucketCount} buckets`;
        throw new InvalidMessageError(`${path}.summary.bucketHashes`, problem);
      }
      return { kind: "summary", ...common, bucketHashes };
    }
    case "detail": {
      const at = `${path}.detail`;
      const buckets = atMost(round.value.buckets, bucketCount, `${at}.buckets`).map((b, n) =>
        inRange(b, 0, bucketCount - 1, `${at}.buckets[${n}]`),
      );
      const entries = atMost(round.value.entries, LIMITS.digestEntriesPerDetail, `${at}.entries`).map((e, n) => ({
        key: nonEmpty(e.key, `${at}.entries[${n}].key`),
        digest: e.digest,
      }));
      return { kind: "detail", ...common, buckets, entries };
    }
    default:
      throw unknownCase(`${path}.round`);
  }
}

export const encodeVerifyReply = (r: VerifyReply): MessageInitShape<typeof VerifyResponseSchema> => ({
  mismatchedBuckets: [...r.mismatchedBuckets],
});

export const decodeVerifyReply = (m: VerifyResponse): VerifyReply => ({ mismatchedBuckets: m.mismatchedBuckets });

export function encodeChunk(c: SnapshotChunk): MessageInitShape<typeof SnapshotResponseSchema> {
  return {
    datums: c.datums.map(encodeDatum),
    totalKeys: BigInt(c.totalKeys),
    totalInstances: BigInt(c.totalInstances),
    resumeToken: c.resumeToken,
  };
}

export function decodeChunk(m: ChunkFields, path: string): SnapshotChunk {
  return {
    datums: decodeDatums(m.datums, `${path}.datums`),
    totalKeys: safeInteger(m.totalKeys, `${path}.totalKeys`),
    totalInstances: safeInteger(m.totalInstances, `${path}.totalInstances`),
    resumeToken: m.resumeToken,
  };
}
