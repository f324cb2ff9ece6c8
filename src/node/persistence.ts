/**
 * What of a node outlives its process: every service's settings (deleted flag, metadata, protect threshold,
 * selector, cluster settings — with their version), every persistent instance entry (tombstones too, so a
 * removal survives a restart and nothing deleted comes back) and the switches. Ephemeral instances stay in
 * memory, as in Nacos: their clients re-register and beat.
 *
 * Written on every change whatever its origin (a client write here, a peer's sync, verify), so each node's
 * data directory holds what the node held; read back into the registry before the node turns ready. Entries
 * carry their versions, so loading merges like any peer datum: whatever the cluster learned since wins.
 * Tombstones (of instances and of table rows) leave the store when the node purges them.
 */
import type { Log } from "../core/log.js";
import { isPersistentId, type Instance } from "../core/instance.js";
import type { Registry, RegistryChange } from "../core/registry.js";
import { DEFAULT_SERVICE_META, makeDatum, type InstanceEntry, type ServiceMeta } from "../core/service-datum.js";
import { ZERO_VERSION, type Version } from "../core/version.js";
import type { SwitchState, TableRow } from "./cluster/member.js";
import type { ClusterTables } from "./cluster-table.js";
import type { DurableStore } from "./ports.js";

const SWITCHES = "switches";
const rowKeyOf = (row: TableRow): string => `t\u0000${row.table}\u0000${row.key}`;
const serviceKeyOf = (key: string): string => `s\u0000${key}`;
const entryKeyOf = (key: string, id: string): string => `e\u0000${key}\u0000${id}`;

interface StoredService {
  readonly key: string;
  readonly deleted: boolean;
  readonly meta: ServiceMeta;
  readonly metaVersion: Version;
}

interface StoredEntry {
  readonly key: string;
  readonly id: string;
  readonly version: Version;
  readonly instance: Instance | null;
}

const isPersistent = (e: InstanceEntry): boolean => isPersistentId(e.id);

const isVersion = (v: unknown): v is Version =>
  typeof v === "object" && v !== null && Number.isSafeInteger((v as Version).counter) && typeof (v as Version).writer === "string";

function isStoredService(v: unknown): v is StoredService {
  const s = v as StoredService;
  return typeof v === "object" && v !== null && typeof s.key === "string" && typeof s.deleted === "boolean" && isVersion(s.metaVersion);
}

/**
 * Switches and table rows are loaded whatever their counter: one no peer would take is re-versioned at load
 * (ClusterSwitches.restore, ClusterTables.restore) rather than lost.
 */
const isAnyVersion = (v: unknown): v is Version =>
  typeof v === "object" && v !== null && typeof (v as Version).counter === "number" && typeof (v as Version).writer === "string";

function isSwitchState(v: unknown): v is SwitchState {
  const s = v as SwitchState;
  return typeof v === "object" && v !== null && isAnyVersion(s.version) && typeof s.updates === "object" && s.updates !== null;
}

function isStoredRow(v: unknown): v is Omit<TableRow, "value"> & { readonly value: string | null } {
  const r = v as TableRow;
  return typeof v === "object" && v !== null && typeof r.table === "string" && typeof r.key === "string" && isAnyVersion(r.version);
}

function isStoredEntry(v: unknown): v is StoredEntry {
  const e = v as StoredEntry;
  return typeof v === "object" && v !== null && typeof e.key === "string" && typeof e.id === "string" && isVersion(e.version);
}

export class Persistence {
  private loading = false;
  /** Stored tombstones by store key → version counter, so a purge can drop them from the store too. */
  private readonly tombstones = new Map<string, number>();

  constructor(
    private readonly store: DurableStore,
    private readonly registry: Registry,
    private readonly tables: ClusterTables,
    private readonly log: Log,
  ) {
    registry.onChange((change) => {
      if (!this.loading) this.record(change);
    });
    tables.onChange((row) => {
      if (!this.loading) this.saveRow(row);
    });
  }

  get changes(): number {
    return this.store.changes;
  }

  /** Why the data directory takes no more writes, once it failed. */
  get failure(): string | undefined {
    return this.store.failure;
  }

  /** Resolves once what changed since `changesBefore` (a reading of `changes`) is on disk. */
  async durableSince(changesBefore: number): Promise<void> {
    if (this.store.changes !== changesBefore) await this.store.durable();
  }

