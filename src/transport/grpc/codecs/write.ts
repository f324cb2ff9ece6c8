/**
 * Forwarded client writes and their outcomes ↔ nacos.cluster.v1 messages. Each ClientWrite variant is one
 * case of `ClientWrite.op`, named like its `type`. Only structure is checked here (presence, ranges, known
 * cases); whether a write is allowed is the responsible node's decision, relayed back as a refusal.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  BeatInfo,
  ClientWrite,
  InstanceAddress,
  InstancePatch,
  InstanceSpec,
  MetadataTarget,
  WriteResult,
} from "../../../core/ops.js";
import { checkClusterName, type ServiceRef } from "../../../core/naming.js";
import type { ForwardOutcome } from "../../../node/ports.js";
import type { ForwardResponse, ForwardResponseSchema } from "../../../../gen/nacos/cluster/v1/distro_pb.js";
import {
  InstanceKind,
  type BeatInfo as BeatInfoMessage,
  type ClientWrite as ClientWriteMessage,
  type ClientWriteSchema,
  type InstanceAddress as InstanceAddressMessage,
  type InstancePatch as InstancePatchMessage,
  type InstancePatchSchema,
  type InstanceSpec as InstanceSpecMessage,
  type ServiceRef as ServiceRefMessage,
  type UpdateMetadataWrite,
  type UpdateMetadataWriteSchema,
  type WriteResult as WriteResultMessage,
  type WriteResultSchema,
} from "../../../../gen/nacos/cluster/v1/write_pb.js";
import { decodeCluster, decodeServiceSpec, encodeCluster, encodeServiceSpec } from "./datum.js";
import { checked, inRange, InvalidMessageError, nonEmpty, port, present, safeInteger, unknownCase, weight } from "./invalid.js";

type WriteOp = NonNullable<MessageInitShape<typeof ClientWriteSchema>["op"]>;

function encodePatch(p: InstancePatch): MessageInitShape<typeof InstancePatchSchema> {
  const { metadata, ...scalars } = p;
  return metadata === undefined ? scalars : { ...scalars, metadata: { entries: metadata } };
}

type Targets = readonly MetadataTarget[] | "ephemeral" | "persist";
type TargetsInit = NonNullable<MessageInitShape<typeof UpdateMetadataWriteSchema>["targets"]>;

function encodeTargets(targets: Targets): TargetsInit {
  if (targets === "ephemeral") return { case: "allOfKind", value: InstanceKind.EPHEMERAL };
  if (targets === "persist") return { case: "allOfKind", value: InstanceKind.PERSISTENT };
  return { case: "instances", value: { instances: [...targets] } };
}

function encodeOp(w: ClientWrite): WriteOp {
  switch (w.type) {
    case "register":
      return { case: "register", value: { instance: w.instance } };
    case "update":
      return { case: "update", value: { instance: w.instance, mustExist: w.mustExist } };
    case "patch":
      return { case: "patch", value: { address: w.address, patch: encodePatch(w.patch) } };
    case "deregister":
      return { case: "deregister", value: { address: w.address, ephemeral: w.ephemeral } };
    case "beat":
      return { case: "beat", value: w.beat === undefined ? { address: w.address } : { address: w.address, beat: w.beat } };
    case "setHealth":
      return { case: "setHealth", value: { address: w.address, healthy: w.healthy } };
    case "updateMetadata":
      return { case: "updateMetadata", value: { remove: w.remove, metadata: w.metadata, targets: encodeTargets(w.targets) } };
    case "createService":
      return { case: "createService", value: { spec: encodeServiceSpec(w.spec) } };
    case "updateService":
      return { case: "updateService", value: { spec: encodeServiceSpec(w.spec) } };
    case "deleteService":
      return { case: "deleteService", value: {} };
    case "updateCluster":
      return { case: "updateCluster", value: { clusterName: w.clusterName, settings: encodeCluster(w.settings) } };
    // placeholder: owned by helper A (issue 17 design)
    case "batchRegister":
      throw new Error("a connection-bound write is executed where it arrives, never forwarded");
  }
}

export function encodeWrite(w: ClientWrite): MessageInitShape<typeof ClientWriteSchema> {
  return { service: w.service, op: encodeOp(w) };
}

function decodeService(m: ServiceRefMessage | undefined, path: string): ServiceRef {
  const s = present(m, path);
  return {
    namespaceId: nonEmpty(s.namespaceId, `${path}.namespaceId`),
    groupedName: nonEmpty(s.groupedName, `${path}.groupedName`),
  };
}

/** The address fields every instance-addressing message shares. */
type AddressFields = Pick<InstanceAddressMessage, "ip" | "port" | "clusterName">;

function decodeAddress(m: AddressFields | undefined, path: string): InstanceAddress {
  const a = present(m, path);
  return {
    ip: nonEmpty(a.ip, `${path}.ip`),
    port: port(a.port, `${path}.port`),
    clusterName: nonEmpty(a.clusterName, `${path}.clusterName`),
  };
}

function decodeSpec(m: InstanceSpecMessage | undefined, path: string): InstanceSpec {
  const s = present(m, path);
  return {
    ...decodeAddress(s, path),
    weight: weight(s.weight, `${path}.weight`),
    healthy: s.healthy,
    enabled: s.enabled,
    ephemeral: s.ephemeral,
    metadata: s.metadata,
    app: s.app,
  };
}

