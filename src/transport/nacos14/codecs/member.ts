/**
 * Nacos's Member JSON (the body of `POST /v1/core/cluster/report` and, from 2.x on, of its answer) ↔
 * MemberInfo. What ts-nacos knows about itself and Nacos has no field for travels in `extendInfo.tsNacos`;
 * Nacos keeps extendInfo as an opaque map, so a ts-nacos peer reading our Member learns our MemberInfo and a
 * Nacos peer is unaffected. A Member without that marker is a real Nacos node: it speaks the 1.4 HTTP peer
 * protocol and not ours over gRPC.
 */
import { badRequest } from "../../../core/errors.js";
import { MAX_PORT } from "../../../core/instance.js";
import {
  rowProblem,
  switchUpdatesOf,
  TABLE_LIMITS,
  type MemberInfo,
  type SwitchState,
  type TableRow,
} from "../../../node/cluster/member.js";
import { normalizeAddress } from "../../../core/address.js";
import type { Version } from "../../../core/version.js";
import { encodeReportedMember } from "./member-json.js";
import {
  expectObject,
  optionalBoolean,
  optionalNumber,
  optionalInteger,
  optionalString,
  parseJson,
  requiredInteger,
  requiredString,
} from "./json.js";

/** Nacos's RestResult, as the report endpoint answers it (always HTTP 200; `code` tells). */
export interface RestResult {
  readonly code: number;
  readonly message: string | null;
  readonly data: string | null;
}

/** What a uint32 holds, as the gRPC codec reads a connection count. */
const MAX_COUNT = 0xffffffff;

/** What we assume of a Nacos node that told us nothing more: it answers 1.4 peer calls and holds its data. */
function nacosMemberInfo(address: string, version: string): MemberInfo {
  const abilities = { grpcPeer: false, httpPeer: true };
  return { address, version, grpcPort: 0, abilities, ready: true, viewHash: "", clock: undefined, confirmedThrough: undefined };
}

/** Reads a Member; a Member 1.4 would refuse (`Member.check()`: ip, address, port) is a 400. */
export function decodeMember(value: unknown): MemberInfo {
  const o = expectObject(value, "member");
  const ip = requiredString(o, "ip", "member");
  const port = requiredInteger(o, "port", "member", 1, MAX_PORT);
  const fallback = ip.includes(":") && !ip.startsWith("[") ? `[${ip}]:${port}` : `${ip}:${port}`;
  let address: string;
  try {
    address = normalizeAddress(optionalString(o, "address", "member", "") || fallback);
  } catch (err) {
    throw badRequest(`member.address: ${(err as Error).message}`);
  }
  const extend = o.extendInfo === undefined || o.extendInfo === null ? {} : expectObject(o.extendInfo, "member.extendInfo");
  const version = typeof extend.version === "string" ? extend.version : "";
  if (extend.tsNacos === undefined) return nacosMemberInfo(address, version);
  const marker = expectObject(extend.tsNacos, "member.extendInfo.tsNacos");
  const at = "member.extendInfo.tsNacos";
  return {
    address,
    version,
    grpcPort: optionalNumber(marker, "grpcPort", at, 0),
    abilities: {
      grpcPeer: optionalBoolean(marker, "grpcPeer", at, false),
      httpPeer: optionalBoolean(marker, "httpPeer", at, true),
    },
    ready: optionalBoolean(marker, "ready", at, true),
    viewHash: optionalString(marker, "viewHash", at, ""),
    clock: optionalInteger(marker, "clock", at),
    confirmedThrough: optionalInteger(marker, "confirmedThrough", at),
    ...(marker.switches === undefined ? {} : { switches: decodeSwitches(marker.switches, `${at}.switches`) }),
    ...(marker.tables === undefined ? {} : { tables: decodeTables(marker.tables, `${at}.tables`) }),
    ...(marker.connectionCount === undefined ? {} : { connectionCount: requiredInteger(marker, "connectionCount", at, 0, MAX_COUNT) }),
  };
}

/** As the gRPC codec reads them (TABLE_LIMITS); a bad one is a 400. */
function decodeTables(value: unknown, at: string): TableRow[] {
  if (!Array.isArray(value)) throw badRequest(`${at} must be an array`);
  if (value.length > TABLE_LIMITS.rows) throw badRequest(`${at}: more than ${TABLE_LIMITS.rows} rows`);
  return value.map((item, i) => {
    const o = expectObject(item, `${at}[${i}]`);
    const table = requiredString(o, "table", `${at}[${i}]`);
    const key = requiredString(o, "key", `${at}[${i}]`);
    const raw = o.value;
    if (raw !== null && raw !== undefined && typeof raw !== "string") throw badRequest(`${at}[${i}].value must be a string or null`);
    const rowValue = typeof raw === "string" ? raw : undefined;
    const problem = rowProblem(table, key, rowValue);
    if (problem !== undefined) throw badRequest(`${at}[${i}]: ${problem}`);
    return { table, key, value: rowValue, version: sentVersion(o.version, `${at}[${i}].version`) };
  });
}

/** As the gRPC codec reads it: any numeric counter, which the node refuses alone when no peer may send it. */
function sentVersion(value: unknown, at: string): Version {
  const version = expectObject(value, at);
  const counter = version.counter;
  if (typeof counter !== "number") throw badRequest(`${at}.counter must be a number`);
  return { counter, writer: optionalString(version, "writer", at, "") };
}

/** As the gRPC codec reads them (SWITCH_LIMITS); a bad one is a 400. */
function decodeSwitches(value: unknown, at: string): SwitchState {
  const o = expectObject(value, at);
  const version = sentVersion(o.version, `${at}.version`);
  const read = switchUpdatesOf(Object.entries(expectObject(o.updates, `${at}.updates`)));
  if ("problem" in read) throw badRequest(`${at}.updates: ${read.problem}`);
  return { version, updates: read.updates };
}

export const reportAccepted = (self: MemberInfo, now: number): RestResult => ({
  code: 200,
  message: null,
  data: JSON.stringify(encodeReportedMember(self, now)),
});

export const reportRefused: RestResult = { code: 400, message: "Node information is illegal", data: null };

/**
 * The peer's self-description from the `data` of an accepted report: a 2.x-style answer carries its Member
 * JSON; 1.4 answers `"true"`/`"false"`, and the peer stays a Nacos node as far as we know.
 */
export function memberFromReportData(peer: string, data: unknown): MemberInfo {
  const text = typeof data === "string" ? data.trim() : "";
  return text.startsWith("{") ? decodeMember(parseJson(text, "report answer data")) : nacosMemberInfo(peer, "");
}
