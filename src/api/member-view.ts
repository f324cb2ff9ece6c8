/**
 * Members as the HTTP API shows them: Nacos's Member JSON plus the peer transport in use and how many 2.x client
 * connections each holds (its own count for this node, what its reports said for the others; absent when a
 * member does not say, as a Nacos 1.4 one does not).
 */
import type { Member } from "../node/cluster/member.js";
import type { ClusterView } from "../node/naming-node.js";
import { encodeMember, encodeUnknownMember, type MemberJson } from "../transport/nacos14/codecs/member-json.js";
import type { NodeContext } from "./context.js";

export type MemberView = MemberJson & { readonly peerTransport?: "grpc" | "http"; readonly connectionCount?: number };

function memberJson(ctx: NodeContext, cluster: ClusterView, m: Member, now: number): MemberView {
  const self = m.address === cluster.selfAddress;
  const info = self ? cluster.selfInfo : m.info;
  const refreshed = self ? now : m.lastRefreshTime;
  const status = { state: m.state, failAccessCnt: m.failAccessCnt };
  const json = info === undefined ? encodeUnknownMember(m.address, refreshed, status) : encodeMember(info, refreshed, status);
  const transport = cluster.peerTransportOf(m.address);
  const connections = self ? ctx.node.connections.size : info?.connectionCount;
  return {
    ...json,
    ...(transport === undefined ? {} : { peerTransport: transport }),
    ...(connections === undefined ? {} : { connectionCount: connections }),
  };
}

export function membersJson(ctx: NodeContext): MemberView[] {
  const cluster = ctx.node.cluster();
  const now = ctx.node.scheduler.now();
  return cluster.members.map((m) => memberJson(ctx, cluster, m, now));
}

export function selfJson(ctx: NodeContext): MemberView {
  const cluster = ctx.node.cluster();
  const self = cluster.members.find((m) => m.address === cluster.selfAddress)!;
  return memberJson(ctx, cluster, self, ctx.node.scheduler.now());
}
