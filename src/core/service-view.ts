/**
 * What a client sees of a service: the `instance/list` answer of Nacos 1.4, shared by the HTTP API and
 * UDP push so a pushed payload and a polled one can never differ.
 */
import { serviceChecksum } from "./checksum.js";
import { beatIntervalOf, beatTimeoutOf, deleteTimeoutOf, PRESERVED_ID_GENERATOR, type Instance, type Metadata } from "./instance.js";
import { splitGroupedName } from "./naming.js";
import { RevisionCache } from "./revision-cache.js";
import type { ServiceDatum } from "./service-datum.js";
import type { ServiceState } from "./service-record.js";

export interface ListQuery {
  /** Grouped name, echoed as `name` (clients file the answer under it). */
  readonly groupedName: string;
  /** Comma-separated cluster filter exactly as asked (echoed); empty means every cluster. */
  readonly clusters: string;
  readonly healthyOnly: boolean;
  readonly env: string;
  /** Nacos Java clients ≥ 1.0.0 (and the npm SDK, which claims to be one) expect grouped names in `dom`. */
  readonly groupedNamesForClient: boolean;
  readonly cacheMillis: number;
  readonly lastRefTime: number;
}

export interface ListedHost {
  ip: string;
  port: number;
  valid: boolean;
  healthy: boolean;
  marked: boolean;
  instanceId: string;
  metadata: Metadata;
  enabled: boolean;
  weight: number;
  clusterName: string;
  serviceName: string;
  ephemeral: boolean;
  /** 2.x's per-instance timer fields (the npm SDK's typings list them); derived from `preserved.*` metadata. */
  instanceHeartBeatInterval: number;
  instanceHeartBeatTimeOut: number;
  ipDeleteTimeout: number;
  instanceIdGenerator: string;
}

export interface ListView {
  name: string;
  dom: string;
  clusters: string;
  env: string;
  cacheMillis: number;
  lastRefTime: number;
  checksum: string;
  useSpecifiedURL: boolean;
  metadata: Metadata;
  /** 2.x's field, true when the protect threshold replaced real health with "all healthy". */
  reachProtectionThreshold: boolean;
  hosts: ListedHost[];
}

export function selectByClusters(instances: readonly Instance[], clusters: string): Instance[] {
  const wanted = clusters
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  return wanted.length === 0 ? [...instances] : instances.filter((i) => wanted.includes(i.clusterName));
}

/**
 * 1.4's protect threshold: when the healthy share of the selected instances (disabled ones included in
 * the total) is at or below the threshold, every selected instance is listed as healthy. A negative
 * threshold disables it; the default 0 still fires when nothing is healthy, exactly as 1.4.
 */
export function protectThresholdReached(selected: readonly Instance[], threshold: number): boolean {
  if (selected.length === 0 || threshold < 0) return false;
  const healthy = selected.filter((i) => i.healthy).length;
  return Math.fround(healthy / selected.length) <= Math.fround(threshold);
}

export function buildListView(datum: ServiceDatum | undefined, q: ListQuery): ListView {
  const live = datum !== undefined && !datum.deleted ? datum : undefined;
  const selected = selectByClusters(live?.instances ?? [], q.clusters);
  const protect = protectThresholdReached(selected, live?.meta.protectThreshold ?? 0);
  const shownName = q.groupedNamesForClient ? q.groupedName : splitGroupedName(q.groupedName).name;
  const toHost = (i: Instance, healthy: boolean): ListedHost => ({
    ip: i.ip,
    port: i.port,
    valid: healthy,
    healthy,
    marked: i.marked,
    instanceId: i.instanceId,
    metadata: i.metadata,
    enabled: i.enabled,
    weight: i.weight,
    clusterName: i.clusterName,
    serviceName: shownName,
    ephemeral: i.ephemeral,
    instanceHeartBeatInterval: beatIntervalOf(i),
    instanceHeartBeatTimeOut: beatTimeoutOf(i),
    ipDeleteTimeout: deleteTimeoutOf(i),
    instanceIdGenerator: i.metadata[PRESERVED_ID_GENERATOR] ?? "simple",
  });
  const enabled = selected.filter((i) => i.enabled);
  const healthyHosts = enabled.filter((i) => protect || i.healthy).map((i) => toHost(i, true));
  const unhealthyHosts = protect || q.healthyOnly ? [] : enabled.filter((i) => !i.healthy).map((i) => toHost(i, false));
  return {
    name: q.groupedName,
    dom: shownName,
    clusters: q.clusters,
    env: q.env,
    cacheMillis: q.cacheMillis,
    lastRefTime: q.lastRefTime,
    checksum: serviceChecksum(q.groupedName, selected),
    useSpecifiedURL: false,
    metadata: live?.meta.metadata ?? {},
    reachProtectionThreshold: protect,
    hosts: [...healthyHosts, ...unhealthyHosts],
  };
}

/** The part of a list answer that depends on the service and the query's shape, not on who asks when. */
function answerTail(view: ListView): string {
  const { checksum, useSpecifiedURL, metadata, reachProtectionThreshold, hosts } = view;
  const tail = JSON.stringify({ checksum, useSpecifiedURL, metadata, reachProtectionThreshold, hosts });
  return tail.slice(1);
}

const tails = new RevisionCache<Map<string, string>>();
/** Query shapes cached per service: the common ones; a client varying `clusters` endlessly gets answers built afresh. */
const MAX_SHAPES = 16;

/**
 * `JSON.stringify(buildListView(service, q))`, built from a tail cached per service and query shape until the
 * service changes: repeated polls and pushes of an unchanged service serialize nothing but the few fields that
 * echo the query and the time.
 */
export function listAnswer(service: ServiceState | undefined, q: ListQuery): string {
  const head = `{"name":${JSON.stringify(q.groupedName)},"dom":${JSON.stringify(q.groupedNamesForClient ? q.groupedName : splitGroupedName(q.groupedName).name)},"clusters":${JSON.stringify(q.clusters)},"env":${JSON.stringify(q.env)},"cacheMillis":${q.cacheMillis},"lastRefTime":${q.lastRefTime},`;
  if (service === undefined || service.deleted) return head + answerTail(buildListView(undefined, q));
  const shape = `${q.groupedName}\u0000${q.clusters}\u0000${q.healthyOnly}\u0000${q.groupedNamesForClient}`;
  const byShape = tails.get(service, () => new Map());
  let tail = byShape.get(shape);
  if (tail === undefined) {
    tail = answerTail(buildListView(service.snapshot(), q));
    if (byShape.size < MAX_SHAPES) byShape.set(shape, tail);
  }
  return head + tail;
}
