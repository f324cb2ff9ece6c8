/**
 * Verify digests: (key, datum digest) pairs spread over a fixed number of buckets, each bucket summarised by
 * an order-independent 64-bit hash (XOR of per-entry hashes). Two nodes holding the same datums compute the
 * same bucket hashes, so a converged cluster verifies with a few hundred bytes per peer.
 */
import { fnv1a } from "../../core/service-datum.js";
import type { DigestEntry } from "../ports.js";
import { javaStringHash } from "./distro-mapper.js";

export function digestBucket(key: string, bucketCount: number): number {
  return (javaStringHash(key) >>> 0) % bucketCount;
}

/** What one (key, digest) pair adds (by XOR) to its bucket's hash. */
export function contribution(key: string, digest: string): readonly [number, number] {
  const text = `${key}\u0000${digest}`;
  return [fnv1a(text), fnv1a(text, 0x050c5d1f)];
}

/** Bucket hashes from (bucket, contribution) pairs. */
export function combine(
  parts: Iterable<{ readonly bucket: number; readonly hi: number; readonly lo: number }>,
  bucketCount: number,
): string[] {
  const hi = new Uint32Array(bucketCount);
  const lo = new Uint32Array(bucketCount);
  for (const p of parts) {
    hi[p.bucket] = (hi[p.bucket]! ^ p.hi) >>> 0;
    lo[p.bucket] = (lo[p.bucket]! ^ p.lo) >>> 0;
  }
  return Array.from(hi, (h, b) => h.toString(16).padStart(8, "0") + lo[b]!.toString(16).padStart(8, "0"));
}

export function bucketHashes(entries: Iterable<DigestEntry>, bucketCount: number): string[] {
  const parts = [...entries].map(({ key, digest }) => {
    const [hi, lo] = contribution(key, digest);
    return { bucket: digestBucket(key, bucketCount), hi, lo };
  });
  return combine(parts, bucketCount);
}