function decodePatch(m: InstancePatchMessage | undefined, path: string): InstancePatch {
  const p = present(m, path);
  return {
    ...(p.metadata === undefined ? {} : { metadata: p.metadata.entries }),
    ...(p.app === undefined ? {} : { app: p.app }),
    ...(p.weight === undefined ? {} : { weight: weight(p.weight, `${path}.weight`) }),
    ...(p.healthy === undefined ? {} : { healthy: p.healthy }),
    ...(p.enabled === undefined ? {} : { enabled: p.enabled }),
  };
}

/** Absent for a light beat. */
function decodeBeat(b: BeatInfoMessage | undefined, path: string): BeatInfo | undefined {
  if (b === undefined) return undefined;
  return {
    ...decodeAddress(b, path),
    weight: weight(b.weight, `${path}.weight`),
    ephemeral: b.ephemeral,
    metadata: b.metadata,
  };
}

function decodeTargets(m: UpdateMetadataWrite, path: string): Targets {
  const { targets } = m;
  switch (targets.case) {
    case "instances":
      return targets.value.instances.map((t, n) => ({ ...decodeAddress(t, `${path}.instances[${n}]`), ephemeral: t.ephemeral }));
    case "allOfKind":
      if (targets.value === InstanceKind.EPHEMERAL) return "ephemeral";
      if (targets.value === InstanceKind.PERSISTENT) return "persist";
      throw new InvalidMessageError(`${path}.allOfKind`, `${targets.value} is not a known instance kind`);
    default:
      throw unknownCase(path);
  }
}

export function decodeWrite(m: ClientWriteMessage | undefined, path: string): ClientWrite {
  const w = present(m, path);
  const service = decodeService(w.service, `${path}.service`);
  const { op } = w;
  const at = `${path}.${op.case ?? "op"}`;
  const address = (m: { readonly address?: InstanceAddressMessage | undefined }): InstanceAddress =>
    decodeAddress(m.address, `${at}.address`);
  switch (op.case) {
    case "register":
      return { type: "register", service, instance: decodeSpec(op.value.instance, `${at}.instance`) };
    case "update": {
      const instance = decodeSpec(op.value.instance, `${at}.instance`);
      return { type: "update", service, instance, mustExist: op.value.mustExist };
    }
    case "patch":
      return { type: "patch", service, address: address(op.value), patch: decodePatch(op.value.patch, `${at}.patch`) };
    case "deregister":
      return { type: "deregister", service, address: address(op.value), ephemeral: op.value.ephemeral };
    case "beat":
      return { type: "beat", service, address: address(op.value), beat: decodeBeat(op.value.beat, `${at}.beat`) };
    case "setHealth":
      return { type: "setHealth", service, address: address(op.value), healthy: op.value.healthy };
    case "updateMetadata": {
      const { remove, metadata } = op.value;
      return { type: "updateMetadata", service, remove, metadata, targets: decodeTargets(op.value, `${at}.targets`) };
    }
    case "createService":
      return { type: "createService", service, spec: decodeServiceSpec(op.value.spec, `${at}.spec`) };
    case "updateService":
      return { type: "updateService", service, spec: decodeServiceSpec(op.value.spec, `${at}.spec`) };
    case "deleteService":
      return { type: "deleteService", service };
    case "updateCluster": {
      const clusterName = nonEmpty(op.value.clusterName, `${at}.clusterName`);
      checked(`${at}.clusterName`, () => checkClusterName(clusterName));
      const settings = decodeCluster(present(op.value.settings, `${at}.settings`), `${at}.settings`);
      return { type: "updateCluster", service, clusterName, settings };
    }
    default:
      throw unknownCase(at);
  }
}

function encodeResult(r: WriteResult): MessageInitShape<typeof WriteResultSchema> {
  switch (r.type) {
    case "ok":
      return { result: { case: "ok", value: {} } };
    case "beat": {
      const { code, clientBeatInterval, lightBeatEnabled } = r;
      const beat = { code, clientBeatInterval: BigInt(clientBeatInterval) };
      return { result: { case: "beat", value: lightBeatEnabled === undefined ? beat : { ...beat, lightBeatEnabled } } };
    }
    case "updated":
      return { result: { case: "updated", value: { updated: [...r.updated] } } };
  }
}

function decodeResult(m: WriteResultMessage, path: string): WriteResult {
  const { result } = m;
  switch (result.case) {
    case "ok":
      return { type: "ok" };
    case "beat": {
      const { code, lightBeatEnabled } = result.value;
      const clientBeatInterval = safeInteger(result.value.clientBeatInterval, `${path}.beat.clientBeatInterval`);
      const beat = { type: "beat", code, clientBeatInterval } as const;
      return lightBeatEnabled === undefined ? beat : { ...beat, lightBeatEnabled };
    }
    case "updated":
      return { type: "updated", updated: result.value.updated };
    default:
      throw unknownCase(`${path}.result`);
  }
}

export function encodeOutcome(o: ForwardOutcome): MessageInitShape<typeof ForwardResponseSchema> {
  return o.ok
    ? { outcome: { case: "result", value: encodeResult(o.result) } }
    : { outcome: { case: "refusal", value: { status: o.status, message: o.message } } };
}

export function decodeOutcome(m: ForwardResponse, path: string): ForwardOutcome {
  const { outcome } = m;
  switch (outcome.case) {
    case "result":
      return { ok: true, result: decodeResult(outcome.value, `${path}.result`) };
    case "refusal": {
      const status = inRange(outcome.value.status, 100, 599, `${path}.refusal.status`);
      return { ok: false, status, message: outcome.value.message };
    }
    default:
      throw unknownCase(`${path}.outcome`);
  }
}
