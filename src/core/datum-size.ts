/**
 * What a datum costs on the wire, estimated without encoding it: UTF-8 strings plus per-field overhead,
 * measured against the protobuf encoding to stay at or above it (test/transport/chunk-budget.test.ts). Every
 * bound on peer messages (sync batches, query answers, snapshot chunks, the size of one service) is kept with
 * this estimate, so a message built within a budget never exceeds it.
 */
import type { ClusterSettings } from "./cluster-settings.js";
import type { Instance } from "./instance.js";
import type { ServiceDatum, ServiceMeta } from "./service-datum.js";

export const utf8Bytes = (text: string): number => Buffer.byteLength(text, "utf8");

function metadataBytes(metadata: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const k in metadata) bytes += 8 + utf8Bytes(k) + utf8Bytes(metadata[k] ?? "");
  return bytes;
}

function clusterBytes(name: string, s: ClusterSettings): number {
  const c = s.healthChecker;
  const checker = c.type === "HTTP" ? 16 + utf8Bytes(c.path) + utf8Bytes(c.headers) : 4;
  return 24 + utf8Bytes(name) + checker + metadataBytes(s.metadata);
}

export function metaBytes(meta: ServiceMeta): number {
  let bytes = metadataBytes(meta.metadata);
  for (const name in meta.clusters) bytes += clusterBytes(name, meta.clusters[name]!);
  return bytes;
}

/** One instance entry: its id and version, plus the instance when live. */
export function entryBytes(id: string, writer: string, instance: Instance | undefined): number {
  let bytes = 48 + utf8Bytes(id) + utf8Bytes(writer);
  if (instance === undefined) return bytes;
  const i = instance;
  bytes += 96 + utf8Bytes(i.instanceId) + utf8Bytes(i.ip) + utf8Bytes(i.clusterName) + utf8Bytes(i.serviceName) + utf8Bytes(i.app);
  if (i.connection !== undefined) bytes += 8 + utf8Bytes(i.connection.node) + utf8Bytes(i.connection.connectionId);
  return bytes + metadataBytes(i.metadata);
}

export function estimateBytes(datum: ServiceDatum): number {
  let bytes = 64 + utf8Bytes(datum.key) + utf8Bytes(datum.metaVersion.writer) + metaBytes(datum.meta);
  for (const e of datum.entries) bytes += entryBytes(e.id, e.version.writer, e.instance);
  return bytes;
}
