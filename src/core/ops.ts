/**
 * Client writes as the core understands them, already parsed and validated by an adapter. A write is
 * executed by the node responsible for its service; any other node forwards it there unchanged, which is
 * why every write is plain data.
 */
import type { ClusterSettings } from "./cluster-settings.js";
import type { ConnectionBinding, Metadata } from "./instance.js";
import type { ServiceRef } from "./naming.js";
import type { Selector } from "./service-datum.js";

export interface InstanceSpec {
  readonly ip: string;
  readonly port: number;
  readonly clusterName: string;
  readonly weight: number;
  readonly healthy: boolean;
  readonly enabled: boolean;
  readonly ephemeral: boolean;
  readonly metadata: Metadata;
  readonly app: string;
}

export interface InstanceAddress {
  readonly ip: string;
  readonly port: number;
  readonly clusterName: string;
}

/** The RsInfo a full beat carries; enough to re-create an instance the server does not know. */
export interface BeatInfo {
  readonly ip: string;
  readonly port: number;
  readonly clusterName: string;
  readonly weight: number;
  readonly ephemeral: boolean;
  readonly metadata: Metadata;
}

export interface InstancePatch {
  readonly metadata?: Metadata;
  readonly app?: string;
  readonly weight?: number;
  readonly healthy?: boolean;
  readonly enabled?: boolean;
}

export interface MetadataTarget extends InstanceAddress {
  readonly ephemeral: boolean;
}

/** A service's own settings as `POST`/`PUT /service` set them; its clusters' settings are written apart. */
export interface ServiceSpec {
  readonly protectThreshold: number;
  readonly metadata: Metadata;
  readonly selector: Selector;
}

/**
 * A write carrying a `connection` is a 2.x client's, over a connection the receiving node holds: it is executed
 * there, never forwarded (ClientWriteRouter), and touches only that connection's instances. As in Nacos 2.x, a
 * connection publishes at most one list per service: `register` makes the connection's instances of the service
 * exactly that one, `batchRegister` exactly its list (a later entry with the same address, cluster and kind
 * replaces an earlier one), and `deregister` removes all of them, whatever address it names. Every instance a
 * connection registers is ephemeral.
 */
export type ClientWrite =
  | { readonly type: "register"; readonly service: ServiceRef; readonly instance: InstanceSpec; readonly connection?: ConnectionBinding }
  | {
      readonly type: "batchRegister";
      readonly service: ServiceRef;
      readonly instances: readonly InstanceSpec[];
      readonly connection: ConnectionBinding;
    }
  /** PUT /instance: `mustExist` for Nacos Java clients ≥ 1.0.0, an upsert for everyone else (as 1.4). */
  | { readonly type: "update"; readonly service: ServiceRef; readonly instance: InstanceSpec; readonly mustExist: boolean }
  | { readonly type: "patch"; readonly service: ServiceRef; readonly address: InstanceAddress; readonly patch: InstancePatch }
  | {
      readonly type: "deregister";
      readonly service: ServiceRef;
      readonly address: InstanceAddress;
      readonly ephemeral: boolean;
      readonly connection?: ConnectionBinding;
    }
  | { readonly type: "beat"; readonly service: ServiceRef; readonly address: InstanceAddress; readonly beat: BeatInfo | undefined }
  | { readonly type: "setHealth"; readonly service: ServiceRef; readonly address: InstanceAddress; readonly healthy: boolean }
  | {
      readonly type: "updateMetadata";
      readonly service: ServiceRef;
      readonly remove: boolean;
      readonly metadata: Metadata;
      /** Explicit instances, or every instance of one kind ("ephemeral" / "persist"). */
      readonly targets: readonly MetadataTarget[] | "ephemeral" | "persist";
    }
  | { readonly type: "createService"; readonly service: ServiceRef; readonly spec: ServiceSpec }
  | { readonly type: "updateService"; readonly service: ServiceRef; readonly spec: ServiceSpec }
  | { readonly type: "deleteService"; readonly service: ServiceRef }
  /** PUT /cluster: replaces one cluster's settings (creating the cluster's entry). */
  | { readonly type: "updateCluster"; readonly service: ServiceRef; readonly clusterName: string; readonly settings: ClusterSettings };

/** A write a 2.x connection made: executed by the node holding the connection, never forwarded. */
export type BoundWrite =
  | (Extract<ClientWrite, { readonly type: "register" | "deregister" }> & { readonly connection: ConnectionBinding })
  | Extract<ClientWrite, { readonly type: "batchRegister" }>;

/** The write as a connection's, when it carries one. */
export function asBound(op: ClientWrite): BoundWrite | undefined {
  return "connection" in op && op.connection !== undefined ? (op as BoundWrite) : undefined;
}

/** What a peer transport throws when asked to forward a connection's write (ClientWriteRouter never does). */
export const notForwardable = (op: BoundWrite): Error =>
  new Error(`a ${op.type} over a client connection is executed where the connection is, never forwarded`);

export type WriteResult =
  | { readonly type: "ok" }
  | {
      readonly type: "beat";
      readonly code: number;
      readonly clientBeatInterval: number;
      /** Absent on a 20404 answer, as in 1.4. */
      readonly lightBeatEnabled?: boolean;
    }
  | { readonly type: "updated"; readonly updated: readonly string[] };

export const BEAT_OK = 10200;
export const BEAT_NOT_FOUND = 20404;

/** Sends a client write to the node responsible for its service (possibly this one). */
export interface ClientWriter {
  /**
   * Resolves with the result, or rejects with a NacosError carrying the status and message to return.
   * `forwarded` marks a write that already came from a peer: it is executed here, never forwarded again.
   */
  write(op: ClientWrite, options?: { readonly forwarded?: boolean }): Promise<WriteResult>;
}
