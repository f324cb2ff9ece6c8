/** MemberInfo ↔ nacos.cluster.v1.MemberInfo. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  TABLE_LIMITS,
  rowProblem,
  switchUpdatesOf,
  type MemberInfo,
  type SwitchState,
  type TableRow,
} from "../../../node/cluster/member.js";
import { normalizeAddress } from "../../../core/address.js";
import type {
  MemberInfoSchema,
  MemberInfo as MemberInfoMessage,
  SwitchState as SwitchStateMessage,
  TableRow as TableRowMessage,
} from "../../../../gen/nacos/cluster/v1/member_pb.js";
import type { Version } from "../../../core/version.js";
import { encodeVersion } from "./datum.js";
import type { VersionFields } from "./datum-reader.js";
import { atMost, InvalidMessageError, port, present, safeInteger } from "./invalid.js";

const millis = (n: number): bigint => BigInt(Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n))));

export function encodeMember(info: MemberInfo): MessageInitShape<typeof MemberInfoSchema> {
  const { clock, confirmedThrough, switches, tables, ...rest } = info;
  return {
    ...rest,
    clockMillis: millis(clock ?? 0),
    confirmedThroughMillis: millis(confirmedThrough ?? 0),
    ...(switches === undefined ? {} : { switches: { version: encodeVersion(switches.version), updates: switches.updates } }),
    tables: (tables ?? []).map((r) => ({ table: r.table, key: r.key, value: r.value, version: encodeVersion(r.version) })),
  };
}

/**
 * The version of a table row or switch state as sent, whatever its counter: the node refuses one no peer may
 * send (versionProblem) and keeps the rest of the report, so a bad row costs that row, not the member.
 */
function sentVersion(m: VersionFields | undefined, path: string): Version {
  const v = present(m, path);
  return { counter: Number(v.counter), writer: v.writer };
}

function decodeTables(rows: readonly TableRowMessage[], path: string): TableRow[] {
  return atMost(rows, TABLE_LIMITS.rows, path).map((r, i) => {
    const problem = rowProblem(r.table, r.key, r.value);
    if (problem !== undefined) throw new InvalidMessageError(`${path}[${i}]`, problem);
    return { table: r.table, key: r.key, value: r.value, version: sentVersion(r.version, `${path}[${i}].version`) };
  });
}

function decodeSwitches(m: SwitchStateMessage, path: string): SwitchState {
  const read = switchUpdatesOf(Object.entries(m.updates));
  if ("problem" in read) throw new InvalidMessageError(`${path}.updates`, read.problem);
  return { version: sentVersion(m.version, `${path}.version`), updates: read.updates };
}

/** A member address exactly as `normalizeAddress` writes it: `ip:port`, IPv6 bracketed. */
function memberAddress(value: string, path: string): string {
  let normal: string;
  try {
    normal = normalizeAddress(value, 0);
  } catch (err) {
    throw new InvalidMessageError(path, (err as Error).message);
  }
  if (normal !== value) throw new InvalidMessageError(path, `'${value}' is not of the form ip:port`);
  return value;
}

export function decodeMember(m: MemberInfoMessage | undefined, path: string): MemberInfo {
  const info = present(m, path);
  const abilities = present(info.abilities, `${path}.abilities`);
  return {
    address: memberAddress(info.address, `${path}.address`),
    version: info.version,
    grpcPort: port(info.grpcPort, `${path}.grpcPort`),
    abilities: { grpcPeer: abilities.grpcPeer, httpPeer: abilities.httpPeer },
    ready: info.ready,
    viewHash: info.viewHash,
    clock: safeInteger(info.clockMillis, `${path}.clockMillis`),
    confirmedThrough: safeInteger(info.confirmedThroughMillis, `${path}.confirmedThroughMillis`),
    ...(info.switches === undefined ? {} : { switches: decodeSwitches(info.switches, `${path}.switches`) }),
    ...(info.tables.length === 0 ? {} : { tables: decodeTables(info.tables, `${path}.tables`) }),
    ...(info.connectionCount === undefined ? {} : { connectionCount: info.connectionCount }),
  };
}
