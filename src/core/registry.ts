/**
 * Every service datum this node holds, whoever owns it. Local writes get versions from this node's hybrid
 * logical clock; replicated datums are merged entry by entry, so the registry never moves anything back.
 */
import { entryBytes, metaBytes } from "./datum-size.js";
import { badRequest } from "./errors.js";
import { sameBinding } from "./connection-binding.js";
import { identityOf, isPersistentId, type Instance } from "./instance.js";
import { Interner } from "./interner.js";
import { getOrCreate } from "./memo.js";
import { parseServiceKey } from "./naming.js";
import {
  DEFAULT_SERVICE_META,
  sameInstance,
  sameMeta,
  underDeletion,
  type InstanceEntry,
  type ServiceContent,
  type ServiceDatum,
  type ServiceMeta,
} from "./service-datum.js";
import { ServiceRecord, type ServiceState } from "./service-record.js";
import { compareVersions, ZERO_VERSION, type Version } from "./version.js";

export type ChangeOrigin = "local" | "remote";

/** One entry that changed: what the service held under its id before and after. */
export interface EntryChange {
  readonly before: InstanceEntry | undefined;
  readonly after: InstanceEntry | undefined;
}

export interface RegistryChange {
  readonly key: string;
  readonly origin: ChangeOrigin;
  /** The service now; undefined when the key was forgotten altogether (tombstone purge or verify removal). */
  readonly service: ServiceState | undefined;
  /** The entries that changed (every entry the service held, when it was forgotten). */
  readonly entries: readonly EntryChange[];
  /** Whether the service's `deleted`, meta or meta version changed. */
  readonly metaChanged: boolean;
  /** Whether the service existed (not deleted) before the change. */
  readonly wasLive: boolean;
}

export type RegistryListener = (change: RegistryChange) => void;

/** What `apply` did with a peer's datum. */
export type ApplyOutcome =
  /** Something in it was newer: merged. */
  | "applied"
  /** Nothing in it was newer. */
  | "unchanged"
  /** Refused: a version in it is further ahead of this node's clock than `maxAheadMs` allows. */
  | "ahead";

export interface RegistryOptions {
  /**
   * Tombstones with a version counter below this may be forgotten (see `purge`); a function so the horizon
   * moves with the clock and with what the cluster has acknowledged.
   */
  readonly purgeBefore?: () => number;
  /**
   * How far ahead of this node's clock a version from a peer may be. Versions are hybrid-logical-clock
   * values (milliseconds); one far in the future would drag this node's clock along and make every later
   * local write look out of range to peers that refuse it, so such datums are refused instead (and counted).
   */
  readonly maxAheadMs?: number;
  /**
   * The largest a datum may grow by a local write (estimated encoded bytes): a datum travels whole in peer
   * messages, so one that outgrew the message limit could never be replicated. Shrinking writes always pass.
   */
  readonly maxDatumBytes?: number;
}

/** The default bound on peer clock skew: a minute, far beyond NTP drift, far below a tombstone's life. */
export const DEFAULT_MAX_AHEAD_MS = 60_000;

/** What readers of a registry may do: look, list, count and listen; only the node writes. */
export interface RegistryView {
  onChange(listener: RegistryListener): void;
  /** The service as a value (O(size): readers that look at one entry or the digest use `service`). */
  get(key: string): ServiceDatum | undefined;
  /** The datum of a service that exists (not deleted). */
  getLive(key: string): ServiceDatum | undefined;
  /** The service as it is now, read-only and O(1). */
  service(key: string): ServiceState | undefined;
  /** A service that exists (not deleted). */
  liveService(key: string): ServiceState | undefined;
  services(): IterableIterator<ServiceState>;
  keys(): IterableIterator<string>;
  /** Keys in a stable order, for snapshots that resume after a given key. */
  sortedKeys(): string[];
  namespaces(): string[];
  /** Grouped names of the live services of a namespace, sorted. */
  serviceNames(namespaceId: string): string[];
  readonly size: number;
  readonly serviceCount: number;
  readonly instanceCount: number;
}

/** A change a write plans before any of it is applied: so a refused write leaves nothing half done. */
interface Plan {
  readonly entries: InstanceEntry[];
  meta: { readonly deleted: boolean; readonly meta: ServiceMeta; readonly metaVersion: Version } | undefined;
}

const bump = (v: Version, writer: string): Version => ({ counter: v.counter + 1, writer });

