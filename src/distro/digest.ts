/**
 * Verify digests: (key, version) pairs spread over a fixed number of buckets, each bucket summarised by an
 * order-independent 64-bit hash (XOR of per-entry hashes). Two nodes holding the same keys at the same
 * versions compute the same bucket hashes, so a converged cluster verifies with a few hundred bytes.
 */
import type { Version } from "../core/version.js";
import type { DigestEntry } from "../transport/peer-transport.js";
import { javaStringHash } from "./distro-mapper.js";

export function digestBucket(key: string, bucketCount: number): number {
  return (javaStringHash(key) >>> 0) % bucketCount;
}

/** FNV-1a over UTF-16 code units with a given offset basis; two bases give 64 bits. */
function fnv1a(text: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const entryText = (key: string, v: Version): string => `${key}\u0000${v.counter}\u0000${v.writer}`;

export function bucketHashes(entries: Iterable<DigestEntry>, bucketCount: number): string[] {
  const hi = new Uint32Array(bucketCount);
  const lo = new Uint32Array(bucketCount);
  for (const { key, version } of entries) {
    const b = digestBucket(key, bucketCount);
    const text = entryText(key, version);
    hi[b] = (hi[b]! ^ fnv1a(text, 0x811c9dc5)) >>> 0;
    lo[b] = (lo[b]! ^ fnv1a(text, 0x050c5d1f)) >>> 0;
  }
  return Array.from(hi, (h, b) => h.toString(16).padStart(8, "0") + lo[b]!.toString(16).padStart(8, "0"));
}
