/**
 * What a Nacos 2.x client sees of a service: the `ServiceInfo` of `com.alibaba.nacos.api.naming.pojo`, as the
 * 2.x gRPC protocol answers a query or a subscription and pushes a change, and as the v2 OpenAPI lists it. It
 * is the 1.x list view (service-view.ts: the same selection, protect threshold and ordering) in 2.x's shape:
 * the bare service name beside its group, hosts without 1.x's `valid`/`marked`.
 */
import { beatIntervalOf, beatTimeoutOf, deleteTimeoutOf, PRESERVED_ID_GENERATOR, type Instance } from "./instance.js";
import { splitGroupedName } from "./naming.js";
import type { ServiceDatum } from "./service-datum.js";
import { buildListView, type ListedHost } from "./service-view.js";

/** 2.x's `Instance` as Jackson writes it. */
export interface InstanceInfo {
  instanceId: string;
  ip: string;
  port: number;
  weight: number;
  healthy: boolean;
  enabled: boolean;
  ephemeral: boolean;
  clusterName: string;
  /** Grouped: `group@@name`. */
  serviceName: string;
  metadata: Instance["metadata"];
  instanceHeartBeatInterval: number;
  instanceHeartBeatTimeOut: number;
  ipDeleteTimeout: number;
  instanceIdGenerator: string;
}

export interface ServiceInfo {
  /** The bare service name (2.x sends the group apart). */
  name: string;
  groupName: string;
  clusters: string;
  cacheMillis: number;
  hosts: InstanceInfo[];
  lastRefTime: number;
  checksum: string;
  allIPs: boolean;
  reachProtectionThreshold: boolean;
  valid: boolean;
}

export interface ServiceInfoQuery {
  readonly groupedName: string;
  /** Comma-separated cluster filter as asked; empty means every cluster. */
  readonly clusters: string;
  readonly healthyOnly: boolean;
  readonly cacheMillis: number;
  readonly lastRefTime: number;
}

/** 2.x's `Instance` of a registered instance as it stands (the v2 catalog lists them so, disabled ones too). */
export function instanceInfo(i: Instance): InstanceInfo {
  return {
    instanceId: i.instanceId,
    ip: i.ip,
    port: i.port,
    weight: i.weight,
    healthy: i.healthy,
    enabled: i.enabled,
    ephemeral: i.ephemeral,
    clusterName: i.clusterName,
    serviceName: i.serviceName,
    metadata: i.metadata,
    instanceHeartBeatInterval: beatIntervalOf(i),
    instanceHeartBeatTimeOut: beatTimeoutOf(i),
    ipDeleteTimeout: deleteTimeoutOf(i),
    instanceIdGenerator: i.metadata[PRESERVED_ID_GENERATOR] ?? "simple",
  };
}

/** A listed host as 2.x's `Instance`: its health as listed (the protect threshold may have raised it). */
const instanceInfoOf = (host: ListedHost, groupedName: string): InstanceInfo =>
  instanceInfo({ ...host, serviceName: groupedName, app: "" });

export function buildServiceInfo(datum: ServiceDatum | undefined, q: ServiceInfoQuery): ServiceInfo {
  const view = buildListView(datum, { ...q, env: "", groupedNamesForClient: true });
  const { group, name } = splitGroupedName(q.groupedName);
  return {
    name,
    groupName: group,
    clusters: q.clusters,
    cacheMillis: q.cacheMillis,
    hosts: view.hosts.map((h) => instanceInfoOf(h, q.groupedName)),
    lastRefTime: q.lastRefTime,
    checksum: view.checksum,
    allIPs: false,
    reachProtectionThreshold: view.reachProtectionThreshold,
    valid: true,
  };
}
