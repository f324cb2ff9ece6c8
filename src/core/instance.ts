/** One registered endpoint of a service, and the per-instance rules Nacos 1.4 derives from its metadata. */

export type Metadata = Readonly<Record<string, string>>;

export function sameMetadata(a: Metadata, b: Metadata): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

// placeholder: owned by helper A (issue 17 design)
/** The 2.x connection an ephemeral instance lives by: the member holding it and the id that member gave it. */
export interface ConnectionBinding {
  readonly node: string;
  readonly connectionId: string;
}

/** Immutable: a change replaces the object, so a datum handed to a peer or a push never changes under it. */
export interface Instance {
  readonly instanceId: string;
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
  readonly healthy: boolean;
  readonly enabled: boolean;
  readonly ephemeral: boolean;
  readonly clusterName: string;
  /** Grouped name `group@@name`. */
  readonly serviceName: string;
  readonly metadata: Metadata;
  readonly app: string;
  /** Legacy 1.x flag: health comes from the data only; never expired, never flipped by beats. */
  readonly marked: boolean;
  // placeholder: owned by helper A (issue 17 design)
  readonly connection?: ConnectionBinding;
}

export const PRESERVED_BEAT_INTERVAL = "preserved.heart.beat.interval";
export const PRESERVED_BEAT_TIMEOUT = "preserved.heart.beat.timeout";
export const PRESERVED_DELETE_TIMEOUT = "preserved.ip.delete.timeout";
export const PRESERVED_ID_GENERATOR = "preserved.instance.id.generator";

export const DEFAULT_BEAT_INTERVAL_MS = 5_000;
export const DEFAULT_BEAT_TIMEOUT_MS = 15_000;
export const DEFAULT_DELETE_TIMEOUT_MS = 30_000;

/** `ip:port:unknown:cluster`, the identity 1.4 uses for an instance inside its service. */
export function instanceKey(i: Pick<Instance, "ip" | "port" | "clusterName">): string {
  return `${i.ip}:${i.port}:unknown:${i.clusterName}`;
}

/**
 * An instance's identity inside its service: address, cluster and kind. Ephemeral and persistent instances
 * with the same address are distinct, as 1.4 keeps them in two lists.
 */
export function identityOf(i: Pick<Instance, "ip" | "port" | "clusterName" | "ephemeral">): string {
  return `${instanceKey(i)}:${i.ephemeral ? "ephemeral" : "persist"}`;
}

/** Whether an `identityOf` names a persistent instance. */
export const isPersistentId = (id: string): boolean => id.endsWith(":persist");

/** The default ("simple") instanceId generator of 1.4: `ip#port#cluster#group@@service`. */
export function simpleInstanceId(ip: string, port: number, clusterName: string, groupedName: string): string {
  return `${ip}#${port}#${clusterName}#${groupedName}`;
}

/** The "snowflake" generator: the smallest non-negative integer not already used as an id in the list. */
export function snowflakeInstanceId(existing: readonly Instance[]): string {
  const used = new Set(existing.map((i) => i.instanceId));
  let n = 0;
  while (used.has(String(n))) n++;
  return String(n);
}

function metadataMillis(instance: Instance, key: string, fallback: number): number {
  const raw = instance.metadata[key];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : fallback;
}

export const beatIntervalOf = (i: Instance, fallback = DEFAULT_BEAT_INTERVAL_MS): number =>
  metadataMillis(i, PRESERVED_BEAT_INTERVAL, fallback);
export const beatTimeoutOf = (i: Instance): number => metadataMillis(i, PRESERVED_BEAT_TIMEOUT, DEFAULT_BEAT_TIMEOUT_MS);
export const deleteTimeoutOf = (i: Instance): number => metadataMillis(i, PRESERVED_DELETE_TIMEOUT, DEFAULT_DELETE_TIMEOUT_MS);

/** The ranges every way in (client API, gRPC peers, 1.4 peers) checks: one definition, so they cannot drift. */
export const MAX_PORT = 65535;
/** Nacos's `MAX_WEIGHT_VALUE`; weights run from 0 to it. */
export const MAX_WEIGHT = 10_000;
/** Nacos's `MIN_POSITIVE_WEIGHT_VALUE`: what a positive weight below it is raised to. */
const MIN_POSITIVE_WEIGHT = 0.01;

/** An instance port: an integer in 0..65535 (0 is legal for an instance, not for a member). */
export const isPort = (port: number): boolean => Number.isInteger(port) && port >= 0 && port <= MAX_PORT;

/** A weight clients may set: 0..10000; NaN and infinities are not. */
export const isWeight = (weight: number): boolean => weight >= 0 && weight <= MAX_WEIGHT;

/** Weight rule applied to data from peers (1.4 clamps rather than rejects). */
export function clampWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight <= 0) return 0;
  if (weight > MAX_WEIGHT) return MAX_WEIGHT;
  return Math.max(weight, MIN_POSITIVE_WEIGHT);
}