export class Registry implements RegistryView {
  private readonly records = new Map<string, ServiceRecord>();
  /** namespace → live grouped names, so listing a namespace never scans every key. */
  private readonly byNamespace = new Map<string, Set<string>>();
  /** Keys whose service holds tombstones: the only ones a purge visits. */
  private readonly withTombstones = new Set<string>();
  private readonly listeners: RegistryListener[] = [];
  private readonly interner = new Interner();
  private liveInstances = 0;
  /** Highest version counter issued or seen: the hybrid logical clock. */
  private hlc = 0;
  private readonly purgeBefore: () => number;
  private readonly maxAheadMs: number;
  private readonly maxDatumBytes: number;
  /** Peer datums refused for a version too far ahead of this node's clock. */
  refusedAhead = 0;

  constructor(
    private readonly writer: string,
    private readonly clock: () => number,
    options: RegistryOptions = {},
  ) {
    this.purgeBefore = options.purgeBefore ?? (() => 0);
    this.maxAheadMs = options.maxAheadMs ?? DEFAULT_MAX_AHEAD_MS;
    this.maxDatumBytes = options.maxDatumBytes ?? Number.POSITIVE_INFINITY;
  }

  onChange(listener: RegistryListener): void {
    this.listeners.push(listener);
  }

  get(key: string): ServiceDatum | undefined {
    return this.records.get(key)?.snapshot();
  }

  getLive(key: string): ServiceDatum | undefined {
    return this.liveService(key)?.snapshot();
  }

  service(key: string): ServiceState | undefined {
    return this.records.get(key);
  }

  liveService(key: string): ServiceState | undefined {
    const r = this.records.get(key);
    return r === undefined || r.deleted ? undefined : r;
  }

  services(): IterableIterator<ServiceState> {
    return this.records.values();
  }

  // ---- local writes: only what changed gets a new version, so repeated registrations cause no traffic ----
  //
  // `writer` is another member only when that member's write reaches us without versions (a Nacos 1.4 peer
  // sends its whole list): the change is recorded in its name and not replicated from here, since the writer
  // sends it to every member itself.

  /**
   * Puts and removes instances of one service in one change. A new instance (or one over a tombstone) takes
   * the writer's clock; a change to a live one takes its own version plus one, so a change made from a stale
   * copy orders before a removal it never saw (unless it binds the instance to another connection: see
   * entryPlan); a removal leaves a tombstone at the writer's clock. Putting
   * into a missing or deleted service creates it. O(instances named). Returns whether anything changed.
   */
  update(key: string, edit: { readonly put?: readonly Instance[]; readonly remove?: readonly string[] }, writer = this.writer): boolean {
    const record = this.records.get(key);
    const live = record !== undefined && !record.deleted;
    const version = this.nextVersion(writer);
    const put = edit.put ?? [];
    const meta = put.length === 0 ? undefined : this.metaPlan(record, false, live ? record.meta : DEFAULT_SERVICE_META, version);
    const plan: Plan = { entries: [], meta };
    for (const instance of put) {
      const entry = this.entryPlan(record, instance, version);
      if (entry !== undefined) plan.entries.push(entry);
    }
    for (const id of edit.remove ?? []) {
      const known = record?.entry(id);
      // Removing a persistent instance this node does not hold (yet: it may be loading, or the one node that
      // held it may be down with it in its data directory) still leaves a tombstone, so that copy loses when
      // it shows up.
      if ((live && known?.instance !== undefined) || (known === undefined && isPersistentId(id))) {
        plan.entries.push({ id, version, instance: undefined });
      }
    }
    // A service this node does not know is not created by a removal: it stays deleted (at no version, so
    // the service's own settings win wherever they come from) and holds only the tombstone.
    if (record === undefined && plan.entries.length > 0)
      plan.meta ??= { deleted: true, meta: DEFAULT_SERVICE_META, metaVersion: ZERO_VERSION };
    return this.execute(key, record, plan, version);
  }

  /** Creates, changes or (with `deleted`) deletes a service: a deletion removes every instance. O(size) on deletion. */
  writeMeta(key: string, deleted: boolean, meta: ServiceMeta, writer = this.writer): boolean {
    const record = this.records.get(key);
    const version = this.nextVersion(writer);
    const plan: Plan = { entries: [], meta: this.metaPlan(record, deleted, meta, version) };
    if (deleted)
      for (const e of record?.entries() ?? []) if (e.instance !== undefined) plan.entries.push({ id: e.id, version, instance: undefined });
    return this.execute(key, record, plan, version);
  }

