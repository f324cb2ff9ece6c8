/** A cluster member as this node sees it, and what members tell each other about themselves. */
import type { Version } from "../../core/version.js";

/** The operator's switch updates, versioned as one cluster-wide value (node/cluster-switches.ts). */
export interface SwitchState {
  readonly version: Version;
  /** Entry (as `PUT /operator/switches?entry=` names it) → the value last set. */
  readonly updates: Readonly<Record<string, string>>;
}

/** What a peer's switch state may hold: far above the ~20 entries there are, far below what could hurt. */
export const SWITCH_LIMITS = Object.freeze({ entries: 64, keyChars: 64, valueChars: 1024 });

/**
 * A peer's switch updates as a plain record, or why they are refused (beyond SWITCH_LIMITS, or a value that is
 * not a string). A key like `__proto__` stays a key, and the switch validation refuses it.
 */
export function switchUpdatesOf(
  entries: ReadonlyArray<readonly [string, unknown]>,
): { readonly updates: Record<string, string> } | { readonly problem: string } {
  const { entries: most, keyChars, valueChars } = SWITCH_LIMITS;
  if (entries.length > most) return { problem: `has ${entries.length} entries, more than the ${most} allowed` };
  const updates: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== "string" || key.length > keyChars || value.length > valueChars) {
      return {
        problem: `entry '${key.slice(0, keyChars)}' must be a string of at most ${valueChars} characters, its key at most ${keyChars}`,
      };
    }
    Object.defineProperty(updates, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { updates };
}

export type MemberState = "STARTING" | "UP" | "SUSPICIOUS" | "DOWN";

/** Which peer protocols a node speaks; advertised in every member report so peers can pick a transport. */
export interface Abilities {
  /** Serves the typed gRPC peer services of proto/nacos/cluster/v1 on `grpcPort`. */
  readonly grpcPeer: boolean;
  /** Serves the Nacos 1.4 HTTP peer endpoints. */
  readonly httpPeer: boolean;
}

/** What a node reports about itself (the body of a member report and of its answer). */
export interface MemberInfo {
  /** `ip:port` of the HTTP port: the member's identity. */
  readonly address: string;
  readonly version: string;
  readonly grpcPort: number;
  readonly abilities: Abilities;
  /** True once the node holds a complete registry (its snapshot load finished). */
  readonly ready: boolean;
  /** Hash of the node's healthy member view; lets peers see whether they agree on responsibility. */
  readonly viewHash: string;
  /** The node's clock (ms) when it described itself, so peers notice a clock far off theirs; unknown for 1.4. */
  readonly clock: number | undefined;
  /**
   * The time (its clock, ms) through which every peer confirmed holding exactly what this node is responsible
   * for, by verify; 0 until all have. Tombstones older than every member's value are on every member and may
   * be forgotten. Undefined for a node that keeps no versioned data (Nacos 1.4), which holds nothing back.
   */
  readonly confirmedThrough: number | undefined;
  /** The switches as this member has them (cluster-switches.ts); undefined from members that do not spread them. */
  readonly switches?: SwitchState | undefined;
  /** Every row of the cluster tables as this member has them (cluster-table.ts); absent when it has none. */
  readonly tables?: readonly TableRow[] | undefined;
  // placeholder: owned by helper A (issue 17 design)
  readonly connectionCount?: number;
}

/** A row of the cluster tables (node/cluster-table.ts): the newest version of a (table, key) wins everywhere. */
export interface TableRow {
  readonly table: string;
  readonly key: string;
  /** Undefined: removed at `version`. */
  readonly value: string | undefined;
  readonly version: Version;
}

export interface Member {
  readonly address: string;
  state: MemberState;
  /** Consecutive failed reports to this member. */
  failAccessCnt: number;
  /** Scheduler time of the first failure of the current run of failures. */
  failingSince: number | undefined;
  /** Scheduler time of the last successful exchange with this member. */
  lastRefreshTime: number;
  /** Last self-description received from the member. */
  info: MemberInfo | undefined;
  /** Its clock minus ours when its description arrived (network delay included); undefined until heard from. */
  clockSkewMs: number | undefined;
}

/**
 * What a table may hold, from an operator or a peer alike. `rows` bounds what one report may list (tombstones
 * included); the bytes the tables take are bounded per node (ClusterTables), so a whole report fits a message.
 */
export const TABLE_LIMITS = Object.freeze({ rows: 10_000, tableChars: 32, keyChars: 256, valueChars: 8_192 });

/** Why a row is refused, or undefined when it is within the limits. */
export function rowProblem(table: string, key: string, value: string | undefined): string | undefined {
  if (table === "" || table.length > TABLE_LIMITS.tableChars) return `table name must have 1..${TABLE_LIMITS.tableChars} characters`;
  if (key === "" || key.length > TABLE_LIMITS.keyChars) return `key must have 1..${TABLE_LIMITS.keyChars} characters`;
  if (value !== undefined && value.length > TABLE_LIMITS.valueChars) return `value must have at most ${TABLE_LIMITS.valueChars} characters`;
  return undefined;
}

/** The longest writer a version may name: a member address (a 253-character host name, a port, brackets). */
export const MAX_WRITER_CHARS = 262;

/**
 * Why a version a peer (or the data directory) hands over for a switch state or a table row may not be taken,
 * or undefined when it may. As for datum versions (Registry.apply): a counter must be a safe integer no
 * further ahead of this node's clock than `maxAheadMs`, so no member can make every later change lose to it,
 * or drag this node's versions (and through them every peer's) towards 2^53 where they stop counting.
 */
export function versionProblem(version: Version, now: number, maxAheadMs: number): string | undefined {
  const { counter, writer } = version;
  if (!Number.isSafeInteger(counter) || counter < 0) return `version counter ${counter} is not an integer in 0..2^53-1`;
  if (counter > now + maxAheadMs) {
    return `version counter ${counter} is ${counter - now} ms ahead of this node's clock, more than the ${maxAheadMs} ms allowed`;
  }
  if (writer.length > MAX_WRITER_CHARS) return `version writer has more than ${MAX_WRITER_CHARS} characters`;
  return undefined;
}
