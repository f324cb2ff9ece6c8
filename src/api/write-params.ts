/**
 * What client writes carry, read from request parameters the way both naming APIs (1.x under `/v1/ns`, 2.x's
 * under `/v2/ns`) read them: an instance, its address, a patch, a beat, a metadata batch's targets, a service's
 * settings, a health change. Every value goes through the validators of params.ts, so the two APIs accept and
 * refuse exactly the same input.
 */
import { badRequest } from "../core/errors.js";
import { DEFAULT_CLUSTER } from "../core/naming.js";
import type { BeatInfo, ClientWrite, InstanceAddress, InstancePatch, InstanceSpec, MetadataTarget, ServiceSpec } from "../core/ops.js";
import type { NodeContext } from "./context.js";
import { bindJava, type JavaClass } from "./java-json.js";
import {
  optionalBool,
  parseBool,
  parseClusterName,
  parseFloatParam,
  parseIp,
  parseMetadata,
  parsePort,
  parseSelector,
  parseWeight,
  serviceOf,
  type Params,
} from "./params.js";

export function clusterOf(p: Params): string {
  return parseClusterName(p.either(["clusterName", "cluster"], DEFAULT_CLUSTER));
}

export function addressOf(p: Params): InstanceAddress {
  return { ip: parseIp(p.required("ip")), port: parsePort(p.required("port")), clusterName: clusterOf(p) };
}

export function instanceSpecOf(p: Params, ctx: NodeContext): InstanceSpec {
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

/** The fields a patch names (`fields`: the ones its API lets a client patch); the rest stay as they are. */
export function patchOf(p: Params, fields: readonly (keyof InstancePatch)[]): InstancePatch {
  const patch: { -readonly [K in keyof InstancePatch]: InstancePatch[K] } = {};
  const named = (field: keyof InstancePatch) => fields.includes(field) && p.has(field);
  if (named("metadata")) patch.metadata = parseMetadata(p.raw("metadata")!);
  if (named("app")) patch.app = p.raw("app")!;
  if (named("weight")) patch.weight = parseWeight(p.raw("weight")!);
  if (named("healthy")) patch.healthy = parseBool("healthy", p.raw("healthy")!);
  if (named("enabled")) patch.enabled = parseBool("enabled", p.raw("enabled")!);
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
function beatInfoOf(text: string, clusterName: string): BeatInfo {
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

/** A beat: light (`ip`, `port`) or full (`beat`, whose address wins). */
export function beatOf(p: Params): ClientWrite {
  const service = serviceOf(p);
  const clusterName = clusterOf(p);
  const beat = p.has("beat") ? beatInfoOf(p.raw("beat")!, clusterName) : undefined;
  const address: InstanceAddress = beat ?? {
    ip: parseIp(p.required("ip")),
    port: parsePort(p.optional("port", "0")),
    clusterName,
  };
  return { type: "beat", service, address, beat };
}

/**
 * `instances` of a metadata batch: a JSON list of 1.4 Instances, of which `{ip, port, clusterName, ephemeral}`
 * count; without it every instance of the `consistencyType` kind, or of the `fallback` kind when none is named
 * (none: refused, as 1.4 refuses it).
 */
export function metadataTargetsOf(p: Params, fallback?: "ephemeral"): readonly MetadataTarget[] | "ephemeral" | "persist" {
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
  if (fallback !== undefined) return fallback;
  throw badRequest("Param 'instances' or 'consistencyType' is required.");
}

/** A service's own settings; `threshold` is the protect threshold's text (each API has its own default). */
export function serviceSpecOf(p: Params, threshold: string): ServiceSpec {
  return {
    protectThreshold: parseFloatParam(threshold),
    metadata: parseMetadata(p.optional("metadata", "")),
    selector: parseSelector(p.optional("selector", "")),
  };
}

/** A client setting an instance's health (`healthy`, or 1.x's `valid`). */
export function setHealthOf(p: Params): ClientWrite {
  const name = p.has("healthy") ? "healthy" : p.has("valid") ? "valid" : "healthy";
  const healthy = parseBool(name, p.required(name));
  const address = addressOf(p);
  return { type: "setHealth", service: serviceOf(p), address, healthy };
}