  /**
   * Merges what the store holds into the registry and the tables (versions decide; `now` re-versions a stored
   * row no peer would take) and returns the stored switches, if any.
   */
  load(now: number): SwitchState | undefined {
    const services = new Map<string, StoredService>();
    const entries = new Map<string, InstanceEntry[]>();
    let switches: SwitchState | undefined;
    const rows: TableRow[] = [];
    let skipped = 0;
    for (const [storeKey, value] of this.store.entries()) {
      if (storeKey === SWITCHES && isSwitchState(value)) switches = value;
      else if (storeKey.startsWith("t\u0000") && isStoredRow(value)) {
        rows.push({ ...value, value: value.value ?? undefined });
        if (value.value === null) this.tombstones.set(storeKey, value.version.counter);
      } else if (storeKey.startsWith("s\u0000") && isStoredService(value)) services.set(value.key, value);
      else if (storeKey.startsWith("e\u0000") && isStoredEntry(value)) {
        const entry = { id: value.id, version: value.version, instance: value.instance ?? undefined };
        if (entry.instance === undefined) this.tombstones.set(storeKey, entry.version.counter);
        const list = entries.get(value.key);
        if (list === undefined) entries.set(value.key, [entry]);
        else list.push(entry);
      } else skipped++;
    }
    if (skipped > 0) this.log.warn("data log: records of an unknown shape skipped", { skipped });
    this.loading = true;
    let tables: ReturnType<ClusterTables["restore"]>;
    try {
      for (const key of new Set([...services.keys(), ...entries.keys()])) this.loadService(key, services.get(key), entries.get(key) ?? []);
      tables = this.tables.restore(rows, now);
    } finally {
      this.loading = false;
    }
    for (const row of tables.restamped) this.saveRow(row);
    if (tables.restamped.length > 0) {
      this.log.warn("stored table rows re-versioned: their versions were ahead of this node's clock", { rows: tables.restamped.length });
    }
    if (tables.refused.length > 0) this.log.warn("stored table rows not loaded", { rows: tables.refused.length, first: tables.refused[0] });
    this.log.info("loaded from the data directory", {
      services: services.size,
      persistentEntries: [...entries.values()].flat().length,
      tableRows: rows.length,
    });
    return switches;
  }

  saveSwitches(state: SwitchState): void {
    this.store.put(SWITCHES, state);
  }

  /** Drops stored tombstones the registry and the tables have purged (older than `before`). */
  purge(before: number): void {
    for (const [storeKey, counter] of this.tombstones) if (counter < before) this.forget(storeKey);
  }

  private loadService(key: string, service: StoredService | undefined, entries: InstanceEntry[]): void {
    // Entries without their service's record merge as a delta: they must not reset its settings.
    const datum =
      service === undefined
        ? {
            ...makeDatum(key, false, this.registry.service(key)?.meta ?? DEFAULT_SERVICE_META, ZERO_VERSION, entries),
            partial: true as const,
          }
        : makeDatum(key, service.deleted, { ...DEFAULT_SERVICE_META, ...service.meta }, service.metaVersion, entries);
    this.registry.apply(datum);
  }

  private record(change: RegistryChange): void {
    const { key, service } = change;
    if (service === undefined) {
      // Forgotten altogether: nothing of it may come back from the disk either.
      this.store.remove(serviceKeyOf(key));
      for (const { before, after } of change.entries) {
        const gone = before ?? after;
        if (gone !== undefined && isPersistent(gone)) this.forget(entryKeyOf(key, gone.id));
      }
      return;
    }
    if (change.metaChanged) {
      const stored: StoredService = { key, deleted: service.deleted, meta: service.meta, metaVersion: service.metaVersion };
      this.store.put(serviceKeyOf(key), stored);
    }
    for (const { after } of change.entries) {
      if (after === undefined || !isPersistent(after)) continue;
      const storeKey = entryKeyOf(key, after.id);
      const stored: StoredEntry = { key, id: after.id, version: after.version, instance: after.instance ?? null };
      this.store.put(storeKey, stored);
      if (after.instance === undefined) this.tombstones.set(storeKey, after.version.counter);
      else this.tombstones.delete(storeKey);
    }
  }

  private saveRow(row: TableRow): void {
    const storeKey = rowKeyOf(row);
    this.store.put(storeKey, { ...row, value: row.value ?? null });
    if (row.value === undefined) this.tombstones.set(storeKey, row.version.counter);
    else this.tombstones.delete(storeKey);
  }

  private forget(storeKey: string): void {
    this.store.remove(storeKey);
    this.tombstones.delete(storeKey);
  }
}
