/**
 * Nacos's Member JSON, as `/v1/core/cluster/*`, `/v1/ns/operator/servers` and the 1.4 member report carry it.
 * What ts-nacos knows about a member and Nacos has no field for travels in `extendInfo.tsNacos`; Nacos keeps
 * extendInfo as an opaque map, so a ts-nacos peer reading it learns our MemberInfo and Nacos is unaffected.
 */
import type { MemberInfo, MemberState, SwitchState, TableRow } from "../../../node/cluster/member.js";
import { splitAddress } from "../../../core/address.js";

interface TsNacosMarker {
  readonly grpcPort: number;
  readonly grpcPeer: boolean;
  readonly httpPeer: boolean;
  readonly ready: boolean;
  readonly viewHash: string;
  readonly clock: number;
  readonly confirmedThrough: number;
  readonly connectionCount?: number;
  readonly switches?: SwitchState;
  readonly tables?: ReadonlyArray<Omit<TableRow, "value"> & { readonly value: string | null }>;
}

export interface MemberJson {
  readonly ip: string;
  readonly port: number;
  readonly state: string;
  readonly address: string;
  readonly failAccessCnt: number;
  readonly extendInfo: {
    readonly site: string;
    readonly adWeight: string;
    readonly weight: string;
    readonly raftPort: string;
    readonly version: string;
    readonly lastRefreshTime: number;
    readonly tsNacos?: TsNacosMarker;
  };
  /**
   * Nacos 2.x's abilities. Both flags are about Nacos's *own* gRPC protocol, which ts-nacos does not speak, so
   * they are false: a 2.x node then reports to us over HTTP and opens no gRPC connection to us.
   */
  readonly abilities: { readonly remoteAbility: { readonly supportRemoteConnection: false; readonly grpcReportEnabled: false } };
}

export interface MemberStatus {
  readonly state: MemberState;
  readonly failAccessCnt: number;
}

const UP: MemberStatus = { state: "UP", failAccessCnt: 0 };

/**
 * A member's JSON as the API lists it; `info` is what it last told us (undefined until we have heard from it).
 * Without the switch state and the table rows a report spreads: those are for members (the users table holds
 * password hashes), and the API shows the switches and namespaces through their own routes.
 */
export function encodeMember(info: MemberInfo, lastRefreshTime: number, status: MemberStatus = UP): MemberJson {
  return memberJson(info.address, info.version, lastRefreshTime, status, marker(info));
}

/** A member's JSON as a member report carries it (either way): everything it spreads included. */
export function encodeReportedMember(info: MemberInfo, now: number): MemberJson {
  return memberJson(info.address, info.version, now, UP, {
    ...marker(info),
    ...(info.switches === undefined ? {} : { switches: info.switches }),
    ...(info.tables === undefined ? {} : { tables: info.tables.map((r) => ({ ...r, value: r.value ?? null })) }),
  });
}

function marker(info: MemberInfo): TsNacosMarker {
  return {
    grpcPort: info.grpcPort,
    grpcPeer: info.abilities.grpcPeer,
    httpPeer: info.abilities.httpPeer,
    ready: info.ready,
    viewHash: info.viewHash,
    clock: info.clock ?? 0,
    confirmedThrough: info.confirmedThrough ?? 0,
    ...(info.connectionCount === undefined ? {} : { connectionCount: info.connectionCount }),
  };
}

/** A member we have not heard from yet: only its address and state are known. */
export function encodeUnknownMember(address: string, lastRefreshTime: number, status: MemberStatus): MemberJson {
  return memberJson(address, "", lastRefreshTime, status, undefined);
}

function memberJson(
  address: string,
  version: string,
  lastRefreshTime: number,
  status: MemberStatus,
  tsNacos: TsNacosMarker | undefined,
): MemberJson {
  const { host, port } = splitAddress(address);
  return {
    ip: host,
    port,
    state: status.state,
    address,
    failAccessCnt: status.failAccessCnt,
    extendInfo: {
      site: "unknow", // sic: 1.4's default site
      adWeight: "0",
      weight: "1",
      raftPort: String(port - 1000),
      version,
      lastRefreshTime,
      ...(tsNacos === undefined ? {} : { tsNacos }),
    },
    abilities: { remoteAbility: { supportRemoteConnection: false, grpcReportEnabled: false } },
  };
}
