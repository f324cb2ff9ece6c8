/**
 * The sending side of a snapshot: the registry in key order, cut into chunks of a bounded estimated size.
 * Datums are read as each chunk is built, so memory stays at one chunk whatever the registry's size, and a
 * stream resumed after a key continues with the next one, never repeating or skipping a key.
 */
import type { RegistryView } from "../../core/registry.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import type { SnapshotChunk } from "../ports.js";

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

export async function* snapshotChunks(registry: RegistryView, resumeAfter: string, chunkBytes: number): AsyncGenerator<SnapshotChunk> {
  const keys = registry.sortedKeys();
  let totalInstances = 0;
  for (const service of registry.services()) totalInstances += service.size;
  const totals = { totalKeys: keys.length, totalInstances };
  let datums: ServiceDatum[] = [];
  let bytes = 0;
  let lastKey = resumeAfter;
  for (let i = resumeAfter === "" ? 0 : firstAfter(keys, resumeAfter); i < keys.length; i++) {
    const key = keys[i]!;
    const service = registry.service(key);
    if (service === undefined) continue; // forgotten since the stream started
    datums.push(service.snapshot());
    bytes += service.bytes;
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
