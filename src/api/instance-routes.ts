/** `/instance*`: register, deregister, update, patch, detail, list, beat, statuses, metadata batch. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { notFound } from "../core/errors.js";
import { parseServiceKey, serviceKey, DEFAULT_NAMESPACE } from "../core/naming.js";
import type { ClientWrite, WriteResult } from "../core/ops.js";
import { listAnswer } from "../core/service-view.js";
import { acceptsUdpPush, isModernJavaClient, wantsGroupedNames } from "../push/client-agent.js";
import type { NodeContext } from "./context.js";
import { optionalBool, parseIp, parseMetadata, parsePort, serviceOf, paramsOf } from "./params.js";
import { addressOf, beatOf, instanceSpecOf, metadataTargetsOf, patchOf } from "./write-params.js";
import { agentOf, fromPeer, remoteIp } from "./request-info.js";
import { JSON_TYPE } from "../transport/http-common.js";

/** Everything 1.x's PATCH may change. */
const PATCHABLE = ["metadata", "app", "weight", "healthy", "enabled"] as const;

function sendResult(reply: FastifyReply, result: WriteResult): FastifyReply {
  switch (result.type) {
    case "ok":
      return reply.type("text/plain; charset=utf-8").send("ok");
    case "beat": {
      const { type: _type, ...body } = result;
      return reply.send(body);
    }
    case "updated":
      return reply.send({ updated: result.updated });
  }
}

export function instanceRoutes(app: FastifyInstance, ctx: NodeContext): void {
  const write = async (req: FastifyRequest, reply: FastifyReply, op: ClientWrite): Promise<FastifyReply> =>
    sendResult(reply, await ctx.writer.write(op, { forwarded: fromPeer(req, ctx.peerSecret) }));

  app.post("/instance", (req, reply) => {
    const p = paramsOf(req);
    return write(req, reply, { type: "register", service: serviceOf(p), instance: instanceSpecOf(p, ctx) });
  });

  app.put("/instance", (req, reply) => {
    const p = paramsOf(req);
    const op: ClientWrite = {
      type: "update",
      service: serviceOf(p),
      instance: instanceSpecOf(p, ctx),
      mustExist: isModernJavaClient(agentOf(req)),
    };
    return write(req, reply, op);
  });

  app.patch("/instance", (req, reply) => {
    const p = paramsOf(req);
    return write(req, reply, { type: "patch", service: serviceOf(p), address: addressOf(p), patch: patchOf(p, PATCHABLE) });
  });

  app.delete("/instance", (req, reply) => {
    const p = paramsOf(req);
    const ephemeral = optionalBool(p, ["ephemeral"], ctx.node.switches.defaultInstanceEphemeral);
    return write(req, reply, { type: "deregister", service: serviceOf(p), address: addressOf(p), ephemeral });
  });

  app.get("/instance", (req, reply) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const { ip, port, clusterName } = addressOf(p);
    const datum = ctx.node.registry.getLive(serviceKey(service));
    if (datum === undefined) throw notFound(`no service ${service.groupedName} found!`);
    const inCluster = datum.instances.filter((i) => i.clusterName === clusterName);
    if (inCluster.length === 0) throw notFound(`no ips found for cluster ${clusterName} in service ${service.groupedName}`);
    const i = inCluster.find((x) => x.ip === ip && x.port === port);
    if (i === undefined) throw notFound("no matched ip found!");
    return reply.send({
      service: service.groupedName,
      ip: i.ip,
      port: i.port,
      clusterName: i.clusterName,
      weight: i.weight,
      healthy: i.healthy,
      instanceId: i.instanceId,
      metadata: i.metadata,
    });
  });

  app.get("/instance/list", (req, reply) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const agent = agentOf(req);
    const clusters = p.optional("clusters", "");
    const healthyOnly = optionalBool(p, ["healthyOnly"], false);
    const env = p.optional("env", "");
    const udpPort = p.has("udpPort") ? parsePort(p.raw("udpPort")!) : 0;
    // `clientIP` is checked (1.4 reads it) but never pushed to: see Subscriber.ip.
    if (p.has("clientIP")) parseIp(p.raw("clientIP")!);
    const pushed =
      udpPort > 0 &&
      acceptsUdpPush(agent, ctx.node.switches) &&
      ctx.push.subscribe({ service, clusters, ip: remoteIp(req), udpPort, agent, app: p.optional("app", ""), env, healthyOnly });
    const answer = listAnswer(ctx.node.registry.service(serviceKey(service)), {
      groupedName: service.groupedName,
      clusters,
      healthyOnly,
      env,
      groupedNamesForClient: wantsGroupedNames(agent),
      cacheMillis: pushed ? ctx.node.switches.defaultPushCacheMillis : ctx.node.switches.defaultCacheMillis,
      lastRefTime: ctx.node.scheduler.now(),
    });
    return reply.type(JSON_TYPE).send(answer);
  });

  app.put("/instance/beat", (req, reply) => write(req, reply, beatOf(paramsOf(req))));

  app.all("/instance/statuses", (req, reply) => {
    const p = paramsOf(req);
    const key = p.required("key");
    const ref = key.includes("##") ? parseServiceKey(key) : { namespaceId: DEFAULT_NAMESPACE, groupedName: key };
    const datum = ctx.node.registry.getLive(serviceKey(ref));
    if (datum === undefined) throw notFound(`service: ${key} not found.`);
    return reply.send({ ips: datum.instances.map((i) => `${i.ip}:${i.port}_${i.healthy}`) });
  });

  const metadataBatch = (remove: boolean) => (req: FastifyRequest, reply: FastifyReply) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const metadata = parseMetadata(p.required("metadata"));
    return write(req, reply, { type: "updateMetadata", service, remove, metadata, targets: metadataTargetsOf(p) });
  };
  app.put("/instance/metadata/batch", metadataBatch(false));
  app.delete("/instance/metadata/batch", metadataBatch(true));
}
