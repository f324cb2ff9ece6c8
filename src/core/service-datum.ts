/**
 * The unit of replication: everything the registry knows about one service under one key — its metadata and
 * every instance, ephemeral and persistent — as a last-writer-wins map. Each instance entry and the metadata
 * carry their own version, and a removed instance stays as a versioned tombstone. Merging two copies keeps
 * the newer side of every entry, so merges are commutative, idempotent and never move anything back: two
 * writers on opposite sides of a partition cannot undo each other's changes or bring back what was removed.
 */
import { sameClusters, type ClusterMap } from "./cluster-settings.js";
import { sameBinding } from "./connection-binding.js";
import { sameMetadata, type Instance, type Metadata } from "./instance.js";
import { compareVersions, type Version } from "./version.js";

export type Selector = { readonly type: "none" } | { readonly type: "label"; readonly expression: string };

export interface ServiceMeta {
  /** 1.4 semantics: a negative value disables the protect threshold. */
  readonly protectThreshold: number;
  readonly metadata: Metadata;
  readonly selector: Selector;
  /** Settings of the clusters that have their own (`PUT /cluster`), by name; the others have the defaults. */
  readonly clusters: ClusterMap;
}

export const DEFAULT_SERVICE_META: ServiceMeta = Object.freeze({
  protectThreshold: 0,
  metadata: Object.freeze({}),
  selector: Object.freeze({ type: "none" as const }),
  clusters: Object.freeze({}),
});

export interface InstanceEntry {
  /** `identityOf(instance)`. */
  readonly id: string;
  readonly version: Version;
  /** Undefined for a tombstone: the instance was removed at `version`. */
  readonly instance: Instance | undefined;
}

/** What a local write says a service should look like; the registry turns it into versioned entries. */
export interface ServiceContent {
  /** The service was deleted (DELETE /service). */
  readonly deleted: boolean;
  readonly meta: ServiceMeta;
  readonly instances: readonly Instance[];
}

export interface ServiceDatum extends ServiceContent {
  /** `namespace##group@@name`. */
  readonly key: string;
  /** Version of `deleted` and `meta`. */
  readonly metaVersion: Version;
  /** Every instance entry, live or tombstone, sorted by id (a delta's in no particular order). */
  readonly entries: readonly InstanceEntry[];
  /** The highest version of anything in the datum. */
  readonly version: Version;
  /** A hash of every (id, version) and the meta version: equal digests mean equal datums. */
  readonly digest: string;
  /**
   * Only some of the service's entries (a delta): what it lacks is not removed, entries merge one by one.
   * Peers that take whole lists (Nacos 1.4) never get one.
   */
  readonly partial?: true;
}

const maxVersion = (a: Version, b: Version): Version => (compareVersions(a, b) >= 0 ? a : b);

/** FNV-1a, 32 bits, over UTF-16 code units: cheap and stable, for digests (not security). */
export function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * The digest of a datum is a sum (mod 2^32, two independent hashes) of one hash per entry plus one for the
 * meta version. A sum does not depend on order, so the registry keeps it up to date in O(1) per changed entry
 * (subtract the old entry's hash, add the new one's) instead of re-hashing a whole service on every write.
 */
export type DigestSums = readonly [number, number];

const HASH_B = 0x050c5d1f;

export function entryHash(id: string, version: Version, live: boolean): DigestSums {
  const text = `${id}=${version.counter}@${version.writer}${live ? "" : "x"}`;
  return [fnv1a(text), fnv1a(text, HASH_B)];
}

export function metaHash(metaVersion: Version): DigestSums {
  const text = `${metaVersion.counter}@${metaVersion.writer}`;
  return [fnv1a(text), fnv1a(text, HASH_B)];
}

export function formatDigest(metaVersion: Version, sumA: number, sumB: number): string {
  const [ma, mb] = metaHash(metaVersion);
  const hex = (n: number): string => n.toString(16).padStart(8, "0");
  return hex((ma + sumA) >>> 0) + hex((mb + sumB) >>> 0);
}

function digestOf(metaVersion: Version, entries: readonly InstanceEntry[]): string {
  let a = 0;
  let b = 0;
  for (const e of entries) {
    const [ea, eb] = entryHash(e.id, e.version, e.instance !== undefined);
    a = (a + ea) >>> 0;
    b = (b + eb) >>> 0;
  }
  return formatDigest(metaVersion, a, b);
}

/**
 * Some entries of a service, with its meta: what a peer merges entry by entry. Unsorted, and without a digest
 * (a digest describes a whole service; nobody compares a delta's).
 */
export function makeDelta(
  key: string,
  deleted: boolean,
  meta: ServiceMeta,
  metaVersion: Version,
  entries: readonly InstanceEntry[],
): ServiceDatum {
  let version = metaVersion;
  const instances: Instance[] = [];
  for (const e of entries) {
    version = maxVersion(version, e.version);
    if (e.instance !== undefined) instances.push(e.instance);
  }
  return { key, deleted, meta, metaVersion, entries, instances, version, digest: "", partial: true };
}

/** An entry as a deleted service holds it: a deletion removes every instance older than itself. */
export function underDeletion(e: InstanceEntry, deleted: boolean, metaVersion: Version): InstanceEntry {
  return deleted && e.instance !== undefined && compareVersions(e.version, metaVersion) < 0
    ? { id: e.id, version: e.version, instance: undefined }
    : e;
}

/**
 * Builds a datum from its parts (entries in any order). A deleted service keeps no live instance older
 * than its deletion, whichever copy it came from. `atLeast` raises the datum's version (a registry keeps the
 * highest version a service ever had, tombstones since purged included).
 */
export function makeDatum(
  key: string,
  deleted: boolean,
  meta: ServiceMeta,
  metaVersion: Version,
  entries: Iterable<InstanceEntry>,
  atLeast: Version = metaVersion,
): ServiceDatum {
  const sorted = [...entries].map((e) => underDeletion(e, deleted, metaVersion)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let version = maxVersion(metaVersion, atLeast);
  const instances: Instance[] = [];
  for (const e of sorted) {
    version = maxVersion(version, e.version);
    if (e.instance !== undefined) instances.push(e.instance);
  }
  return { key, deleted, meta, metaVersion, entries: sorted, instances, version, digest: digestOf(metaVersion, sorted) };
}

function sameSelector(a: Selector, b: Selector): boolean {
  if (a.type !== b.type) return false;
  return a.type === "none" || (b.type === "label" && a.expression === b.expression);
}

export function sameMeta(a: ServiceMeta, b: ServiceMeta): boolean {
  return (
    a.protectThreshold === b.protectThreshold &&
    sameMetadata(a.metadata, b.metadata) &&
    sameSelector(a.selector, b.selector) &&
    sameClusters(a.clusters, b.clusters)
  );
}

export function sameInstance(a: Instance, b: Instance): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.ip === b.ip &&
    a.port === b.port &&
    a.weight === b.weight &&
    a.healthy === b.healthy &&
    a.enabled === b.enabled &&
    a.ephemeral === b.ephemeral &&
    a.clusterName === b.clusterName &&
    a.serviceName === b.serviceName &&
    a.app === b.app &&
    a.marked === b.marked &&
    sameMetadata(a.metadata, b.metadata) &&
    sameBinding(a.connection, b.connection)
  );
}

/** A service's clusters as 1.4's cluster map holds them: those with instances and those configured (`PUT /cluster`), sorted. */
export function clusterNamesOf(service: Pick<ServiceContent, "instances" | "meta">): string[] {
  return [...new Set([...service.instances.map((i) => i.clusterName), ...Object.keys(service.meta.clusters)])].sort();
}
