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

export type ClientWrite =
  // placeholder: owned by helper A (issue 17 design) — `connection` on register and deregister, and batchRegister
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
