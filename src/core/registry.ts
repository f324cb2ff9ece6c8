/**
 * Every service datum this node holds, whoever owns it. Local writes get versions from this node's hybrid
 * logical clock; replicated datums are merged entry by entry, so the registry never moves anything back.
 */
import { estimateBytes } from "./datum-size.js";
import { badRequest } from "./errors.js";
import { parseServiceKey } from "./naming.js";
import { DEFAULT_SERVICE_META, mergeDatums, purgeTombstones, writeDatum, type ServiceContent, type ServiceDatum } from "./service-datum.js";
import { compareVersions, type Version } from "./version.js";
import { getOrCreate } from "./memo.js";

export type ChangeOrigin = "local" | "remote";

export interface RegistryChange {
  readonly key: string;
  readonly previous: ServiceDatum | undefined;
  /** Undefined when the key was forgotten altogether (tombstone purge or verify removal). */
  readonly current: ServiceDatum | undefined;
  readonly origin: ChangeOrigin;
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

export const EMPTY_SERVICE: ServiceContent = Object.freeze({
  deleted: false,
  meta: DEFAULT_SERVICE_META,
  instances: Object.freeze([]),
});

/** What readers of a registry may do: look, list, count and listen; only the node writes. */
export interface RegistryView {
  onChange(listener: RegistryListener): void;
  get(key: string): ServiceDatum | undefined;
  /** The datum of a service that exists (not deleted). */
  getLive(key: string): ServiceDatum | undefined;
  keys(): IterableIterator<string>;
  values(): IterableIterator<ServiceDatum>;
  /** Keys in a stable order, for snapshots that resume after a given key. */
  sortedKeys(): string[];
  namespaces(): string[];
  /** Grouped names of the live services of a namespace, sorted. */
  serviceNames(namespaceId: string): string[];
  readonly size: number;
  readonly serviceCount: number;
  readonly instanceCount: number;
}

export class Registry implements RegistryView {
  private readonly datums = new Map<string, ServiceDatum>();
  /** namespace → live grouped names, so listing a namespace never scans every key. */
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly listeners: RegistryListener[] = [];
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
    return this.datums.get(key);
  }

  /** The datum of a service that exists (not deleted). */
  getLive(key: string): ServiceDatum | undefined {
    const d = this.datums.get(key);
    return d === undefined || d.deleted ? undefined : d;
  }

  /**
   * A write by this node. Only what changed gets a new version, so repeated registrations and full beats
   * cause no replication traffic. Returns the datum now held.
   *
   * `writer` is another member only when that member's write reaches us without versions (a Nacos 1.4 peer
   * sends its whole list): the change is recorded in its name and not replicated from here, since the
   * writer sends it to every member itself.
   */
  commit(key: string, content: ServiceContent, writer = this.writer): ServiceDatum {
    const previous = this.datums.get(key);
    const version: Version = { counter: Math.max(this.hlc + 1, Math.floor(this.clock())), writer };
    const datum = writeDatum(key, previous, content, version);
    if (datum === previous) return previous;
    this.checkSize(datum, previous);
    this.hlc = version.counter;
    this.store(datum, previous, writer === this.writer ? "local" : "remote");
    return datum;
  }

  /** Refuses a write that makes a datum larger than a peer message can carry. */
  private checkSize(datum: ServiceDatum, previous: ServiceDatum | undefined): void {
    if (this.maxDatumBytes === Number.POSITIVE_INFINITY) return;
    const bytes = estimateBytes(datum);
    if (bytes <= this.maxDatumBytes || (previous !== undefined && bytes <= estimateBytes(previous))) return;
    const { namespaceId, groupedName } = parseServiceKey(datum.key);
    throw badRequest(
      `service ${groupedName} (namespace ${namespaceId}) would hold about ${bytes} bytes of data, more than the ` +
        `${this.maxDatumBytes} bytes a peer message carries; remove instances or metadata, or raise --max-message-bytes on every node`,
    );
  }

  /**
   * A datum from a peer, merged into ours. The clock follows a peer's versions only within `maxAheadMs` of
   * its own reading, so no input can move it further than that.
   */
  apply(datum: ServiceDatum): ApplyOutcome {
    if (datum.version.counter > this.clock() + this.maxAheadMs) {
      this.refusedAhead++;
      return "ahead";
    }
    this.hlc = Math.max(this.hlc, datum.version.counter);
    const previous = this.datums.get(datum.key);
    const merged = mergeDatums(previous, datum, this.purgeBefore());
    if (merged === previous) return "unchanged";
    this.store(merged, previous, "remote");
    return "applied";
  }

  /** How far a version may be ahead of this node's clock before `apply` refuses it. */
  get maxAhead(): number {
    return this.maxAheadMs;
  }

  /** Drops expired tombstones everywhere; forgets deleted services that have nothing left. */
  purge(): void {
    const before = this.purgeBefore();
    for (const datum of [...this.datums.values()]) {
      const purged = purgeTombstones(datum, before);
      if (datum.deleted && purged.entries.length === 0 && datum.metaVersion.counter < before) this.forget(datum.key);
      else if (purged !== datum) this.replace(purged, datum);
    }
  }

  /** Forgets a key entirely (no tombstone). Only verify and tombstone expiry call this. */
  forget(key: string): void {
    const previous = this.datums.get(key);
    if (previous === undefined) return;
    this.datums.delete(key);
    this.index(previous, undefined);
    this.emit({ key, previous, current: undefined, origin: "remote" });
  }

  keys(): IterableIterator<string> {
    return this.datums.keys();
  }

  values(): IterableIterator<ServiceDatum> {
    return this.datums.values();
  }

  get size(): number {
    return this.datums.size;
  }

  /** Keys in a stable order, for snapshots that resume after a given key. */
  sortedKeys(): string[] {
    return [...this.datums.keys()].sort();
  }

  namespaces(): string[] {
    return [...this.byNamespace.keys()].sort();
  }

  /** Grouped names of the live services of a namespace, sorted. */
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

  private store(datum: ServiceDatum, previous: ServiceDatum | undefined, origin: ChangeOrigin): void {
    if (previous !== undefined && compareVersions(datum.version, previous.version) < 0) {
      throw new Error(`registry invariant: ${datum.key} would move back in version`);
    }
    this.datums.set(datum.key, datum);
    this.index(previous, datum);
    this.emit({ key: datum.key, previous, current: datum, origin });
  }

  /** A purge: content readers see no difference, so no listener needs to hear about it. */
  private replace(datum: ServiceDatum, previous: ServiceDatum): void {
    this.datums.set(datum.key, datum);
    this.index(previous, datum);
  }

  private index(previous: ServiceDatum | undefined, current: ServiceDatum | undefined): void {
    const datum = current ?? previous;
    if (datum === undefined) return;
    const { namespaceId, groupedName } = parseServiceKey(datum.key);
    const live = (d: ServiceDatum | undefined): d is ServiceDatum => d !== undefined && !d.deleted;
    this.liveInstances += (live(current) ? current.instances.length : 0) - (live(previous) ? previous.instances.length : 0);
    if (live(current)) {
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
