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

export function bucketHashes(entries: Iterable<DigestEntry>, bucketCount: number): string[] {
  const hi = new Uint32Array(bucketCount);
  const lo = new Uint32Array(bucketCount);
  for (const { key, digest } of entries) {
    const b = digestBucket(key, bucketCount);
    const text = `${key}\u0000${digest}`;
    hi[b] = (hi[b]! ^ fnv1a(text)) >>> 0;
    lo[b] = (lo[b]! ^ fnv1a(text, 0x050c5d1f)) >>> 0;
  }
  return Array.from(hi, (h, b) => h.toString(16).padStart(8, "0") + lo[b]!.toString(16).padStart(8, "0"));
}
