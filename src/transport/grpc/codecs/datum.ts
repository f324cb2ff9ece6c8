/**
 * ServiceDatum (and its versions, instances and metadata) ↔ nacos.cluster.v1 messages. A datum travels as its
 * parts (meta, meta version, entries); the receiver rebuilds it with `makeDatum`, which derives the live
 * instance list, the highest version and the digest, so those can never disagree with the entries.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { bindingProblem } from "../../../core/connection-binding.js";
import { identityOf, type ConnectionBinding, type Instance } from "../../../core/instance.js";
import { checkClusterSettings, type ClusterMap, type ClusterSettings, type HealthChecker } from "../../../core/cluster-settings.js";
import { checkClusterName, checkServiceKey, parseServiceKey } from "../../../core/naming.js";
import type { ServiceSpec } from "../../../core/ops.js";
import { makeDatum, type InstanceEntry, type Selector, type ServiceDatum, type ServiceMeta } from "../../../core/service-datum.js";
import type { Version } from "../../../core/version.js";
import {
  ClusterSettingsSchema,
  type ClusterSettings as ClusterSettingsMessage,
  type HealthCheckerSchema,
  type InstanceEntrySchema,
  type InstanceSchema,
  type SelectorSchema,
  type ServiceDatumSchema,
  type ServiceMetaSchema,
  type VersionSchema,
} from "../../../../gen/nacos/cluster/v1/datum_pb.js";
import type {
  BindingFields,
  ClusterFields,
  DatumFields,
  EntryFields,
  HealthCheckerFields,
  InstanceFields,
  MetaFields,
  SelectorFields,
  SpecFields,
  VersionFields,
} from "./datum-reader.js";
import {
  atMost,
  checked,
  finite,
  InvalidMessageError,
  LIMITS,
  nonEmpty,
  port,
  present,
  safeInteger,
  unknownCase,
  weight,
} from "./invalid.js";

export function encodeVersion(v: Version): MessageInitShape<typeof VersionSchema> {
  return { counter: BigInt(v.counter), writer: v.writer };
}

export function decodeVersion(m: VersionFields | undefined, path: string): Version {
  const v = present(m, path);
  const counter = safeInteger(v.counter, `${path}.counter`);
  return { counter, writer: v.writer };
}

/** The message has exactly the domain's fields. */
const encodeInstance = (i: Instance): MessageInitShape<typeof InstanceSchema> => i;

/** A binding is well formed (connection-binding.ts) and only ever on an ephemeral instance. */
function decodeBinding(m: BindingFields, ephemeral: boolean, path: string): ConnectionBinding {
  const binding = { node: m.node, connectionId: m.connectionId };
  const problem = ephemeral ? bindingProblem(binding) : "is set on a persistent instance";
  if (problem !== undefined) throw new InvalidMessageError(path, problem);
  return binding;
}

function decodeInstance(m: InstanceFields, groupedName: string, path: string): Instance {
  const clusterName = nonEmpty(m.clusterName, `${path}.clusterName`);
  checked(`${path}.clusterName`, () => checkClusterName(clusterName));
  if (m.serviceName !== groupedName) {
    throw new InvalidMessageError(`${path}.serviceName`, `'${m.serviceName}' is not its datum's service '${groupedName}'`);
  }
  const instance: Instance = {
    instanceId: m.instanceId,
    ip: nonEmpty(m.ip, `${path}.ip`),
    port: port(m.port, `${path}.port`),
    weight: weight(m.weight, `${path}.weight`),
    healthy: m.healthy,
    enabled: m.enabled,
    ephemeral: m.ephemeral,
    clusterName,
    serviceName: m.serviceName,
    metadata: m.metadata,
    app: m.app,
    marked: m.marked,
  };
  if (m.connection === undefined) return instance;
  return { ...instance, connection: decodeBinding(m.connection, m.ephemeral, `${path}.connection`) };
}

function encodeSelector(s: Selector): MessageInitShape<typeof SelectorSchema> {
  return s.type === "none" ? { kind: { case: "none", value: {} } } : { kind: { case: "label", value: { expression: s.expression } } };
}

function decodeSelector(m: SelectorFields | undefined, path: string): Selector {
  const { kind } = present(m, path);
  switch (kind.case) {
    case "none":
      return { type: "none" };
    case "label":
      return { type: "label", expression: kind.value.expression };
    default:
      throw unknownCase(`${path}.kind`);
  }
}

function encodeChecker(c: HealthChecker): MessageInitShape<typeof HealthCheckerSchema> {
  switch (c.type) {
    case "TCP":
      return { kind: { case: "tcp", value: {} } };
    case "HTTP":
      return { kind: { case: "http", value: { path: c.path, headers: c.headers, expectedResponseCode: c.expectedResponseCode } } };
    case "NONE":
      return { kind: { case: "none", value: {} } };
  }
}

function decodeChecker(m: HealthCheckerFields | undefined, path: string): HealthChecker {
  const { kind } = present(m, path);
  switch (kind.case) {
    case "tcp":
      return { type: "TCP" };
    case "http": {
      const { path: p, headers, expectedResponseCode } = kind.value;
      return { type: "HTTP", path: p, headers, expectedResponseCode };
    }
    case "none":
      return { type: "NONE" };
    default:
      throw unknownCase(`${path}.kind`);
  }
}

