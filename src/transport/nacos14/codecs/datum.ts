/**
 * Nacos 1.4's Distro Datum JSON ↔ the registry's datums.
 *
 * A 1.4 Datum is `{key, value:{instanceList:[Instance...]}, timestamp}`: the whole list of a service's live
 * *ephemeral* instances, with no version (1.4 keeps persistent instances and service metadata in Raft).
 * That is all a 1.4 node reads. A ts-nacos node also writes an extra field, `tsNacos`, holding the datum's
 * versions, tombstones, persistent instances and service metadata; 1.4 ignores unknown fields (Jackson with
 * FAIL_ON_UNKNOWN_PROPERTIES off) and drops it when it stores the datum, so the field only ever arrives
 * straight from the ts-nacos node that wrote it, and two ts-nacos nodes talking over HTTP replicate exactly
 * what they would over gRPC. A 2.x client's instance carries its connection binding only there (`connection` of
 * its entry): a 1.4 node sees an ordinary ephemeral instance.
 */
import { nacos14Instances } from "../../../core/checksum.js";
import { badRequest } from "../../../core/errors.js";
import {
  MAX_PORT,
  PRESERVED_ID_GENERATOR,
  beatIntervalOf,
  beatTimeoutOf,
  clampWeight,
  deleteTimeoutOf,
  identityOf,
  simpleInstanceId,
  type ConnectionBinding,
  type Instance,
} from "../../../core/instance.js";
import { bindingProblem } from "../../../core/connection-binding.js";
import { checkClusterSettings, healthCheckerFromJson, type ClusterMap, type ClusterSettings } from "../../../core/cluster-settings.js";
import { checkClusterName, DEFAULT_CLUSTER, parseServiceKey } from "../../../core/naming.js";
import {
  DEFAULT_SERVICE_META,
  makeDatum,
  type InstanceEntry,
  type Selector,
  type ServiceDatum,
  type ServiceMeta,
} from "../../../core/service-datum.js";
import type { Version } from "../../../core/version.js";
import {
  expectArray,
  expectObject,
  expectString,
  optionalBoolean,
  optionalNumber,
  optionalString,
  requiredInteger,
  requiredString,
  stringMap,
} from "./json.js";
import { fromLegacyKey, toLegacyKey } from "./keys.js";
import type { OwnerList } from "../../../node/ports.js";

/** An Instance as 1.4 serialises it inside a Datum (Jackson, nulls dropped; the last four are derived getters). */
export interface InstanceJson {
  readonly instanceId: string;
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
  readonly healthy: boolean;
  readonly enabled: boolean;
  readonly ephemeral: boolean;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastBeat: number;
  readonly marked: boolean;
  readonly app: string;
  readonly instanceHeartBeatInterval: number;
  readonly instanceHeartBeatTimeOut: number;
  readonly ipDeleteTimeout: number;
  readonly instanceIdGenerator: string;
}

interface VersionJson {
  readonly counter: number;
  readonly writer: string;
}

/**
 * One instance entry of the versioned extension. A live ephemeral entry of a live service carries neither
 * `instance` nor `removed`: its instance is the one in `instanceList` with the same id, so lists are not sent twice.
 * `connection` is the binding of a live instance a 2.x client registered over its connection.
 */
interface EntryJson {
  readonly id: string;
  readonly version: VersionJson;
  readonly instance?: InstanceJson;
  readonly removed?: true;
  readonly connection?: ConnectionBinding;
}

interface VersionedJson {
  readonly deleted: boolean;
  readonly meta: ServiceMeta;
  readonly metaVersion: VersionJson;
  readonly entries: readonly EntryJson[];
}

export interface DatumJson {
  readonly key: string;
  readonly value: { readonly instanceList: readonly InstanceJson[] };
  readonly timestamp: number;
  readonly tsNacos?: VersionedJson;
}

/**
 * The version given to instances that came without one (a 1.4 node's snapshot or query answer): below every
 * version a write gives, so such a list only fills gaps and never overrides anything this node already knows.
 */
export const UNVERSIONED_COUNTER = 1;

/**
 * `lastBeat` is the time of encoding: beat times are local to the node that receives the beats and are not in
 * our datums. A 1.4 node that takes over a service thus gives every instance a full timeout before expiring
 * it, as ts-nacos's own takeover grace does, instead of deleting them all at once.
 */
function encodeInstance(i: Instance, lastBeat: number): InstanceJson {
  return {
    instanceId: i.instanceId,
    ip: i.ip,
    port: i.port,
    weight: i.weight,
    healthy: i.healthy,
    enabled: i.enabled,
    ephemeral: i.ephemeral,
    clusterName: i.clusterName,
    serviceName: i.serviceName,
    metadata: i.metadata,
    lastBeat,
    marked: i.marked,
    app: i.app,
    instanceHeartBeatInterval: beatIntervalOf(i),
    instanceHeartBeatTimeOut: beatTimeoutOf(i),
    ipDeleteTimeout: deleteTimeoutOf(i),
    instanceIdGenerator: i.metadata[PRESERVED_ID_GENERATOR] ?? "simple",
  };
}

