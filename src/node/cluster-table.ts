/**
 * Small cluster-wide tables — namespaces, users, roles, permissions — as one replicated, durable map of
 * (table, key) → value. Each row carries its own version (a removal is a versioned tombstone), so concurrent
 * edits of different rows on different nodes both survive and the newest edit of a row wins everywhere, as for
 * instance entries. Rows travel whole in every member report and are kept in the data directory; a node
 * merges what a peer reports row by row.
 *
 * Why whole tables and not deltas: a report that carries everything repairs any loss by the next report, with
 * no per-peer acknowledgement state to keep. The price is that the tables must fit one report, so they are
 * bounded in bytes (`maxBytes`, as a report encodes them, tombstones included) well below what a peer accepts,
 * and tombstones are forgotten once every member holds them (`confirmedBy`, `purge`), as instance tombstones are.
 */
import { badRequest } from "../core/errors.js";
import { compareVersions } from "../core/version.js";
import { rowProblem, TABLE_LIMITS, versionProblem, type TableRow } from "./cluster/member.js";

export type { TableRow };

const rowKey = (table: string, key: string): string => `${table}\u0000${key}`;

/** What a row takes in a member report: its JSON, which is never smaller than its protobuf encoding. */
export const rowBytes = (row: TableRow): number => Buffer.byteLength(JSON.stringify({ ...row, value: row.value ?? null }));

export type TableListener = (row: TableRow) => void;

export interface TableBounds {
  /** The most bytes the rows may take (rowBytes, tombstones included): a report carrying all must fit a message. */
  readonly maxBytes: number;
  /** How far ahead of this node's clock a peer's row version may be (`--max-clock-skew-ms`). */
  readonly maxAheadMs: number;
}

interface Held {
  readonly row: TableRow;
  readonly bytes: number;
}

export class ClusterTables {
  private readonly rows = new Map<string, Held>();
  private readonly listeners: TableListener[] = [];
  private highest = 0;
  private heldBytes = 0;
  /** Tombstones below this were forgotten here: one arriving late for a row this node no longer has is not taken. */
  private purgedBefore = 0;

  constructor(
    private readonly self: string,
    private readonly bounds: TableBounds,
  ) {}

  /** Called for every row that changed here, from an operator, a peer or the data directory. */
  onChange(listener: TableListener): void {
    this.listeners.push(listener);
  }

  get(table: string, key: string): string | undefined {
    return this.rows.get(rowKey(table, key))?.row.value;
  }