  /**
   * Makes the service look like `content` as a whole: instances not in it are removed, `deleted` removes
   * them all. O(size of the service). Returns whether anything changed.
   */
  commit(key: string, content: ServiceContent, writer = this.writer): boolean {
    const record = this.records.get(key);
    const version = this.nextVersion(writer);
    const plan: Plan = { entries: [], meta: this.metaPlan(record, content.deleted, content.meta, version) };
    const kept = new Set<string>();
    for (const instance of content.deleted ? [] : content.instances) {
      kept.add(identityOf(instance));
      const entry = this.entryPlan(record, instance, version);
      if (entry !== undefined) plan.entries.push(entry);
    }
    for (const e of record?.entries() ?? []) {
      if (e.instance !== undefined && !kept.has(e.id)) plan.entries.push({ id: e.id, version, instance: undefined });
    }
    return this.execute(key, record, plan, version);
  }

  private nextVersion(writer: string): Version {
    return { counter: Math.max(this.hlc + 1, Math.floor(this.clock())), writer };
  }

  /**
   * A change to a live instance takes its version plus one; a new instance, or one now bound to another
   * connection (or to none), takes the writer's clock: a client that registered again over a new connection
   * states something newer than anything said before, whatever copy its new holder had.
   */
  private entryPlan(record: ServiceRecord | undefined, instance: Instance, version: Version): InstanceEntry | undefined {
    const id = identityOf(instance);
    const old = record?.entry(id)?.instance;
    if (old !== undefined && sameInstance(old, instance)) return undefined;
    const changed = old !== undefined && sameBinding(old.connection, instance.connection);
    return { id, version: changed ? bump(record!.entry(id)!.version, version.writer) : version, instance };
  }

  private metaPlan(record: ServiceRecord | undefined, deleted: boolean, meta: ServiceMeta, version: Version): Plan["meta"] {
    const created = record === undefined || record.deleted !== deleted;
    if (created) return { deleted, meta, metaVersion: version };
    if (sameMeta(record.meta, meta)) return undefined;
    return { deleted, meta, metaVersion: bump(record.metaVersion, version.writer) };
  }

  private execute(key: string, record: ServiceRecord | undefined, plan: Plan, version: Version): boolean {
    if (plan.entries.length === 0 && plan.meta === undefined) return false;
    this.checkSize(key, record, plan);
    this.hlc = version.counter;
    this.change(key, record, plan, version.writer === this.writer ? "local" : "remote");
    return true;
  }

  /** Refuses a write that makes a service larger than a peer message can carry; shrinking always passes. */
  private checkSize(key: string, record: ServiceRecord | undefined, plan: Plan): void {
    if (this.maxDatumBytes === Number.POSITIVE_INFINITY) return;
    const before = record?.bytes ?? 0;
    let after = record?.bytes ?? new ServiceRecord(key).bytes;
    for (const e of plan.entries) {
      const old = record?.entry(e.id);
      after +=
        entryBytes(e.id, e.version.writer, e.instance) - (old === undefined ? 0 : entryBytes(old.id, old.version.writer, old.instance));
    }
    if (plan.meta !== undefined && record !== undefined) after += metaBytes(plan.meta.meta) - metaBytes(record.meta);
    if (after <= this.maxDatumBytes || (record !== undefined && after <= before)) return;
    const { namespaceId, groupedName } = parseServiceKey(key);
    throw badRequest(
      `service ${groupedName} (namespace ${namespaceId}) would hold about ${after} bytes of data, more than the ` +
        `${this.maxDatumBytes} bytes a peer message carries; remove instances or metadata, or raise --max-message-bytes on every node`,
    );
  }

  // ---- peers ----

  /**
   * A datum from a peer — a whole service or only some of its entries (a delta) — merged entry by entry:
   * the higher version wins, and a deletion removes every instance older than itself. O(entries received),
   * plus O(size) when it deletes the service. The clock follows a peer's versions only within `maxAheadMs`
   * of its own reading, so no input can move it further than that.
   */
  apply(datum: ServiceDatum): ApplyOutcome {
    if (datum.version.counter > this.clock() + this.maxAheadMs) {
      this.refusedAhead++;
      return "ahead";
    }
    this.hlc = Math.max(this.hlc, datum.version.counter);
    const record = this.records.get(datum.key);
    const theirMeta = record === undefined || compareVersions(datum.metaVersion, record.metaVersion) > 0;
    const deleted = theirMeta ? datum.deleted : record.deleted;
    const metaVersion = theirMeta ? datum.metaVersion : record.metaVersion;
    const plan: Plan = { entries: [], meta: theirMeta ? { deleted, meta: datum.meta, metaVersion } : undefined };
    const purgeBefore = this.purgeBefore();
    const planned = new Set<string>();
    for (const received of datum.entries) {
      const e = underDeletion(received, deleted, metaVersion);
      const mine = record?.entry(e.id);
      if (mine !== undefined && compareVersions(e.version, mine.version) <= 0) continue;
      if (mine === undefined && e.instance === undefined && e.version.counter < purgeBefore) continue;
      plan.entries.push(e);
      planned.add(e.id);
    }
    if (theirMeta && deleted && record !== undefined) {
      for (const e of record.entries()) {
        if (planned.has(e.id)) continue;
        const gone = underDeletion(e, deleted, metaVersion);
        if (gone !== e) plan.entries.push(gone);
      }
    }
    if (plan.entries.length === 0 && plan.meta === undefined) return "unchanged";
    this.change(datum.key, record, plan, "remote");
    return "applied";
  }

