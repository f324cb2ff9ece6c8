/**
 * The unit of replication: everything the registry knows about one service under one key — its metadata and
 * every instance, ephemeral and persistent — as a last-writer-wins map. Each instance entry and the metadata
 * carry their own version, and a removed instance stays as a versioned tombstone. Merging two copies keeps
 * the newer side of every entry, so merges are commutative, idempotent and never move anything back: two
 * writers on opposite sides of a partition cannot undo each other's changes or bring back what was removed.
 */
import { identityOf, type Instance, type Metadata } from "./instance.js";
import { compareVersions, ZERO_VERSION, type Version } from "./version.js";

export type Selector = { readonly type: "none" } | { readonly type: "label"; readonly expression: string };

export interface ServiceMeta {
  /** 1.4 semantics: a negative value disables the protect threshold. */
  readonly protectThreshold: number;
  readonly metadata: Metadata;
  readonly selector: Selector;
}

export const DEFAULT_SERVICE_META: ServiceMeta = Object.freeze({
  protectThreshold: 0,
  metadata: Object.freeze({}),
  selector: Object.freeze({ type: "none" as const }),
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
  /** Every instance entry, live or tombstone, sorted by id. */
  readonly entries: readonly InstanceEntry[];
  /** The highest version of anything in the datum. */
  readonly version: Version;
  /** A hash of every (id, version) and the meta version: equal digests mean equal datums. */
  readonly digest: string;
}

export const TOMBSTONE_CONTENT: ServiceContent = Object.freeze({
  deleted: true,
  meta: DEFAULT_SERVICE_META,
  instances: Object.freeze([]) as readonly Instance[],
});

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

function digestOf(metaVersion: Version, entries: readonly InstanceEntry[]): string {
  let text = `${metaVersion.counter}@${metaVersion.writer}`;
  for (const e of entries) text += `|${e.id}=${e.version.counter}@${e.version.writer}${e.instance === undefined ? "x" : ""}`;
  return fnv1a(text).toString(16).padStart(8, "0") + fnv1a(text, 0x050c5d1f).toString(16).padStart(8, "0");
}

/**
 * Builds a datum from its parts (entries in any order). A deleted service keeps no live instance older
 * than its deletion, whichever copy it came from.
 */
export function makeDatum(
  key: string,
  deleted: boolean,
  meta: ServiceMeta,
  metaVersion: Version,
  entries: Iterable<InstanceEntry>,
): ServiceDatum {
  const sorted = [...entries]
    .map((e) => (deleted && e.instance !== undefined && compareVersions(e.version, metaVersion) < 0 ? { ...e, instance: undefined } : e))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let version = metaVersion;
  const instances: Instance[] = [];
  for (const e of sorted) {
    version = maxVersion(version, e.version);
    if (e.instance !== undefined) instances.push(e.instance);
  }
  return { key, deleted, meta, metaVersion, entries: sorted, instances, version, digest: digestOf(metaVersion, sorted) };
}

export const emptyDatum = (key: string): ServiceDatum => makeDatum(key, false, DEFAULT_SERVICE_META, ZERO_VERSION, []);

/**
 * Merges a peer's copy into ours: per entry and for the meta, the higher version wins; tombstones older than
 * `purgeBefore` are dropped (every node forgets them on the same schedule). Returns `ours` itself when the
 * peer's copy adds nothing, so callers can tell a no-op by identity.
 */
export function mergeDatums(ours: ServiceDatum | undefined, theirs: ServiceDatum, purgeBefore = 0): ServiceDatum {
  if (ours === undefined) return purgeTombstones(theirs, purgeBefore);
  if (ours.digest === theirs.digest) return ours;
  const entries = new Map(ours.entries.map((e) => [e.id, e]));
  let changed = false;
  for (const e of theirs.entries) {
    const mine = entries.get(e.id);
    if (mine !== undefined && compareVersions(e.version, mine.version) <= 0) continue;
    if (mine === undefined && e.instance === undefined && e.version.counter < purgeBefore) continue;
    entries.set(e.id, e);
    changed = true;
  }
  const theirMeta = compareVersions(theirs.metaVersion, ours.metaVersion) > 0;
  if (!changed && !theirMeta) return ours;
  const metaSide = theirMeta ? theirs : ours;
  return makeDatum(ours.key, metaSide.deleted, metaSide.meta, metaSide.metaVersion, entries.values());
}

/** Drops tombstones older than `before`; returns the datum itself when there are none. */
export function purgeTombstones(datum: ServiceDatum, before: number): ServiceDatum {
  const stale = (e: InstanceEntry): boolean => e.instance === undefined && e.version.counter < before;
  if (!datum.entries.some(stale)) return datum;
  return makeDatum(
    datum.key,
    datum.deleted,
    datum.meta,
    datum.metaVersion,
    datum.entries.filter((e) => !stale(e)),
  );
}

function sameMetadata(a: Metadata, b: Metadata): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function sameSelector(a: Selector, b: Selector): boolean {
  if (a.type !== b.type) return false;
  return a.type === "none" || (b.type === "label" && a.expression === b.expression);
}

export function sameMeta(a: ServiceMeta, b: ServiceMeta): boolean {
  return a.protectThreshold === b.protectThreshold && sameMetadata(a.metadata, b.metadata) && sameSelector(a.selector, b.selector);
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
    sameMetadata(a.metadata, b.metadata)
  );
}

/**
 * The datum a local write produces. Creations and removals take the writer's clock (`version`); a change to
 * an instance or metadata that exists takes its own version plus one. So a change made from a stale copy —
 * say a health check on a node that has not yet heard of a deregistration — orders *before* the removal it
 * never saw and cannot bring the instance back, while a genuine re-registration (a creation) still wins.
 * Returns `previous` itself when the write changes nothing.
 */
export function writeDatum(key: string, previous: ServiceDatum | undefined, content: ServiceContent, version: Version): ServiceDatum {
  const before = previous ?? emptyDatum(key);
  const bump = (v: Version): Version => ({ counter: v.counter + 1, writer: version.writer });
  const entries = new Map(before.entries.map((e) => [e.id, e]));
  let changed = false;
  const live = new Set<string>();
  for (const instance of content.deleted ? [] : content.instances) {
    const id = identityOf(instance);
    live.add(id);
    const old = entries.get(id);
    if (old?.instance !== undefined && sameInstance(old.instance, instance)) continue;
    entries.set(id, { id, version: old?.instance !== undefined ? bump(old.version) : version, instance });
    changed = true;
  }
  for (const e of before.entries) {
    if (e.instance === undefined || live.has(e.id)) continue;
    entries.set(e.id, { id: e.id, version, instance: undefined });
    changed = true;
  }
  const created = previous === undefined || before.deleted !== content.deleted;
  const metaChanged = created || !sameMeta(before.meta, content.meta);
  if (!changed && !metaChanged) return before;
  const metaVersion = created ? version : metaChanged ? bump(before.metaVersion) : before.metaVersion;
  return makeDatum(key, content.deleted, content.meta, metaVersion, entries.values());
}
