/**
 * `/catalog/*`: Nacos 1.4's CatalogController, what the console lists and shows — services with their counts,
 * one service with its clusters, one cluster's instances — with 1.4's parameters and answers. Differences, on
 * purpose: pages are 1-based everywhere and bounded (1.4 answered every match when the page size exceeded the
 * total, and read `withInstances` pages 0-based); the name filters are plain substrings (1.4 compiled them as
 * regular expressions); services come sorted by name.
 */
import type { FastifyInstance } from "fastify";
import { settingsOf, type ClusterSettings } from "../core/cluster-settings.js";
import { notFound } from "../core/errors.js";
import type { Instance } from "../core/instance.js";
import { parseServiceKey, serviceKey, splitGroupedName } from "../core/naming.js";
import { clusterNamesOf, type ServiceDatum } from "../core/service-datum.js";
import { instanceInfo } from "../core/service-info.js";
import type { ServiceState } from "../core/service-record.js";
import { protectThresholdReached } from "../core/service-view.js";
import type { NodeContext } from "./context.js";
import { page, pagingOf, type Paging } from "./paging.js";
import { namespaceOf, optionalBool, paramsOf, serviceOf, type Params } from "./params.js";

/** The console asks for 10; no answer lists more services or instances than this. */
const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 1000;

interface ServiceFilter {
  readonly group: string;
  readonly name: string;
  /** `ip` or `ip:port` of an instance the service must hold; empty for any. */
  readonly instance: string;
  readonly hasIpCount: boolean;
}

function filterOf(p: Params): ServiceFilter {
  return {
    group: p.optional("groupNameParam", "").trim(),
    name: p.optional("serviceNameParam", "").trim(),
    instance: p.optional("instance", "").trim(),
    hasIpCount: optionalBool(p, ["hasIpCount"], false),
  };
}

const holds = (s: ServiceState, address: string): boolean => {
  for (const i of s.instances()) if (i.ip === address || `${i.ip}:${i.port}` === address) return true;
  return false;
};

/** The live services of a namespace that pass the filter, by grouped name. */
function matching(ctx: NodeContext, namespaceId: string, f: ServiceFilter): ServiceState[] {
  const out: ServiceState[] = [];
  for (const groupedName of ctx.node.registry.serviceNames(namespaceId)) {
    const { group, name } = splitGroupedName(groupedName);
    if (!group.includes(f.group) || !name.includes(f.name)) continue;
    const s = ctx.node.registry.liveService(serviceKey({ namespaceId, groupedName }));
    if (s === undefined || (f.hasIpCount && s.size === 0) || (f.instance !== "" && !holds(s, f.instance))) continue;
    out.push(s);
  }
  return out;
}

/** The grouped name of a datum and its two parts. */
function namesOf(datum: ServiceDatum): { groupedName: string; group: string; name: string } {
  const { groupedName } = parseServiceKey(datum.key);
  return { groupedName, ...splitGroupedName(groupedName) };
}

/** 1.4's ServiceView: counts over every instance, disabled ones included. */
function serviceView(datum: ServiceDatum) {
  const { group, name } = namesOf(datum);
  const healthy = datum.instances.filter((i) => i.healthy).length;
  return {
    name,
    groupName: group,
    clusterCount: clusterNamesOf(datum).length,
    ipCount: datum.instances.length,
    healthyInstanceCount: healthy,
    triggerFlag: String(protectThresholdReached(datum.instances, datum.meta.protectThreshold)),
  };
}

/** 1.4's ServiceDetailInfo (`withInstances=true`): each cluster's hosts as IpAddressInfo. */
function serviceDetailInfo(datum: ServiceDatum) {
  const { group, name } = namesOf(datum);
  const clusterMap: Record<string, { hosts: unknown[] }> = {};
  for (const c of clusterNamesOf(datum)) clusterMap[c] = { hosts: [] };
  for (const i of datum.instances) {
    const { ip, port, metadata, weight, enabled } = i;
    clusterMap[i.clusterName]!.hosts.push({ valid: i.healthy, metadata, port, ip, weight, enabled });
  }
  return { serviceName: name, groupName: group, metadata: datum.meta.metadata, clusterMap };
}

/** A cluster as 1.4's Cluster JSON names its settings (the console's service page reads these). */
function clusterJson(groupedName: string, name: string, s: ClusterSettings) {
  return {
    serviceName: groupedName,
    name,
    healthChecker: s.healthChecker,
    defaultPort: 80,
    defaultCheckPort: s.checkPort,
    useIPPort4Check: s.useInstancePort4Check,
    metadata: s.metadata,
  };
}

/** 1.4's naming Instance JSON (what `/catalog/instances` lists): 2.x's Instance plus 1.x's `marked` and `app`. */
function instanceJson(i: Instance) {
  return { ...instanceInfo(i), marked: i.marked, app: i.app };
}

function liveDatum(ctx: NodeContext, p: Params): ServiceDatum {
  const service = serviceOf(p);
  const datum = ctx.node.registry.getLive(serviceKey(service));
  if (datum === undefined) throw notFound(`service ${service.groupedName} is not found!`);
  return datum;
}

function listServices(ctx: NodeContext, p: Params, paging: Paging) {
  const services = matching(ctx, namespaceOf(p), filterOf(p));
  const shown = page(services, paging.pageNo, paging.pageSize).map((s) => s.snapshot());
  if (optionalBool(p, ["withInstances"], false)) return shown.map(serviceDetailInfo);
  return { count: services.length, serviceList: shown.map(serviceView) };
}

export function catalogRoutes(app: FastifyInstance, ctx: NodeContext): void {
  app.get("/catalog/services", async (req) => {
    const p = paramsOf(req);
    return listServices(ctx, p, pagingOf(p, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE));
  });

  app.get("/catalog/service", async (req) => {
    const datum = liveDatum(ctx, paramsOf(req));
    const { groupedName, group, name } = namesOf(datum);
    const { protectThreshold, selector, metadata } = datum.meta;
    return {
      service: { name, protectThreshold, groupName: group, selector, metadata },
      clusters: clusterNamesOf(datum).map((c) => clusterJson(groupedName, c, settingsOf(datum.meta.clusters, c))),
    };
  });

  app.all("/catalog/instances", async (req) => {
    const p = paramsOf(req);
    const paging = pagingOf(p, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
    const clusterName = p.required("clusterName");
    const datum = liveDatum(ctx, p);
    if (!clusterNamesOf(datum).includes(clusterName)) throw notFound(`cluster ${clusterName} is not found!`);
    const instances = datum.instances.filter((i) => i.clusterName === clusterName);
    return { count: instances.length, list: page(instances, paging.pageNo, paging.pageSize).map(instanceJson) };
  });
}
