/**
 * Everything the HTTP layer needs from a node. The API is a thin adapter: it parses and validates
 * parameters, calls into this context and formats the answer the way Nacos 1.4 does.
 */
import type { ClientWriter } from "../core/ops.js";
import type { RegistryView } from "../core/registry.js";
import type { Switches } from "../core/switches.js";
import type { ClientConnections } from "../node/clients/client-connections.js";
import type { ClusterTables } from "../node/cluster-table.js";
import type { ClientConnectionInfo } from "../node/clients/client-connections.js";
import type { ClusterView, NamingNode, NodeStats } from "../node/naming-node.js";
import type { PushStats } from "../push/push-service.js";
import type { PushSubscriptions } from "../push/subscriber.js";
import type { ClientPortStats } from "../transport/nacos2/client-port.js";
import type { AuthSettings } from "./auth/auth-settings.js";

/** What the API reads of a node (the NamingNode facade is one). */
export interface NodeView {
  readonly registry: RegistryView;
  readonly switches: Switches;
  /** Changes a switch as `PUT /operator/switches` asks (400 for a bad entry or value); durable when resolved. */
  updateSwitch(entry: string, value: string): Promise<void>;
  /** Namespaces, users, roles, permissions: small cluster-wide tables (node/cluster-table.ts). */
  readonly tables: Pick<ClusterTables, "get" | "entries">;
  /** Sets (or with `undefined` removes) a row of a cluster table (400 beyond the limits); durable when resolved. */
  setTableRow(table: string, key: string, value: string | undefined): Promise<void>;
  /** True once the registry is complete, until a stop begins. */
  readonly ready: boolean;
  /** False while the node loads what its peers hold: its registry may lack instances that exist. */
  readonly registryComplete: boolean;
  /** Instances loaded of those the snapshot source announced; undefined standalone. */
  readonly loadProgress: { readonly instancesDone: number; readonly instancesTotal: number } | undefined;
  readonly isStopping: boolean;
  /** Why the cluster runs half-authenticated, if members disagree with us about the secret (readiness says so). */
  readonly secretMismatch: string | undefined;
  /** Why the data directory takes no more writes, if it failed (readiness says so). */
  readonly dataFailure: string | undefined;
  /** `UP` unless the `overriddenServerStatus` switch says otherwise. */
  readonly serverStatus: string;
  readonly scheduler: { now(): number };
  /** The 2.x client connections this node holds (the v2 API's `/client/*` lists them). */
  readonly connections: Pick<ClientConnections, "get" | "list" | "size">;
  ownerOf(groupedName: string): string;
  isResponsible(groupedName: string): boolean;
  cluster(): ClusterView;
  stats(): NodeStats;
}

/** The push service's numbers and the datagrams the UDP socket dropped as unsolicited. */
export interface PushFigures extends PushStats {
  readonly unsolicitedDatagrams: number;
}

/** Numbers only the process has: UDP push and which transport reaches each peer. */
export interface ProcessStats {
  /** Push numbers (tests give only some). */
  readonly push?: Partial<PushFigures>;
  readonly peerTransports?: ReadonlyMap<string, "grpc" | "http">;
  /** The longest event-loop delay since the previous reading, and its 99th percentile. */
  readonly eventLoop?: { readonly maxMs: number; readonly p99Ms: number };
  /** The 2.x client port's connections and requests; absent when it is off. */
  readonly clientPort?: ClientPortStats;
}

/** The 2.x client port as the operator's `/v2/core/loader` endpoints see it. */
export interface ClientPortControl {
  /** The connections this node holds (the node's record of them). */
  connections(): readonly ClientConnectionInfo[];
  /** Sends the connection ConnectResetRequest (naming `redirect` if given) and closes it; false when unknown. */
  reset(connectionId: string, redirect?: { readonly ip: string; readonly port: number }): Promise<boolean>;
}

export interface NodeContext {
  readonly node: NodeView;
  /** Where client writes go: the node (tests may record them instead). */
  readonly writer: ClientWriter;
  readonly push: PushSubscriptions;
  readonly version: string;
  /** The cluster secret: a request claiming to come from a peer must carry it (undefined: an open cluster). */
  readonly peerSecret: string | undefined;
  readonly processStats?: () => ProcessStats;
  /** Nacos 1.4's authentication and authorization (api/auth/); undefined: off, every client is let in. */
  readonly auth?: AuthSettings | undefined;
  /** The 2.x client port; undefined when it is off (and in tests and the simulator). */
  readonly clientPort?: ClientPortControl | undefined;
}

/** The API's view of a node, as the process and the simulator build it. */
export function apiContext(
  node: NamingNode,
  options: {
    push: PushSubscriptions;
    version: string;
    peerSecret: string | undefined;
    processStats?: () => ProcessStats;
    auth?: AuthSettings | undefined;
    clientPort?: ClientPortControl | undefined;
  },
): NodeContext {
  return { node, writer: node, ...options };
}
