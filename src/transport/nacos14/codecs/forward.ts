/**
 * Nacos 1.4's DistroFilter proxy: a client write this node is not responsible for becomes the equivalent
 * client request to the responsible node's `/nacos/v1/ns/...` API, and its answer the write's outcome. The
 * request carries `User-Agent: Nacos-Server:<version>`, so the owner executes it and never forwards it again
 * (a 1.4 owner that disagrees answers 400 `receive invalid redirect request from peer`, relayed unchanged).
 *
 * As with 1.4's own proxy, the owner sees a server's User-Agent, so an `update` is an upsert there even when
 * the client was a Java client ≥ 1.0.0 that asked for must-exist semantics.
 */
import type { ClientWrite, InstanceAddress, InstanceSpec, MetadataTarget, ServiceSpec, WriteResult } from "../../../core/ops.js";
import type { ClusterSettings } from "../../../core/cluster-settings.js";
import type { ServiceRef } from "../../../core/naming.js";
import type { ForwardOutcome } from "../../../node/ports.js";
import { badRequest } from "../../../core/errors.js";
import { expectArray, expectObject, expectString, optionalBoolean, parseJson, requiredInteger } from "./json.js";

export interface ForwardRequest {
  readonly method: "POST" | "PUT" | "PATCH" | "DELETE";
  /** Under `/nacos/v1/ns`. */
  readonly path: string;
  /** Query-string parameters, as 1.4 clients send them. */
  readonly params: Readonly<Record<string, string>>;
}

const serviceParams = (s: ServiceRef): Record<string, string> => ({ namespaceId: s.namespaceId, serviceName: s.groupedName });

const addressParams = (a: InstanceAddress): Record<string, string> => ({
  ip: a.ip,
  port: String(a.port),
  clusterName: a.clusterName,
});

const instanceParams = (i: InstanceSpec): Record<string, string> => ({
  ...addressParams(i),
  weight: String(i.weight),
  healthy: String(i.healthy),
  enabled: String(i.enabled),
  ephemeral: String(i.ephemeral),
  metadata: JSON.stringify(i.metadata),
  app: i.app,
});

const serviceSpecParams = (s: ServiceSpec): Record<string, string> => ({
  protectThreshold: String(s.protectThreshold),
  metadata: JSON.stringify(s.metadata),
  selector: JSON.stringify(s.selector),
});

/** 1.4's `PUT /cluster` parameters: the checker as its JSON (1.4's Jackson shape is ours). */
const clusterParams = (s: ClusterSettings): Record<string, string> => ({
  checkPort: String(s.checkPort),
  useInstancePort4Check: String(s.useInstancePort4Check),
  healthChecker: JSON.stringify(s.healthChecker),
  metadata: JSON.stringify(s.metadata),
});

function targetParams(targets: readonly MetadataTarget[] | "ephemeral" | "persist"): Record<string, string> {
  if (typeof targets === "string") return { consistencyType: targets };
  const instances = targets.map((t) => ({ ip: t.ip, port: t.port, clusterName: t.clusterName, ephemeral: t.ephemeral }));
  return { instances: JSON.stringify(instances) };
}

/** Only the fields a patch sets; 1.4's PATCH leaves the others as they are. */
function patchParams(patch: Extract<ClientWrite, { type: "patch" }>["patch"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (patch.metadata !== undefined) out.metadata = JSON.stringify(patch.metadata);
  if (patch.app !== undefined) out.app = patch.app;
  if (patch.weight !== undefined) out.weight = String(patch.weight);
  if (patch.healthy !== undefined) out.healthy = String(patch.healthy);
  if (patch.enabled !== undefined) out.enabled = String(patch.enabled);
  return out;
}

export function forwardRequestOf(write: ClientWrite): ForwardRequest {
  const service = serviceParams(write.service);
  const at = (a: InstanceAddress): Record<string, string> => ({ ...service, ...addressParams(a) });
  switch (write.type) {
    case "register":
      return { method: "POST", path: "/instance", params: { ...service, ...instanceParams(write.instance) } };
    case "update":
      return { method: "PUT", path: "/instance", params: { ...service, ...instanceParams(write.instance) } };
    case "patch":
      return { method: "PATCH", path: "/instance", params: { ...at(write.address), ...patchParams(write.patch) } };
    case "deregister":
      return { method: "DELETE", path: "/instance", params: { ...at(write.address), ephemeral: String(write.ephemeral) } };
    case "beat": {
      const params = at(write.address);
      if (write.beat !== undefined) {
        const { ip, port, clusterName, weight, ephemeral, metadata } = write.beat;
        // 1.4's RsInfo: the cluster travels as `cluster`, the service by its grouped name.
        const serviceName = write.service.groupedName;
        params.beat = JSON.stringify({ ip, port, serviceName, cluster: clusterName, weight, ephemeral, metadata });
      }
      return { method: "PUT", path: "/instance/beat", params };
    }
    case "setHealth":
      return { method: "PUT", path: "/health/instance", params: { ...at(write.address), healthy: String(write.healthy) } };
    case "updateMetadata":
      return {
        method: write.remove ? "DELETE" : "PUT",
        path: "/instance/metadata/batch",
        params: { ...service, metadata: JSON.stringify(write.metadata), ...targetParams(write.targets) },
      };
    case "createService":
      return { method: "POST", path: "/service", params: { ...service, ...serviceSpecParams(write.spec) } };
    case "updateService":
      return { method: "PUT", path: "/service", params: { ...service, ...serviceSpecParams(write.spec) } };
    case "deleteService":
      return { method: "DELETE", path: "/service", params: service };
    case "updateCluster":
      return { method: "PUT", path: "/cluster", params: { ...service, clusterName: write.clusterName, ...clusterParams(write.settings) } };
    // placeholder: owned by helper A (issue 17 design)
    case "batchRegister":
      throw new Error("a connection-bound write is executed where it arrives, never forwarded");
  }
}

function beatResult(body: string): WriteResult {
  const o = expectObject(parseJson(body, "beat answer"), "beat answer");
  const code = requiredInteger(o, "code", "beat answer", 0, Number.MAX_SAFE_INTEGER);
  const clientBeatInterval = requiredInteger(o, "clientBeatInterval", "beat answer", 0, Number.MAX_SAFE_INTEGER);
  if (o.lightBeatEnabled === undefined) return { type: "beat", code, clientBeatInterval };
  const lightBeatEnabled = optionalBoolean(o, "lightBeatEnabled", "beat answer", true);
  return { type: "beat", code, clientBeatInterval, lightBeatEnabled };
}

function updatedResult(body: string): WriteResult {
  const o = expectObject(parseJson(body, "metadata answer"), "metadata answer");
  const updated = expectArray(o.updated, "metadata answer.updated").map((u, n) => expectString(u, `updated[${n}]`));
  return { type: "updated", updated };
}

/**
 * The owner's answer as the write's outcome: any non-2xx is a refusal relayed with its status and body (as
 * 1.4's proxy relays them). Throws a 400 NacosError when a 2xx answer is not what the write produces.
 */
export function forwardOutcomeOf(write: ClientWrite, status: number, body: string): ForwardOutcome {
  if (status < 200 || status >= 300) return { ok: false, status, message: body };
  switch (write.type) {
    case "beat":
      return { ok: true, result: beatResult(body) };
    case "updateMetadata":
      return { ok: true, result: updatedResult(body) };
    default:
      if (body.trim() !== "ok") throw badRequest(`expected 'ok', got '${body.slice(0, 100)}'`);
      return { ok: true, result: { type: "ok" } };
  }
}
