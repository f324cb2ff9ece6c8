/**
 * Everything the HTTP layer needs from a node. The API is a thin adapter: it parses and validates
 * parameters, calls into this context and formats the answer the way Nacos 1.4 does.
 */
import type { Member, MemberInfo } from "../node/cluster/member.js";
import type { ClientWriter } from "../core/ops.js";
import type { Registry } from "../core/registry.js";
import type { Switches } from "../core/switches.js";
import type { PushSubscriptions } from "../push/subscriber.js";

export interface ClusterView {
  readonly selfAddress: string;
  /** Every member including this node, sorted by address. */
  members(): readonly Member[];
  selfInfo(): MemberInfo;
  /** The member responsible for a grouped service name. */
  responsibleFor(groupedName: string): string;
  isResponsible(groupedName: string): boolean;
  /** The peer transport calls to a member use right now; undefined for this node or when standalone. */
  peerTransportOf(address: string): "grpc" | "http" | undefined;
  readonly standalone: boolean;
}

export interface NodeStatus {
  /** True once the registry is complete (standalone: at start; cluster: after the snapshot load), until a stop begins. */
  ready(): boolean;
  /** True once a graceful stop has begun. */
  stopping(): boolean;
  /** `UP` unless the `overriddenServerStatus` switch says otherwise (a loading node still serves; readiness tells). */
  serverStatus(): string;
  /** Extra lines for /metrics (Prometheus text), e.g. snapshot progress. */
  metricsText(): string;
}

export interface NodeContext {
  readonly registry: Registry;
  readonly switches: Switches;
  readonly writer: ClientWriter;
  readonly push: PushSubscriptions;
  readonly cluster: ClusterView;
  readonly status: NodeStatus;
  readonly clock: () => number;
  readonly version: string;
  /** The cluster secret: a request claiming to come from a peer must carry it (undefined: an open cluster). */
  readonly peerSecret: string | undefined;
}
