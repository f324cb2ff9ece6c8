/**
 * Every service datum this node holds, whoever owns it. Local writes get a new version here; replicated
 * datums are applied only when newer, so the registry can never move a key back in time.
 */
import { parseServiceKey } from "./naming.js";
import {
  DEFAULT_SERVICE_META,
  sameContent,
  type ServiceContent,
  type ServiceDatum,
} from "./service-datum.js";
import { compareVersions, isNewer, nextVersion } from "./version.js";

export type ChangeOrigin = "local" | "remote";

export interface RegistryChange {
  readonly key: string;
  readonly previous: ServiceDatum | undefined;
  /** Undefined when the key was forgotten altogether (tombstone purge or verify removal). */
  readonly current: ServiceDatum | undefined;
  readonly origin: ChangeOrigin;
}

export type RegistryListener = (change: RegistryChange) => void;

export const EMPTY_SERVICE: ServiceContent = Object.freeze({
  deleted: false,
  meta: DEFAULT_SERVICE_META,
  instances: Object.freeze([]),
});

export class Registry {
  private readonly datums = new Map<string, ServiceDatum>();
  /** namespace → live grouped names, so listing a namespace never scans every key. */
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly listeners: RegistryListener[] = [];
  private liveInstances = 0;

  constructor(
    private readonly writer: string,
    private readonly clock: () => number,
  ) {}

  onChange(listener: RegistryListener): void {
    this.listeners.push(listener);
  }

  get(key: string): ServiceDatum | undefined {
    return this.datums.get(key);
  }

  /** The datum of a service that exists (not a tombstone). */
  getLive(key: string): ServiceDatum | undefined {
    const d = this.datums.get(key);
    return d === undefined || d.deleted ? undefined : d;
  }

  /**
   * A write by this node. Unchanged content keeps its version, so repeated registrations and full beats
   * cause no replication traffic. Returns the datum now held.
   */
  commit(key: string, content: ServiceContent): ServiceDatum {
    const previous = this.datums.get(key);
    if (previous !== undefined && sameContent(previous, content)) return previous;
    const datum: ServiceDatum = {
      key,
      version: nextVersion(previous?.version, this.clock(), this.writer),
      deleted: content.deleted,
      meta: content.meta,
      instances: content.instances,
    };
    this.store(datum, previous, "local");
    return datum;
  }

  /** A datum from a peer. Applied only if newer than what is held; returns whether it was applied. */
  apply(datum: ServiceDatum): boolean {
    const previous = this.datums.get(datum.key);
    if (!isNewer(datum.version, previous?.version)) return false;
    this.store(datum, previous, "remote");
    return true;
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
    if (previous !== undefined && compareVersions(datum.version, previous.version) <= 0) {
      throw new Error(`registry invariant: ${datum.key} would move back in version`);
    }
    this.datums.set(datum.key, datum);
    this.index(previous, datum);
    this.emit({ key: datum.key, previous, current: datum, origin });
  }

  private index(previous: ServiceDatum | undefined, current: ServiceDatum | undefined): void {
    const datum = current ?? previous;
    if (datum === undefined) return;
    const { namespaceId, groupedName } = parseServiceKey(datum.key);
    const live = (d: ServiceDatum | undefined): boolean => d !== undefined && !d.deleted;
    this.liveInstances += (live(current) ? current!.instances.length : 0) - (live(previous) ? previous!.instances.length : 0);
    if (live(current)) {
      let names = this.byNamespace.get(namespaceId);
      if (names === undefined) this.byNamespace.set(namespaceId, (names = new Set()));
      names.add(groupedName);
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
