/**
 * The naming requests of the Nacos 2.x client protocol (`com.alibaba.nacos.api.naming.remote.request`), read from
 * their JSON into the same domain values the HTTP API makes, with the same checks: fields bound as Jackson binds
 * them (java-json.ts: unknown fields ignored, nulls absent, wrong types refused), the service through `serviceOf`
 * (the namespace, group and name rules of `/instance`), addresses, ports, weights and cluster names through the
 * validators of params.ts. A refusal is a NacosError (400) carrying the HTTP API's message.
 */
import { badRequest } from "../../core/errors.js";
import type { InstanceSpec } from "../../core/ops.js";
import { DEFAULT_CLUSTER, type ServiceRef } from "../../core/naming.js";
import { INSTANCE } from "../write-params.js";
import { bindJava, type Bound, type JavaClass } from "../java-json.js";
import { namespaceOf, Params, parseClusterName, parseIp, parsePort, parseWeight, serviceOf } from "../params.js";

/** AbstractNamingRequest: what every naming request names. */
const NAMING_REQUEST = { namespace: "String", serviceName: "String", groupName: "String" } as const satisfies JavaClass;

/** InstanceRequest / PersistentInstanceRequest's `type`; BatchInstanceRequest's is `batchRegisterInstance`. */
export const REGISTER = "registerInstance";
export const DEREGISTER = "deregisterInstance";
export const BATCH_REGISTER = "batchRegisterInstance";

/** The service a naming request is about: `namespace` (empty: public), `groupName` (empty: DEFAULT_GROUP), `serviceName`. */
export function serviceOfRequest(body: Readonly<Record<string, unknown>>): ServiceRef {
  const { namespace, serviceName, groupName } = bindJava("request", body, NAMING_REQUEST);
  return serviceOf(Params.of({ namespaceId: namespace ?? "", serviceName: serviceName ?? "", groupName: groupName ?? "" }, undefined));
}

/** The namespace of a request that names no service (ServiceListRequest). */
export function namespaceOfRequest(body: Readonly<Record<string, unknown>>): string {
  const { namespace } = bindJava("request", body, NAMING_REQUEST);
  return namespaceOf(Params.of({ namespaceId: namespace ?? "" }, undefined));
}

function specOf(where: string, raw: unknown, ephemeral: boolean): InstanceSpec {
  if (raw === undefined || raw === null) throw badRequest(`Param '${where}' is required.`);
  const i: Bound<typeof INSTANCE> = bindJava(where, raw, INSTANCE);
  if (i.ephemeral !== undefined && i.ephemeral !== ephemeral) {
    throw badRequest(
      ephemeral
        ? `${where} must be ephemeral: a persistent instance is registered with PersistentInstanceRequest`
        : `${where} must be persistent: an ephemeral instance is registered with InstanceRequest`,
    );
  }
  const clusterName = (i.clusterName ?? "").trim();
  return {
    ip: parseIp(i.ip ?? ""),
    port: parsePort(String(i.port ?? 0)),
    clusterName: clusterName === "" ? DEFAULT_CLUSTER : parseClusterName(clusterName),
    weight: parseWeight(String(i.weight ?? 1)),
    healthy: i.healthy ?? true,
    enabled: i.enabled ?? true,
    ephemeral,
    metadata: i.metadata ?? {},
    app: "DEFAULT",
  };
}

/** InstanceRequest / PersistentInstanceRequest: register or deregister one instance. */
export interface InstanceChange {
  readonly type: typeof REGISTER | typeof DEREGISTER;
  readonly service: ServiceRef;
  readonly instance: InstanceSpec;
}

export function instanceChangeOf(body: Readonly<Record<string, unknown>>, ephemeral: boolean): InstanceChange {
  const type = bindJava("request", body, { type: "String" }).type;
  if (type !== REGISTER && type !== DEREGISTER) {
    throw badRequest(`Unsupported request type ${type ?? ""} (allowed: ${REGISTER}, ${DEREGISTER})`);
  }
  return { type, service: serviceOfRequest(body), instance: specOf("instance", body.instance, ephemeral) };
}

/** BatchInstanceRequest: the connection's instances of the service become exactly these (all ephemeral). */
export function batchOf(body: Readonly<Record<string, unknown>>): { readonly service: ServiceRef; readonly instances: InstanceSpec[] } {
  const type = bindJava("request", body, { type: "String" }).type;
  if (type !== BATCH_REGISTER) throw badRequest(`Unsupported request type ${type ?? ""} (allowed: ${BATCH_REGISTER})`);
  const list = body.instances;
  if (!Array.isArray(list)) throw badRequest("Param 'instances' must be a list of instances");
  return { service: serviceOfRequest(body), instances: list.map((raw: unknown, n) => specOf(`instances[${n}]`, raw, true)) };
}

/** The most a cluster filter may be (it is echoed in every answer and push). */
const MAX_CLUSTERS_LENGTH = 1024;

function clustersOf(where: string, value: string | undefined): string {
  const clusters = value ?? "";
  if (clusters.length > MAX_CLUSTERS_LENGTH) throw badRequest(`Param '${where}' is longer than ${MAX_CLUSTERS_LENGTH} characters`);
  return clusters;
}

/** SubscribeServiceRequest: subscribe (or unsubscribe) to a service with a cluster filter. */
export function subscriptionOf(body: Readonly<Record<string, unknown>>): {
  readonly service: ServiceRef;
  readonly clusters: string;
  readonly subscribe: boolean;
} {
  const { subscribe, clusters } = bindJava("request", body, { subscribe: "boolean", clusters: "String" });
  return { service: serviceOfRequest(body), clusters: clustersOf("clusters", clusters), subscribe: subscribe ?? false };
}

/** ServiceQueryRequest: one service's instances (udpPort is 1.x's and ignored, as Nacos 2.x ignores it). */
export function queryOf(body: Readonly<Record<string, unknown>>): {
  readonly service: ServiceRef;
  readonly clusters: string;
  readonly healthyOnly: boolean;
} {
  const { cluster, healthyOnly } = bindJava("request", body, { cluster: "String", healthyOnly: "boolean", udpPort: "int" });
  return { service: serviceOfRequest(body), clusters: clustersOf("cluster", cluster), healthyOnly: healthyOnly ?? false };
}

/** The largest page a ServiceListRequest may ask for (the HTTP `/service/list` allows as many). */
export const MAX_PAGE_SIZE = 1000;

/** ServiceListRequest: a page of a group's service names in a namespace. */
export function serviceListOf(body: Readonly<Record<string, unknown>>): {
  readonly namespaceId: string;
  readonly groupName: string;
  readonly pageNo: number;
  readonly pageSize: number;
} {
  const { pageNo, pageSize, groupName } = bindJava("request", body, {
    pageNo: "int",
    pageSize: "int",
    groupName: "String",
    selector: "String",
  });
  const size = pageSize ?? 10;
  if (size < 1 || size > MAX_PAGE_SIZE) throw badRequest(`Param 'pageSize' must be in [1, ${MAX_PAGE_SIZE}], current: ${size}`);
  const group = (groupName ?? "").trim();
  // Nacos 2.x pages from 1; a page below it is the first.
  return {
    namespaceId: namespaceOfRequest(body),
    groupName: group === "" ? "DEFAULT_GROUP" : group,
    pageNo: Math.max(1, pageNo ?? 1),
    pageSize: size,
  };
}
