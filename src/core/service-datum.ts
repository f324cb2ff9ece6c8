/**
 * The unit of replication: everything the registry knows about one service (its metadata and all of its
 * instances, ephemeral and persistent) under one key and one version. A single writer per key (the
 * responsible node) keeps it consistent; versions keep replication order-independent.
 */
import type { Instance, Metadata } from "./instance.js";
import type { Version } from "./version.js";

export type Selector = { readonly type: "none" } | { readonly type: "label"; readonly expression: string };

export interface ServiceMeta {
  /** 1.4 semantics: a negative value disables the protect threshold. */
  readonly protectThreshold: number;
  readonly metadata: Metadata;
  readonly selector: Selector;
}

export const DEFAULT_SERVICE_META: ServiceMeta = Object.freeze({
  protectThreshold: 0,
  metadata: Object.freeze({}),
  selector: Object.freeze({ type: "none" as const }),
});

export interface ServiceContent {
  /** A tombstone: the service was deleted. Kept (with its version) so late messages cannot resurrect it. */
  readonly deleted: boolean;
  readonly meta: ServiceMeta;
  readonly instances: readonly Instance[];
}

export interface ServiceDatum extends ServiceContent {
  /** `namespace##group@@name`. */
  readonly key: string;
  readonly version: Version;
}

export const TOMBSTONE_CONTENT: ServiceContent = Object.freeze({
  deleted: true,
  meta: DEFAULT_SERVICE_META,
  instances: Object.freeze([]) as readonly Instance[],
});

function sameMetadata(a: Metadata, b: Metadata): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function sameSelector(a: Selector, b: Selector): boolean {
  if (a.type !== b.type) return false;
  return a.type === "none" || (b.type === "label" && a.expression === b.expression);
}

export function sameMeta(a: ServiceMeta, b: ServiceMeta): boolean {
  return a.protectThreshold === b.protectThreshold && sameMetadata(a.metadata, b.metadata) && sameSelector(a.selector, b.selector);
}

export function sameInstance(a: Instance, b: Instance): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.ip === b.ip &&
    a.port === b.port &&
    a.weight === b.weight &&
    a.healthy === b.healthy &&
    a.enabled === b.enabled &&
    a.ephemeral === b.ephemeral &&
    a.clusterName === b.clusterName &&
    a.serviceName === b.serviceName &&
    a.app === b.app &&
    a.marked === b.marked &&
    sameMetadata(a.metadata, b.metadata)
  );
}

export function sameContent(a: ServiceContent, b: ServiceContent): boolean {
  return (
    a.deleted === b.deleted &&
    sameMeta(a.meta, b.meta) &&
    a.instances.length === b.instances.length &&
    a.instances.every((inst, i) => sameInstance(inst, b.instances[i] as Instance))
  );
}
