/** `/instance*`: register, deregister, update, patch, detail, list, beat, statuses, metadata batch. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { badRequest, notFound } from "../core/errors.js";
import { DEFAULT_CLUSTER, parseServiceKey, serviceKey, DEFAULT_NAMESPACE } from "../core/naming.js";
import type { BeatInfo, ClientWrite, InstanceAddress, InstancePatch, InstanceSpec, MetadataTarget, WriteResult } from "../core/ops.js";
import { listAnswer } from "../core/service-view.js";
import { acceptsUdpPush, isModernJavaClient, wantsGroupedNames } from "../push/client-agent.js";
import type { NodeContext } from "./context.js";
import {
  optionalBool,
  parseBool,
  parseClusterName,
  parseIp,
  parseMetadata,
  parsePort,
  parseWeight,
  serviceOf,
  paramsOf,
  type Params,
} from "./params.js";
import { bindJava, type JavaClass } from "./java-json.js";
import { agentOf, fromPeer, remoteIp } from "./request-info.js";
import { JSON_TYPE } from "../transport/http-common.js";

function clusterOf(p: Params): string {
  return parseClusterName(p.either(["clusterName", "cluster"], DEFAULT_CLUSTER));
}

function addressOf(p: Params): InstanceAddress {
  return { ip: parseIp(p.required("ip")), port: parsePort(p.required("port")), clusterName: clusterOf(p) };
}

function specOf(p: Params, ctx: NodeContext): InstanceSpec {
  return {
    ...addressOf(p),
    weight: parseWeight(p.optional("weight", "1")),
    healthy: optionalBool(p, ["healthy"], true),
    enabled: optionalBool(p, ["enabled", "enable"], true),
    ephemeral: optionalBool(p, ["ephemeral"], ctx.node.switches.defaultInstanceEphemeral),
    metadata: parseMetadata(p.optional("metadata", "")),
    app: p.optional("app", "DEFAULT"),
  };
}

function patchOf(p: Params): InstancePatch {
  const patch: { -readonly [K in keyof InstancePatch]: InstancePatch[K] } = {};
  if (p.has("metadata")) patch.metadata = parseMetadata(p.raw("metadata")!);
  if (p.has("app")) patch.app = p.raw("app")!;
  if (p.has("weight")) patch.weight = parseWeight(p.raw("weight")!);
  if (p.has("healthy")) patch.healthy = parseBool("healthy", p.raw("healthy")!);
  if (p.has("enabled")) patch.enabled = parseBool("enabled", p.raw("enabled")!);
  return patch;
}

/** Nacos 1.4's RsInfo, the beat's JSON: every field is type-checked, the ones a beat uses and the rest. */
const RS_INFO = {
  load: "double",
  cpu: "double",
  rt: "double",
  qps: "double",
  mem: "double",
  port: "int",
  ip: "String",
  serviceName: "String",
  ak: "String",
  cluster: "String",
  weight: "double",
  ephemeral: "boolean",
  metadata: "Map<String,String>",
} as const satisfies JavaClass;

/**
 * Nacos's naming Instance (1.4's, and 2.x's `api.naming.pojo.Instance` with the same fields), as a metadata batch
 * lists them in `instances` and the 2.x client protocol carries them.
 */
export const INSTANCE = {
  instanceId: "String",
  ip: "String",
  port: "int",
  weight: "double",
  healthy: "boolean",
  enabled: "boolean",
  ephemeral: "boolean",
  clusterName: "String",
  serviceName: "String",
  metadata: "Map<String,String>",
} as const satisfies JavaClass;

/** A JSON parameter's value; `expected` says what it should have been. */
function parseJsonParam(name: string, text: string, expected: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest(`Param '${name}' must be ${expected}, current: ${text}`);
  }
}

const portOf = (port: number): number => parsePort(String(port));

/**
 * A full beat's RsInfo JSON. Its `cluster` overrides the request's clusterName and its ip/port are the
 * instance's, as in 1.4; the nacos npm SDK sends `{serviceName, ip, port, cluster, weight, metadata, scheduled}`.
 */
function beatOf(text: string, clusterName: string): BeatInfo {
  const parsed = parseJsonParam("beat", text, "a JSON object (RsInfo)");
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw badRequest(`Param 'beat' must be a JSON object (RsInfo), current: ${text}`);
  }
  const beat = bindJava("beat", parsed, RS_INFO);
  return {
    ip: parseIp(beat.ip ?? ""),
    port: portOf(beat.port ?? 0),
    clusterName: (beat.cluster ?? "").trim() === "" ? clusterName : parseClusterName(beat.cluster!),
    weight: beat.weight === undefined ? 1 : parseWeight(String(beat.weight)),
    ephemeral: beat.ephemeral ?? true,
    metadata: beat.metadata ?? {},
  };
}

/** `instances` of a metadata batch: a JSON list of 1.4 Instances, of which `{ip, port, clusterName, ephemeral}` count. */
function metadataTargetsOf(p: Params): readonly MetadataTarget[] | "ephemeral" | "persist" {
  if (p.has("instances")) {
    const text = p.raw("instances")!;
    const expected = "a JSON list of {ip, port, clusterName, ephemeral}";
    const list = parseJsonParam("instances", text, expected);
    if (!Array.isArray(list)) throw badRequest(`Param 'instances' must be ${expected}, current: ${text}`);
    return list.map((item: unknown, i): MetadataTarget => {
      const instance = bindJava(`instances[${i}]`, item, INSTANCE);
      return {
        ip: parseIp(instance.ip ?? ""),
        port: portOf(instance.port ?? 0),
        clusterName: parseClusterName((instance.clusterName ?? "").trim() === "" ? DEFAULT_CLUSTER : instance.clusterName!),
        ephemeral: instance.ephemeral ?? true,
      };
    });
  }
  const kind = p.optional("consistencyType", "");
  if (kind === "ephemeral" || kind === "persist") return kind;
  if (kind !== "") throw badRequest(`Param 'consistencyType' must be ephemeral or persist, current: ${kind}`);
  throw badRequest("Param 'instances' or 'consistencyType' is required.");
}

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
    return write(req, reply, { type: "register", service: serviceOf(p), instance: specOf(p, ctx) });
  });

  app.put("/instance", (req, reply) => {
    const p = paramsOf(req);
    const op: ClientWrite = {
      type: "update",
      service: serviceOf(p),
      instance: specOf(p, ctx),
      mustExist: isModernJavaClient(agentOf(req)),
    };
    return write(req, reply, op);
  });

  app.patch("/instance", (req, reply) => {
    const p = paramsOf(req);
    return write(req, reply, { type: "patch", service: serviceOf(p), address: addressOf(p), patch: patchOf(p) });
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

  app.put("/instance/beat", (req, reply) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const clusterName = clusterOf(p);
    const beat = p.has("beat") ? beatOf(p.raw("beat")!, clusterName) : undefined;
    const address: InstanceAddress = beat ?? {
      ip: parseIp(p.required("ip")),
      port: parsePort(p.optional("port", "0")),
      clusterName,
    };
    return write(req, reply, { type: "beat", service, address, beat });
  });

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
