/**
 * One service as the registry holds it: its entries in a map, with the digest, the live count and the
 * estimated wire size kept up to date entry by entry. A write touches one entry and costs O(1) whatever the
 * size of its service; only readers that want the whole service as a value pay for it (`snapshot()`).
 *
 * Only the Registry changes a record. Everyone else reads it through ServiceState, and must not expect it to
 * stay the same across a change: entries and instances are immutable objects that a change replaces, so what
 * a reader took out stays valid, but the record moves on.
 */
import { entryBytes, metaBytes, utf8Bytes } from "./datum-size.js";
import type { Instance } from "./instance.js";
import {
  DEFAULT_SERVICE_META,
  entryHash,
  formatDigest,
  makeDatum,
  type InstanceEntry,
  type ServiceDatum,
  type ServiceMeta,
} from "./service-datum.js";
import { compareVersions, ZERO_VERSION, type Version } from "./version.js";

/** A service now, read-only. */
export interface ServiceState {
  readonly key: string;
  readonly deleted: boolean;
  readonly meta: ServiceMeta;
  readonly metaVersion: Version;
  /** The highest version anything in the service ever had. */
  readonly version: Version;
  /** Equal digests mean equal services (same entries at the same versions, same meta version). */
  readonly digest: string;
  /** Live instances. */
  readonly size: number;
  /** Tombstones held. */
  readonly tombstones: number;
  /** Estimated encoded bytes of the whole service (see datum-size.ts). */
  readonly bytes: number;
  /** Grows by one with every change: a cache built from this service is current while it is unchanged. */
  readonly revision: number;
  entry(id: string): InstanceEntry | undefined;
  /** Every entry, live and tombstone, in no particular order. */
  entries(): IterableIterator<InstanceEntry>;
  /** The live instances, in no particular order. */
  instances(): IterableIterator<Instance>;
  /** The whole service as an immutable value, entries sorted by id. */
  snapshot(): ServiceDatum;
}

export class ServiceRecord implements ServiceState {
  deleted = false;
  meta: ServiceMeta = DEFAULT_SERVICE_META;
  metaVersion: Version = ZERO_VERSION;
  version: Version = ZERO_VERSION;
  revision = 0;
  private readonly map = new Map<string, InstanceEntry>();
  private live = 0;
  private dead = 0;
  private sumA = 0;
  private sumB = 0;
  private entryBytesSum = 0;

  constructor(readonly key: string) {}

  get size(): number {
    return this.live;
  }

  get tombstones(): number {
    return this.dead;
  }

  get digest(): string {
    return formatDigest(this.metaVersion, this.sumA, this.sumB);
  }

  get bytes(): number {
    return 64 + utf8Bytes(this.key) + utf8Bytes(this.metaVersion.writer) + metaBytes(this.meta) + this.entryBytesSum;
  }

  entry(id: string): InstanceEntry | undefined {
    return this.map.get(id);
  }

  entries(): IterableIterator<InstanceEntry> {
    return this.map.values();
  }

  *instances(): IterableIterator<Instance> {
    for (const e of this.map.values()) if (e.instance !== undefined) yield e.instance;
  }

  snapshot(): ServiceDatum {
    return makeDatum(this.key, this.deleted, this.meta, this.metaVersion, this.map.values(), this.version);
  }

  /** The size the service would have with `entry` in place of what it holds under that id. */
  bytesWith(entry: InstanceEntry): number {
    const old = this.map.get(entry.id);
    const oldBytes = old === undefined ? 0 : entryBytes(old.id, old.version.writer, old.instance);
    return this.bytes - oldBytes + entryBytes(entry.id, entry.version.writer, entry.instance);
  }

  // ---- changes: the Registry only ----

  /** Puts an entry in place of what the record holds under its id; returns what was there. */
  put(entry: InstanceEntry): InstanceEntry | undefined {
    const old = this.map.get(entry.id);
    if (old !== undefined) this.account(old, -1);
    this.map.set(entry.id, entry);
    this.account(entry, 1);
    if (compareVersions(entry.version, this.version) > 0) this.version = entry.version;
    this.revision++;
    return old;
  }

  /** Forgets a tombstone (purge). */
  drop(id: string): void {
    const old = this.map.get(id);
    if (old === undefined) return;
    this.account(old, -1);
    this.map.delete(id);
    this.revision++;
  }

  setMeta(deleted: boolean, meta: ServiceMeta, metaVersion: Version): void {
    this.deleted = deleted;
    this.meta = meta;
    this.metaVersion = metaVersion;
    if (compareVersions(metaVersion, this.version) > 0) this.version = metaVersion;
    this.revision++;
  }

  private account(e: InstanceEntry, sign: 1 | -1): void {
    const [a, b] = entryHash(e.id, e.version, e.instance !== undefined);
    this.sumA = (this.sumA + sign * a) >>> 0;
    this.sumB = (this.sumB + sign * b) >>> 0;
    this.entryBytesSum += sign * entryBytes(e.id, e.version.writer, e.instance);
    if (e.instance === undefined) this.dead += sign;
    else this.live += sign;
  }
}