/**
 * Reads an instance of service `groupedName`. Missing fields take 1.4's defaults; the weight is clamped as 1.4
 * clamps peer data; `serviceName` is always the datum's own (a list never holds another service's instances).
 */
function decodeInstance(value: unknown, groupedName: string, where: string, forceEphemeral: boolean): Instance {
  const o = expectObject(value, where);
  const ip = requiredString(o, "ip", where).trim();
  const port = requiredInteger(o, "port", where, 0, MAX_PORT);
  const clusterName = optionalString(o, "clusterName", where, DEFAULT_CLUSTER) || DEFAULT_CLUSTER;
  return {
    instanceId: optionalString(o, "instanceId", where, "") || simpleInstanceId(ip, port, clusterName, groupedName),
    ip,
    port,
    weight: clampWeight(optionalNumber(o, "weight", where, 1)),
    healthy: optionalBoolean(o, "healthy", where, true),
    enabled: optionalBoolean(o, "enabled", where, true),
    ephemeral: forceEphemeral || optionalBoolean(o, "ephemeral", where, true),
    clusterName,
    serviceName: groupedName,
    metadata: stringMap(o.metadata, `${where}.metadata`),
    app: optionalString(o, "app", where, "DEFAULT"),
    marked: optionalBoolean(o, "marked", where, false),
  };
}

const versionJson = (v: Version): VersionJson => ({ counter: v.counter, writer: v.writer });

function encodeEntry(datum: ServiceDatum, e: InstanceEntry, now: number): EntryJson {
  const version = versionJson(e.version);
  if (e.instance === undefined) return { id: e.id, version, removed: true };
  const { connection } = e.instance;
  const bound = connection === undefined ? {} : { connection: { node: connection.node, connectionId: connection.connectionId } };
  if (!datum.deleted && e.instance.ephemeral) return { id: e.id, version, ...bound };
  return { id: e.id, version, instance: encodeInstance(e.instance, now), ...bound };
}

/** A binding as `encodeEntry` wrote it, well formed (connection-binding.ts), of a live ephemeral instance. */
function decodeBinding(value: unknown, instance: Instance, where: string): ConnectionBinding {
  const o = expectObject(value, where);
  const binding = { node: expectString(o.node, `${where}.node`), connectionId: expectString(o.connectionId, `${where}.connectionId`) };
  const problem = instance.ephemeral ? bindingProblem(binding) : "is set on a persistent instance";
  if (problem !== undefined) throw badRequest(`${where}: ${problem}`);
  return binding;
}

export function encodeDatum(datum: ServiceDatum, now: number): DatumJson {
  return {
    key: toLegacyKey(datum.key),
    value: { instanceList: nacos14Instances(datum).map((i) => encodeInstance(i, now)) },
    // 1.4 stamps every local put with 1 and never compares it.
    timestamp: 1,
    tsNacos: {
      deleted: datum.deleted,
      meta: datum.meta,
      metaVersion: versionJson(datum.metaVersion),
      entries: datum.entries.map((e) => encodeEntry(datum, e, now)),
    },
  };
}

/** `{legacyKey: Datum}`, the body of `PUT /distro/datum` and the answer of `GET /distro/datum(s)`. */
export function encodeDatumMap(datums: Iterable<ServiceDatum>, now: number): Record<string, DatumJson> {
  const out: Record<string, DatumJson> = {};
  for (const d of datums) out[toLegacyKey(d.key)] = encodeDatum(d, now);
  return out;
}

function decodeVersion(value: unknown, where: string): Version {
  const o = expectObject(value, where);
  return {
    counter: requiredInteger(o, "counter", where, 0, Number.MAX_SAFE_INTEGER),
    writer: expectString(o.writer, `${where}.writer`),
  };
}

function decodeSelector(value: unknown, where: string): Selector {
  const o = expectObject(value, where);
  if (o.type === "none") return { type: "none" };
  if (o.type === "label") return { type: "label", expression: expectString(o.expression, `${where}.expression`) };
  throw badRequest(`${where}.type must be "none" or "label"`);
}

/** A cluster's settings as `encodeDatum` wrote them (the domain object as JSON), checked as every way in checks them. */
function decodeCluster(name: string, value: unknown, where: string): ClusterSettings {
  checkClusterName(name);
  const o = expectObject(value, where);
  const settings: ClusterSettings = {
    healthChecker: healthCheckerFromJson(o.healthChecker, `${where}.healthChecker`),
    checkPort: requiredInteger(o, "checkPort", where, 0, MAX_PORT),
    useInstancePort4Check: optionalBoolean(o, "useInstancePort4Check", where, true),
    metadata: stringMap(o.metadata, `${where}.metadata`),
  };
  checkClusterSettings(settings);
  return settings;
}