  /** How far a version may be ahead of this node's clock before `apply` refuses it. */
  get maxAhead(): number {
    return this.maxAheadMs;
  }

  /** Drops expired tombstones; forgets deleted services that have nothing left. Visits only services with tombstones. */
  purge(): void {
    const before = this.purgeBefore();
    for (const key of [...this.withTombstones]) {
      const record = this.records.get(key)!;
      for (const e of [...record.entries()]) if (e.instance === undefined && e.version.counter < before) record.drop(e.id);
      if (record.tombstones === 0) this.withTombstones.delete(key);
    }
    for (const record of [...this.records.values()]) {
      if (record.deleted && record.tombstones + record.size === 0 && record.metaVersion.counter < before) this.forget(record.key);
    }
  }

  /** Forgets a key entirely (no tombstone). Only verify and tombstone expiry call this. */
  forget(key: string): void {
    const record = this.records.get(key);
    if (record === undefined) return;
    const wasLive = !record.deleted;
    this.records.delete(key);
    this.withTombstones.delete(key);
    this.index(key, wasLive, record.size, false, 0);
    const entries = [...record.entries()].map((before): EntryChange => ({ before, after: undefined }));
    this.emit({ key, origin: "remote", service: undefined, entries, metaChanged: true, wasLive });
  }

  keys(): IterableIterator<string> {
    return this.records.keys();
  }

  get size(): number {
    return this.records.size;
  }

  sortedKeys(): string[] {
    return [...this.records.keys()].sort();
  }

  namespaces(): string[] {
    return [...this.byNamespace.keys()].sort();
  }

  serviceNames(namespaceId: string): string[] {
    return [...(this.byNamespace.get(namespaceId) ?? [])].sort();
  }

  get serviceCount(): number {
    let n = 0;
    for (const names of this.byNamespace.values()) n += names.size;
    return n;
  }

  get instanceCount(): number {
    return this.liveInstances;
  }

  /** Applies a plan to the record (creating it), keeps the indexes and tells the listeners. */
  private change(key: string, existing: ServiceRecord | undefined, plan: Plan, origin: ChangeOrigin): void {
    const record = existing ?? new ServiceRecord(key);
    if (existing === undefined) this.records.set(key, record);
    const wasLive = existing !== undefined && !existing.deleted;
    const sizeBefore = record.size;
    const entries: EntryChange[] = [];
    if (plan.meta !== undefined) record.setMeta(plan.meta.deleted, plan.meta.meta, plan.meta.metaVersion);
    for (const planned of plan.entries) {
      const after = this.interner.entry(planned);
      entries.push({ before: record.put(after), after });
    }
    if (record.tombstones > 0) this.withTombstones.add(key);
    else this.withTombstones.delete(key);
    this.index(key, wasLive, sizeBefore, !record.deleted, record.size);
    this.emit({ key, origin, service: record, entries, metaChanged: plan.meta !== undefined, wasLive });
  }

  private index(key: string, wasLive: boolean, sizeBefore: number, isLive: boolean, sizeAfter: number): void {
    this.liveInstances += (isLive ? sizeAfter : 0) - (wasLive ? sizeBefore : 0);
    if (wasLive === isLive) return;
    const { namespaceId, groupedName } = parseServiceKey(key);
    if (isLive) {
      getOrCreate(this.byNamespace, namespaceId, () => new Set<string>()).add(groupedName);
    } else {
      const names = this.byNamespace.get(namespaceId);
      names?.delete(groupedName);
      if (names?.size === 0) this.byNamespace.delete(namespaceId);
    }
  }

  private emit(change: RegistryChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
