/**
 * Small cluster-wide tables — namespaces, users, roles, permissions — as one replicated, durable map of
 * (table, key) → value. Each row carries its own version (a removal is a versioned tombstone), so concurrent
 * edits of different rows on different nodes both survive and the newest edit of a row wins everywhere, as for
 * instance entries. Rows travel whole in every member report (the tables are small: bounded below) and are
 * kept in the data directory; a node merges what a peer reports row by row.
 */
import { badRequest } from "../core/errors.js";
import { compareVersions } from "../core/version.js";
import { rowProblem, TABLE_LIMITS, type TableRow } from "./cluster/member.js";

export type { TableRow };

const rowKey = (table: string, key: string): string => `${table}\u0000${key}`;

export type TableListener = (row: TableRow) => void;

export class ClusterTables {
  private readonly rows = new Map<string, TableRow>();
  private readonly listeners: TableListener[] = [];
  private highest = 0;

  constructor(private readonly self: string) {}

  /** Called for every row that changed here, from an operator, a peer or the data directory. */
  onChange(listener: TableListener): void {
    this.listeners.push(listener);
  }

  get(table: string, key: string): string | undefined {
    return this.rows.get(rowKey(table, key))?.value;
  }

  /** The live rows of a table, in key order. */
  entries(table: string): Array<readonly [string, string]> {
    const out: Array<readonly [string, string]> = [];
    for (const row of this.rows.values()) if (row.table === table && row.value !== undefined) out.push([row.key, row.value]);
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /** Every row, tombstones included: what a member report carries. */
  all(): TableRow[] {
    return [...this.rows.values()];
  }

  /** Sets (or with `undefined` removes) a row here, versioned above the clock and everything seen; 400 beyond the limits. */
  set(table: string, key: string, value: string | undefined, now: number): TableRow {
    const problem = rowProblem(table, key, value);
    if (problem !== undefined) throw badRequest(problem);
    if (!this.rows.has(rowKey(table, key)) && this.rows.size >= TABLE_LIMITS.rows) {
      throw badRequest(`the cluster tables hold ${TABLE_LIMITS.rows} rows, the most allowed`);
    }
    const row: TableRow = { table, key, value, version: { counter: Math.max(now, this.highest + 1), writer: this.self } };
    this.put(row);
    return row;
  }

  /** Merges rows from a peer or the disk: each is taken if newer than ours; returns the rows taken. */
  merge(rows: readonly TableRow[]): TableRow[] {
    const taken: TableRow[] = [];
    for (const row of rows) {
      if (rowProblem(row.table, row.key, row.value) !== undefined) continue;
      const mine = this.rows.get(rowKey(row.table, row.key));
      if (mine !== undefined && compareVersions(row.version, mine.version) <= 0) continue;
      if (mine === undefined && this.rows.size >= TABLE_LIMITS.rows) continue;
      this.put(row);
      taken.push(row);
    }
    return taken;
  }

  private put(row: TableRow): void {
    this.rows.set(rowKey(row.table, row.key), row);
    this.highest = Math.max(this.highest, row.version.counter);
    for (const l of this.listeners) l(row);
  }
}