function decodeClusters(value: unknown, where: string): ClusterMap {
  if (value === undefined || value === null) return DEFAULT_SERVICE_META.clusters;
  const out: Record<string, ClusterSettings> = {};
  for (const [name, raw] of Object.entries(expectObject(value, where))) out[name] = decodeCluster(name, raw, `${where}.${name}`);
  return out;
}

function decodeMeta(value: unknown, where: string): ServiceMeta {
  const o = expectObject(value, where);
  return {
    protectThreshold: optionalNumber(o, "protectThreshold", where, DEFAULT_SERVICE_META.protectThreshold),
    metadata: stringMap(o.metadata, `${where}.metadata`),
    selector: o.selector === undefined ? DEFAULT_SERVICE_META.selector : decodeSelector(o.selector, `${where}.selector`),
    clusters: decodeClusters(o.clusters, `${where}.clusters`),
  };
}

function decodeVersioned(key: string, value: unknown, listed: readonly Instance[], where: string): ServiceDatum {
  const o = expectObject(value, where);
  const { groupedName } = parseServiceKey(key);
  const deleted = optionalBoolean(o, "deleted", where, false);
  const byId = new Map(listed.map((i) => [identityOf(i), i]));
  const seen = new Set<string>();
  const entries = expectArray(o.entries, `${where}.entries`).map((raw, n): InstanceEntry => {
    const at = `${where}.entries[${n}]`;
    const e = expectObject(raw, at);
    const id = requiredString(e, "id", at);
    if (seen.has(id)) throw badRequest(`${at}.id '${id}' appears twice`);
    seen.add(id);
    const version = decodeVersion(e.version, `${at}.version`);
    if (optionalBoolean(e, "removed", at, false)) {
      if (e.connection !== undefined) throw badRequest(`${at}.connection is set on a removed entry`);
      return { id, version, instance: undefined };
    }
    const instance = e.instance === undefined ? byId.get(id) : decodeInstance(e.instance, groupedName, `${at}.instance`, false);
    if (instance === undefined) throw badRequest(`${at}: no instance with id '${id}' in value.instanceList`);
    if (identityOf(instance) !== id) throw badRequest(`${at}.id '${id}' does not match its instance (${identityOf(instance)})`);
    if (e.connection === undefined) return { id, version, instance };
    return { id, version, instance: { ...instance, connection: decodeBinding(e.connection, instance, `${at}.connection`) } };
  });
  const unlisted = [...byId.keys()].find((id) => !seen.has(id));
  if (unlisted !== undefined) throw badRequest(`${where}.entries has no entry for listed instance '${unlisted}'`);
  const meta = decodeMeta(o.meta, `${where}.meta`);
  return makeDatum(key, deleted, meta, decodeVersion(o.metaVersion, `${where}.metaVersion`), entries);
}

/** Reads one Datum of an ephemeral key; undefined for keys 1.4 keeps outside Distro. */
export function decodeDatum(legacyKey: string, value: unknown): OwnerList | undefined {
  const key = fromLegacyKey(legacyKey);
  if (key === undefined) return undefined;
  const where = `datum '${legacyKey}'`;
  const o = expectObject(value, where);
  if (o.key !== undefined && o.key !== legacyKey) throw badRequest(`${where}.key is '${String(o.key)}', not its map key`);
  const list = expectObject(o.value, `${where}.value`);
  const { groupedName } = parseServiceKey(key);
  const byId = new Map<string, Instance>();
  expectArray(list.instanceList, `${where}.value.instanceList`).forEach((raw, n) => {
    // A 1.4 list is a map by address and cluster: a repeated instance replaces the earlier one.
    const instance = decodeInstance(raw, groupedName, `${where}.value.instanceList[${n}]`, true);
    byId.set(identityOf(instance), instance);
  });
  const instances = [...byId.values()];
  const versioned = o.tsNacos === undefined ? undefined : decodeVersioned(key, o.tsNacos, instances, `${where}.tsNacos`);
  return { key, instances, versioned };
}

/**
 * Reads a `{legacyKey: Datum}` map. `null` values (1.4 answers a query for a key it lacks with one) are
 * skipped when `skipNulls`, refused otherwise. Validates everything before returning anything.
 */
export function decodeDatumMap(value: unknown, skipNulls: boolean): OwnerList[] {
  const out: OwnerList[] = [];
  for (const [legacyKey, raw] of Object.entries(expectObject(value, "datum map"))) {
    if (raw === null && skipNulls) continue;
    const datum = decodeDatum(legacyKey, raw);
    if (datum !== undefined) out.push(datum);
  }
  return out;
}

/** The datum to merge: the sender's own when it sent versions, else its list as an unversioned datum by `writer`. */
export function asServiceDatum(d: OwnerList, writer: string): ServiceDatum {
  if (d.versioned !== undefined) return d.versioned;
  const version: Version = { counter: UNVERSIONED_COUNTER, writer };
  const entries = d.instances.map((instance) => ({ id: identityOf(instance), version, instance }));
  return makeDatum(d.key, false, DEFAULT_SERVICE_META, version, entries);
}
