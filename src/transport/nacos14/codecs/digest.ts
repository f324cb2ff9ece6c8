/**
 * Verify digests over HTTP, between ts-nacos nodes that speak the HTTP peer protocol. 1.4's checksum round
 * compares instance contents only, so two ts-nacos nodes could hold the same instances at different versions
 * forever; the same bucketed, versioned digest the gRPC transport carries (`PUT /v1/ns/distro/digest`) keeps
 * them identical. A 1.4 node has no such endpoint (404/501), and the transport falls back to checksums.
 */
import { badRequest } from "../../../core/errors.js";
import type { DigestEntry, VerifyDigest, VerifyReply } from "../../../node/ports.js";
import { expectArray, expectObject, expectString, requiredInteger, requiredString } from "./json.js";

export const DIGEST_PATH = "/distro/digest";

export function encodeDigest(d: VerifyDigest): Record<string, unknown> {
  return { ...d };
}

const integers = (value: unknown, where: string, max: number): number[] =>
  expectArray(value, where).map((v, i) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= max)
      throw badRequest(`${where}[${i}] must be an integer in [0, ${max})`);
    return v;
  });

/** Reads a digest; `source` comes from the request (the caller the secret admitted), never from the body. */
export function decodeDigest(value: unknown, source: string): VerifyDigest {
  const o = expectObject(value, "digest");
  const bucketCount = requiredInteger(o, "bucketCount", "digest", 1, 65536);
  const base = {
    source,
    viewHash: requiredString(o, "viewHash", "digest"),
    purgeHorizon: requiredInteger(o, "purgeHorizon", "digest", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    bucketCount,
  };
  if (o.kind === "summary") {
    const bucketHashes = expectArray(o.bucketHashes, "digest.bucketHashes").map((h, i) => expectString(h, `digest.bucketHashes[${i}]`));
    if (bucketHashes.length !== bucketCount) throw badRequest(`digest.bucketHashes must have ${bucketCount} entries`);
    return { ...base, kind: "summary", bucketHashes };
  }
  if (o.kind === "detail") {
    const entries = expectArray(o.entries, "digest.entries").map((e, i): DigestEntry => {
      const entry = expectObject(e, `digest.entries[${i}]`);
      return { key: requiredString(entry, "key", `digest.entries[${i}]`), digest: requiredString(entry, "digest", `digest.entries[${i}]`) };
    });
    return { ...base, kind: "detail", buckets: integers(o.buckets, "digest.buckets", bucketCount), entries };
  }
  throw badRequest("digest.kind must be summary or detail");
}

export const encodeVerifyReply = (r: VerifyReply): Record<string, unknown> => ({ mismatchedBuckets: r.mismatchedBuckets });

export function decodeVerifyReply(value: unknown): VerifyReply {
  const o = expectObject(value, "verify reply");
  return { mismatchedBuckets: integers(o.mismatchedBuckets, "verify reply.mismatchedBuckets", 65536) };
}