  /** The live rows of a table, in key order. */
  entries(table: string): Array<readonly [string, string]> {
    const out: Array<readonly [string, string]> = [];
    for (const { row } of this.rows.values()) if (row.table === table && row.value !== undefined) out.push([row.key, row.value]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** Every row, tombstones included: what a member report carries. */
  all(): TableRow[] {
    return [...this.rows.values()].map((h) => h.row);
  }

  /** What the rows take in a report (rowBytes), tombstones included. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Sets (or with `undefined` removes) a row here, versioned above the clock and everything seen; 400 beyond the limits. */
  set(table: string, key: string, value: string | undefined, now: number): TableRow {
    const problem = rowProblem(table, key, value);
    if (problem !== undefined) throw badRequest(problem);
    const row: TableRow = { table, key, value, version: { counter: Math.max(now, this.highest + 1), writer: this.self } };
    const full = this.putWithin(row);
    if (full !== undefined) throw badRequest(full);
    return row;
  }

  /**
   * Merges rows from a peer: each is taken if it is within the limits, its version is one a peer may send
   * (versionProblem: never ahead of this node's clock by more than the allowed skew) and newer than ours, and
   * there is room for it. Returns the rows taken and why others were refused (a refused row leaves the rest).
   */
  merge(rows: readonly TableRow[], now: number): { readonly taken: TableRow[]; readonly refused: string[] } {
    const taken: TableRow[] = [];
    const refused: string[] = [];
    for (const row of rows) {
      const problem = rowProblem(row.table, row.key, row.value) ?? versionProblem(row.version, now, this.bounds.maxAheadMs);
      if (problem !== undefined) {
        refused.push(`${row.table}/${row.key}: ${problem}`);
        continue;
      }
      const mine = this.rows.get(rowKey(row.table, row.key));
      if (mine !== undefined && compareVersions(row.version, mine.row.version) <= 0) continue;
      if (mine === undefined && row.value === undefined && row.version.counter < this.purgedBefore) continue;
      const full = this.putWithin(row);
      if (full === undefined) taken.push(row);
      else refused.push(`${row.table}/${row.key}: ${full}`);
    }
    return { taken, refused };
  }

  /**
   * Takes the rows the data directory kept, as `merge` takes a peer's. A row whose version no peer would take
   * (written before versions were bounded, or under a clock since set back) is kept under a new version of this
   * node instead of being dropped or refused by every peer; returns those rows, which must be stored again.
   */
  restore(rows: readonly TableRow[], now: number): { readonly restamped: TableRow[]; readonly refused: string[] } {
    const bad = (row: TableRow): boolean => versionProblem(row.version, now, this.bounds.maxAheadMs) !== undefined;
    const { refused } = this.merge(
      rows.filter((row) => !bad(row)),
      now,
    );
    const restamped: TableRow[] = [];
    for (const stored of rows.filter(bad)) {
      if (this.rows.has(rowKey(stored.table, stored.key)) || rowProblem(stored.table, stored.key, stored.value) !== undefined) continue;
      const row: TableRow = { ...stored, version: { counter: Math.max(now, this.highest + 1), writer: this.self } };
      const full = this.putWithin(row);
      if (full === undefined) restamped.push(row);
      else refused.push(`${row.table}/${row.key}: ${full}`);
    }
    return { restamped, refused };
  }

  /**
   * How far `theirs` (a member's reported rows) is known to hold what this node removed: the highest counter
   * through which every tombstone here is held there at its version or a newer one. Only tombstones matter: a
   * removal may be forgotten once no member can hand back an older live row, and a member holding the removal
   * (or anything newer) never can again.
   */
  confirmedBy(theirs: readonly TableRow[]): number {
    let through = Number.MAX_SAFE_INTEGER;
    const held = new Map<string, TableRow>();
    for (const row of theirs) held.set(rowKey(row.table, row.key), row);
    for (const [key, { row }] of this.rows) {
      if (row.value !== undefined || row.version.counter > through) continue;
      const there = held.get(key);
      if (there === undefined || compareVersions(there.version, row.version) < 0) through = row.version.counter - 1;
    }
    return through;
  }

  /** Forgets the tombstones whose versions are below `before` (the purge horizon); returns how many. */
  purge(before: number): number {
    this.purgedBefore = Math.max(this.purgedBefore, before);
    let purged = 0;
    for (const [key, { row, bytes }] of this.rows) {
      if (row.value !== undefined || row.version.counter >= before) continue;
      this.rows.delete(key);
      this.heldBytes -= bytes;
      purged++;
    }
    return purged;
  }

  /** Puts `row` when there is room for it; otherwise returns why there is not. */
  private putWithin(row: TableRow): string | undefined {
    const bytes = rowBytes(row);
    const full = this.roomFor(row, bytes);
    if (full === undefined) this.put(row, bytes);
    return full;
  }

  /**
   * Why `row` does not fit, or undefined when it does. A removal of a row held here always fits (a tombstone
   * is no larger than its row but for the writer's name): the tables can always be emptied.
   */
  private roomFor(row: TableRow, bytes: number): string | undefined {
    const mine = this.rows.get(rowKey(row.table, row.key));
    if (mine !== undefined && row.value === undefined) return undefined;
    if (mine === undefined && this.rows.size >= TABLE_LIMITS.rows) {
      return `the cluster tables hold ${TABLE_LIMITS.rows} rows (removed ones included until every member has them), the most allowed`;
    }
    const after = this.heldBytes - (mine?.bytes ?? 0) + bytes;
    if (after <= this.bounds.maxBytes) return undefined;
    return (
      `the cluster tables would take ${after} bytes, more than the ${this.bounds.maxBytes} allowed ` +
      `(removed rows count until every member has them)`
    );
  }

  private put(row: TableRow, bytes: number): void {
    const key = rowKey(row.table, row.key);
    this.heldBytes += bytes - (this.rows.get(key)?.bytes ?? 0);
    this.rows.set(key, { row, bytes });
    this.highest = Math.max(this.highest, row.version.counter);
    for (const l of this.listeners) l(row);
  }
}