export function encodeCluster(s: ClusterSettings): MessageInitShape<typeof ClusterSettingsSchema> {
  return {
    healthChecker: encodeChecker(s.healthChecker),
    checkPort: s.checkPort,
    useInstancePort: s.useInstancePort4Check,
    metadata: s.metadata,
  };
}

export function decodeCluster(m: ClusterFields, path: string): ClusterSettings {
  const settings: ClusterSettings = {
    healthChecker: decodeChecker(m.healthChecker, `${path}.healthChecker`),
    checkPort: m.checkPort,
    useInstancePort4Check: m.useInstancePort,
    metadata: m.metadata,
  };
  checked(path, () => checkClusterSettings(settings));
  return settings;
}

function encodeClusters(clusters: ClusterMap): Record<string, ClusterSettingsMessage> {
  const out: Record<string, ClusterSettingsMessage> = {};
  for (const name in clusters) out[name] = create(ClusterSettingsSchema, encodeCluster(clusters[name]!));
  return out;
}

function decodeClusters(m: Record<string, ClusterFields>, path: string): ClusterMap {
  const out: Record<string, ClusterSettings> = {};
  for (const [name, raw] of Object.entries(m)) {
    checked(`${path}[${name}]`, () => checkClusterName(name));
    out[name] = decodeCluster(raw, `${path}[${name}]`);
  }
  return out;
}

export function encodeServiceSpec(spec: ServiceSpec): MessageInitShape<typeof ServiceMetaSchema> {
  return { protectThreshold: spec.protectThreshold, metadata: spec.metadata, selector: encodeSelector(spec.selector) };
}

export function decodeServiceSpec(m: SpecFields | undefined, path: string): ServiceSpec {
  const spec = present(m, path);
  return {
    protectThreshold: finite(spec.protectThreshold, `${path}.protectThreshold`),
    metadata: spec.metadata,
    selector: decodeSelector(spec.selector, `${path}.selector`),
  };
}

function encodeMeta(meta: ServiceMeta): MessageInitShape<typeof ServiceMetaSchema> {
  return { ...encodeServiceSpec(meta), clusters: encodeClusters(meta.clusters) };
}

function decodeMeta(m: MetaFields | undefined, path: string): ServiceMeta {
  return { ...decodeServiceSpec(m, path), clusters: decodeClusters(present(m, path).clusters, `${path}.clusters`) };
}

function encodeEntry(e: InstanceEntry): MessageInitShape<typeof InstanceEntrySchema> {
  const entry = { id: e.id, version: encodeVersion(e.version) };
  return e.instance === undefined ? entry : { ...entry, instance: encodeInstance(e.instance) };
}

function decodeEntry(m: EntryFields, groupedName: string, path: string): InstanceEntry {
  const id = nonEmpty(m.id, `${path}.id`);
  const version = decodeVersion(m.version, `${path}.version`);
  if (m.instance === undefined) return { id, version, instance: undefined };
  const instance = decodeInstance(m.instance, groupedName, `${path}.instance`);
  if (identityOf(instance) !== id) {
    throw new InvalidMessageError(`${path}.id`, `'${id}' is not its instance's identity '${identityOf(instance)}'`);
  }
  return { id, version, instance };
}

export function encodeDatum(d: ServiceDatum): MessageInitShape<typeof ServiceDatumSchema> {
  return {
    key: d.key,
    deleted: d.deleted,
    meta: encodeMeta(d.meta),
    metaVersion: encodeVersion(d.metaVersion),
    entries: d.entries.map(encodeEntry),
  };
}

function decodeDatum(m: DatumFields, path: string): ServiceDatum {
  const key = nonEmpty(m.key, `${path}.key`);
  checked(`${path}.key`, () => checkServiceKey(key));
  const { groupedName } = parseServiceKey(key);
  const seen = new Set<string>();
  const entries = atMost(m.entries, LIMITS.entriesPerDatum, `${path}.entries`).map((raw, n) => {
    const entry = decodeEntry(raw, groupedName, `${path}.entries[${n}]`);
    if (seen.has(entry.id)) throw new InvalidMessageError(`${path}.entries[${n}].id`, `'${entry.id}' appears twice`);
    seen.add(entry.id);
    return entry;
  });
  const meta = decodeMeta(m.meta, `${path}.meta`);
  return makeDatum(key, m.deleted, meta, decodeVersion(m.metaVersion, `${path}.metaVersion`), entries);
}

/** Decodes a list of datums; keys must be unique (each datum is the whole of its key). */
export function decodeDatums(list: readonly DatumFields[], path: string): ServiceDatum[] {
  const keys = new Set<string>();
  return atMost(list, LIMITS.datumsPerMessage, path).map((raw, n) => {
    const datum = decodeDatum(raw, `${path}[${n}]`);
    if (keys.has(datum.key)) throw new InvalidMessageError(`${path}[${n}].key`, `'${datum.key}' appears twice`);
    keys.add(datum.key);
    return datum;
  });
}
