/**
 * `/v2/ns/instance*`, 2.x's InstanceControllerV2. An instance registered here is what 2.x makes of it too: a
 * 1.x-style instance of an `ip:port` client (an ephemeral one lives by beats, `PUT /instance/beat`, not by a
 * connection), written exactly as `/v1/ns/instance` writes it. Answers are 2.x's: the envelope with `"ok"`,
 * except PATCH (a bare `ok`) and the beat (its bare JSON), which 2.x answers without one.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { InstancePatch } from "../../core/ops.js";
import { serviceKey } from "../../core/naming.js";
import { buildServiceInfo } from "../../core/service-info.js";
import { acceptsUdpPush } from "../../push/client-agent.js";
import { TEXT } from "../../transport/http-common.js";
import type { NodeContext } from "../context.js";
import { optionalBool, paramsOf, parseIp, parseMetadata, parsePort, serviceOf } from "../params.js";
import { agentOf, remoteIp } from "../request-info.js";
import { addressOf, beatOf, instanceSpecOf, metadataTargetsOf, patchOf } from "../write-params.js";
import { ApiError, ErrorCode, success } from "./result.js";
import { write } from "./write.js";

/** What 2.x's PATCH may change (it has no `healthy` or `app`). */
const PATCHABLE: readonly (keyof InstancePatch)[] = ["metadata", "weight", "enabled"];

export function instanceRoutes(app: FastifyInstance, ctx: NodeContext): void {
  app.post("/instance", async (req) => {
    const p = paramsOf(req);
    await write(ctx, req, { type: "register", service: serviceOf(p), instance: instanceSpecOf(p, ctx) });
    return success("ok");
  });

  app.delete("/instance", async (req) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    // 2.x checks the whole instance form (weight, metadata) before removing.
    const { ip, port, clusterName, ephemeral } = instanceSpecOf(p, ctx);
    await write(ctx, req, { type: "deregister", service, address: { ip, port, clusterName }, ephemeral });
    return success("ok");
  });

  // 2.x updates an instance's settings; one that is not there is refused rather than created.
  app.put("/instance", async (req) => {
    const p = paramsOf(req);
    const op = { type: "update", service: serviceOf(p), instance: instanceSpecOf(p, ctx), mustExist: true } as const;
    await write(ctx, req, op, ErrorCode.INSTANCE_ERROR);
    return success("ok");
  });

  app.patch("/instance", async (req, reply) => {
    const p = paramsOf(req);
    await write(ctx, req, { type: "patch", service: serviceOf(p), address: addressOf(p), patch: patchOf(p, PATCHABLE) });
    return reply.type(TEXT).send("ok");
  });

  app.get("/instance", async (req) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const { ip, port, clusterName } = addressOf(p);
    const instances = [...(ctx.node.registry.liveService(serviceKey(service))?.instances() ?? [])];
    if (instances.length === 0) {
      throw new ApiError(404, ErrorCode.RESOURCE_NOT_FOUND, `no ips found for cluster ${clusterName} in service ${service.groupedName}`);
    }
    const i = instances.find((x) => x.clusterName === clusterName && x.ip === ip && x.port === port);
    if (i === undefined) throw new ApiError(404, ErrorCode.RESOURCE_NOT_FOUND, "no matched ip found!");
    const { weight, healthy, instanceId, metadata } = i;
    return success({ serviceName: service.groupedName, ip, port, clusterName, weight, healthy, instanceId, metadata });
  });

  app.get("/instance/list", async (req) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const clusters = p.optional("clusterName", "");
    const healthyOnly = optionalBool(p, ["healthyOnly"], false);
    // 2.x's subscriber: `port` is where a 1.x client takes UDP pushes. They go to the address the request came
    // from (as under /v1), never to the `ip` it names, which is only checked.
    if (p.has("ip")) parseIp(p.raw("ip")!);
    const udpPort = p.has("port") ? parsePort(p.raw("port")!) : 0;
    const agent = agentOf(req);
    if (udpPort > 0 && acceptsUdpPush(agent, ctx.node.switches)) {
      const subscriber = { service, clusters, ip: remoteIp(req), udpPort, agent, app: p.optional("app", ""), env: "", healthyOnly };
      ctx.push.subscribe(subscriber);
    }
    const info = buildServiceInfo(ctx.node.registry.getLive(serviceKey(service)), {
      groupedName: service.groupedName,
      clusters,
      healthyOnly,
      cacheMillis: ctx.node.switches.defaultPushCacheMillis,
      lastRefTime: ctx.node.scheduler.now(),
    });
    // 2.x names the service grouped here, for 1.x SDKs ("adapt for v1.x sdk").
    return success({ ...info, name: service.groupedName });
  });

  app.put("/instance/beat", async (req) => {
    const result = await write(ctx, req, beatOf(paramsOf(req)));
    if (result.type !== "beat") throw new Error(`a beat answered ${result.type}`);
    const { clientBeatInterval, code, lightBeatEnabled = ctx.node.switches.lightBeatEnabled } = result;
    return { clientBeatInterval, code, lightBeatEnabled };
  });

  const metadataBatch = (remove: boolean) => async (req: FastifyRequest) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const metadata = parseMetadata(p.required("metadata"));
    // Without `instances` or `consistencyType`, 2.x changes every ephemeral instance of the service.
    const op = { type: "updateMetadata", service, remove, metadata, targets: metadataTargetsOf(p, "ephemeral") } as const;
    const result = await write(ctx, req, op);
    return success({ updated: result.type === "updated" ? result.updated : [] });
  };
  app.put("/instance/metadata/batch", metadataBatch(false));
  app.delete("/instance/metadata/batch", metadataBatch(true));
}
