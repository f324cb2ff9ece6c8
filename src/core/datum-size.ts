/**
 * What a datum costs on the wire, estimated without encoding it: UTF-8 strings plus per-field overhead,
 * measured against the protobuf encoding to stay at or above it (test/transport/chunk-budget.test.ts). Every
 * bound on peer messages (sync batches, query answers, snapshot chunks, the size of one service) is kept with
 * this estimate, so a message built within a budget never exceeds it.
 */
import type { Instance } from "./instance.js";
import type { ServiceDatum, ServiceMeta } from "./service-datum.js";

const utf8 = (text: string): number => Buffer.byteLength(text, "utf8");

function metadataBytes(metadata: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const k in metadata) bytes += 8 + utf8(k) + utf8(metadata[k] ?? "");
  return bytes;
}

export const metaBytes = (meta: ServiceMeta): number => metadataBytes(meta.metadata);

/** One instance entry: its id and version, plus the instance when live. */
export function entryBytes(id: string, writer: string, instance: Instance | undefined): number {
  let bytes = 48 + utf8(id) + utf8(writer);
  if (instance === undefined) return bytes;
  const i = instance;
  bytes += 96 + utf8(i.instanceId) + utf8(i.ip) + utf8(i.clusterName) + utf8(i.serviceName) + utf8(i.app);
  return bytes + metadataBytes(i.metadata);
}

export function estimateBytes(datum: ServiceDatum): number {
  let bytes = 64 + utf8(datum.key) + utf8(datum.metaVersion.writer) + metaBytes(datum.meta);
  for (const e of datum.entries) bytes += entryBytes(e.id, e.version.writer, e.instance);
  return bytes;
}
