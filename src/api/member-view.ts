/** Members as the HTTP API shows them: Nacos's Member JSON plus the peer transport in use. */
import { encodeMember, encodeUnknownMember, type MemberJson } from "../transport/nacos14/codecs/member-json.js";
import type { Member } from "../node/cluster/member.js";
import type { NodeContext } from "./context.js";

export type MemberView = MemberJson & { readonly peerTransport?: "grpc" | "http" };

export function memberJson(ctx: NodeContext, m: Member): MemberView {
  const self = m.address === ctx.cluster.selfAddress;
  const info = self ? ctx.cluster.selfInfo() : m.info;
  const refreshed = self ? ctx.clock() : m.lastRefreshTime;
  const status = { state: m.state, failAccessCnt: m.failAccessCnt };
  const json = info === undefined ? encodeUnknownMember(m.address, refreshed, status) : encodeMember(info, refreshed, status);
  const transport = ctx.cluster.peerTransportOf(m.address);
  return transport === undefined ? json : { ...json, peerTransport: transport };
}

export const membersJson = (ctx: NodeContext): MemberView[] => ctx.cluster.members().map((m) => memberJson(ctx, m));
