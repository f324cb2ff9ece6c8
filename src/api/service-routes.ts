/** `/service*`: create, delete, update, detail, list, names, subscribers. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { settingsOf, type ClusterSettings } from "../core/cluster-settings.js";
import { notFound } from "../core/errors.js";
import { DEFAULT_GROUP, serviceKey, splitGroupedName } from "../core/naming.js";
import type { ClientWrite } from "../core/ops.js";
import { clusterNamesOf } from "../core/service-datum.js";
import type { NodeContext } from "./context.js";
import { linearRegExp } from "./linear-regexp.js";
import { namedNamespaceOf, namespaceOf, optionalBool, serviceOf, paramsOf } from "./params.js";
import { serviceSpecOf } from "./write-params.js";
import { writeOk } from "./client-write.js";
import { page, positive } from "./paging.js";
import { serviceSubscribers } from "./v2/clients.js";

/** A cluster as 1.4's service detail shows it (name, checker, metadata), with the ports it is checked on. */
function clusterJson(name: string, s: ClusterSettings): Record<string, unknown> {
  const { healthChecker, metadata, checkPort, useInstancePort4Check } = s;
  return { name, healthChecker, metadata, checkPort, useInstancePort4Check };
}

export function serviceRoutes(app: FastifyInstance, ctx: NodeContext): void {
  const write = (req: FastifyRequest, reply: FastifyReply, op: ClientWrite): Promise<FastifyReply> => writeOk(ctx, req, reply, op);

  app.post("/service", (req, reply) => {
    const p = paramsOf(req);
    return write(req, reply, { type: "createService", service: serviceOf(p), spec: serviceSpecOf(p, p.optional("protectThreshold", "0")) });
  });

  app.put("/service", (req, reply) => {
    const p = paramsOf(req);
    return write(req, reply, { type: "updateService", service: serviceOf(p), spec: serviceSpecOf(p, p.required("protectThreshold")) });
  });

  app.delete("/service", (req, reply) => {
    const p = paramsOf(req);
    return write(req, reply, { type: "deleteService", service: serviceOf(p) });
  });

  app.get("/service", (req, reply) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const datum = ctx.node.registry.getLive(serviceKey(service));
    if (datum === undefined) throw notFound(`service ${service.groupedName} is not found!`);
    const { group, name } = splitGroupedName(service.groupedName);
    return reply.send({
      name,
      groupName: group,
      namespaceId: service.namespaceId,
      protectThreshold: datum.meta.protectThreshold,
      metadata: datum.meta.metadata,
      selector: datum.meta.selector,
      clusters: clusterNamesOf(datum).map((c) => clusterJson(c, settingsOf(datum.meta.clusters, c))),
    });
  });

  app.get("/service/list", (req, reply) => {
    const p = paramsOf(req);
    const pageNo = positive(p, "pageNo");
    const pageSize = positive(p, "pageSize");
    const group = p.optional("groupName", DEFAULT_GROUP);
    const names = ctx.node.registry.serviceNames(namespaceOf(p));
    // `*` lists every group; names then stay grouped, since bare names could collide across groups.
    const doms = group === "*" ? names : names.filter((n) => splitGroupedName(n).group === group).map((n) => splitGroupedName(n).name);
    return reply.send({ doms: page(doms, pageNo, pageSize), count: doms.length });
  });

  app.all("/service/names", (req, reply) => {
    const p = paramsOf(req);
    const named = namedNamespaceOf(p);
    const namespaces = named === undefined ? ctx.node.registry.namespaces() : [named];
    const expr = p.optional("expr", "");
    const pattern = expr === "" ? undefined : linearRegExp("expr", expr);
    const responsibleOnly = optionalBool(p, ["responsibleOnly"], false);
    const services: Record<string, string[]> = {};
    for (const ns of namespaces) {
      const names = ctx.node.registry
        .serviceNames(ns)
        .filter((n) => (pattern === undefined || pattern.test(n)) && (!responsibleOnly || ctx.node.isResponsible(n)));
      if (names.length > 0) services[ns] = names;
    }
    return reply.send({ services, count: Object.keys(services).length });
  });

  app.get("/service/subscribers", (req, reply) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const pageNo = positive(p, "pageNo", "1");
    const pageSize = positive(p, "pageSize", "1000");
    // 2.x's fields; `lastPollTime` (epoch ms, a 1.x poller's last poll) is ours: a connection is there while connected.
    const subscribers = serviceSubscribers(ctx, service).map((s) => ({
      addrStr: s.addr,
      agent: s.agent,
      app: s.app,
      ip: s.ip,
      port: s.port,
      namespaceId: s.service.namespaceId,
      serviceName: s.service.groupedName,
      ...(s.polledAt === undefined ? {} : { lastPollTime: s.polledAt }),
    }));
    return reply.send({ subscribers: page(subscribers, pageNo, pageSize), count: subscribers.length });
  });
}
