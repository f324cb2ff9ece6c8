/** MemberInfo ↔ nacos.cluster.v1.MemberInfo. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { MemberInfo } from "../../../node/cluster/member.js";
import { normalizeAddress } from "../../../core/address.js";
import type { MemberInfoSchema, MemberInfo as MemberInfoMessage } from "../../../../gen/nacos/cluster/v1/member_pb.js";
import { InvalidMessageError, port, present, safeInteger } from "./invalid.js";

const millis = (n: number): bigint => BigInt(Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n))));

export function encodeMember(info: MemberInfo): MessageInitShape<typeof MemberInfoSchema> {
  const { clock, confirmedThrough, ...rest } = info;
  return { ...rest, clockMillis: millis(clock ?? 0), confirmedThroughMillis: millis(confirmedThrough ?? 0) };
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
  };
}
