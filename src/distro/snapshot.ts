/**
 * The sending side of a snapshot: the registry in key order, cut into chunks of a bounded estimated size.
 * Datums are read as each chunk is built, so memory stays at one chunk whatever the registry's size, and a
 * stream resumed after a key continues with the next one, never repeating or skipping a key.
 */
import type { Registry } from "../core/registry.js";
import type { ServiceDatum } from "../core/service-datum.js";
import type { SnapshotChunk } from "../transport/peer-transport.js";

const utf8 = (text: string): number => Buffer.byteLength(text, "utf8");

/**
 * An estimate of a datum's encoded size (UTF-8 strings plus per-field overhead), measured against the
 * protobuf encoding to stay at or above it, so a chunk's budget bounds the real message.
 */
export function estimateBytes(datum: ServiceDatum): number {
  let bytes = 64 + utf8(datum.key) + utf8(datum.metaVersion.writer);
  for (const k in datum.meta.metadata) bytes += 8 + utf8(k) + utf8(datum.meta.metadata[k] ?? "");
  for (const e of datum.entries) {
    bytes += 48 + utf8(e.id) + utf8(e.version.writer);
    const i = e.instance;
    if (i === undefined) continue;
    bytes += 96 + utf8(i.instanceId) + utf8(i.ip) + utf8(i.clusterName) + utf8(i.serviceName) + utf8(i.app);
    for (const k in i.metadata) bytes += 8 + utf8(k) + utf8(i.metadata[k] ?? "");
  }
  return bytes;
}

/** First index in sorted `keys` whose key is strictly greater than `after`. */
function firstAfter(keys: readonly string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function* snapshotChunks(
  registry: Registry,
  resumeAfter: string,
  chunkBytes: number,
): AsyncGenerator<SnapshotChunk> {
  const keys = registry.sortedKeys();
  let totalInstances = 0;
  for (const d of registry.values()) totalInstances += d.instances.length;
  const totals = { totalKeys: keys.length, totalInstances };
  let datums: ServiceDatum[] = [];
  let bytes = 0;
  let lastKey = resumeAfter;
  for (let i = resumeAfter === "" ? 0 : firstAfter(keys, resumeAfter); i < keys.length; i++) {
    const key = keys[i]!;
    const datum = registry.get(key);
    if (datum === undefined) continue; // forgotten since the stream started
    datums.push(datum);
    bytes += estimateBytes(datum);
    lastKey = key;
    if (bytes >= chunkBytes) {
      yield { datums, ...totals, resumeToken: lastKey };
      datums = [];
      bytes = 0;
    }
  }
  // Always end with one chunk, so even an empty registry tells the receiver its totals and the end token.
  if (datums.length > 0 || lastKey === resumeAfter) yield { datums, ...totals, resumeToken: lastKey };
}
