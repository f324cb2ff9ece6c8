/**
 * Shared copies of what repeats across instances: cluster names, apps, service names, metadata keys and values,
 * and whole metadata maps. A million instances of a few hundred services then hold a few thousand strings and
 * maps between them instead of a million each. Bounded: a table that fills up starts over, so values that never
 * repeat (ids in metadata, say) cost a lookup and nothing more.
 */
import type { Instance, Metadata } from "./instance.js";
import type { InstanceEntry } from "./service-datum.js";

const MAX_ENTRIES = 100_000;
/** Longer values rarely repeat; they are kept as they come. */
const MAX_LENGTH = 256;
const EMPTY: Metadata = Object.freeze({});

export class Interner {
  private strings = new Map<string, string>();
  private metadatas = new Map<string, Metadata>();

  string(s: string): string {
    if (s.length > MAX_LENGTH) return s;
    const held = this.strings.get(s);
    if (held !== undefined) return held;
    if (this.strings.size >= MAX_ENTRIES) this.strings = new Map();
    this.strings.set(s, s);
    return s;
  }

  metadata(m: Metadata): Metadata {
    let key = "";
    let count = 0;
    for (const k in m) {
      key += `${k}\u0000${m[k]}\u0001`;
      if (++count > 16 || key.length > MAX_LENGTH) return m;
    }
    if (count === 0) return EMPTY;
    const held = this.metadatas.get(key);
    if (held !== undefined) return held;
    if (this.metadatas.size >= MAX_ENTRIES) this.metadatas = new Map();
    const shared: Record<string, string> = {};
    for (const k in m) shared[this.string(k)] = this.string(m[k]!);
    Object.freeze(shared);
    this.metadatas.set(key, shared);
    return shared;
  }

  /** The entry with its repeating parts shared: writer, cluster, service, app and metadata. */
  entry(e: InstanceEntry): InstanceEntry {
    const version = { counter: e.version.counter, writer: this.string(e.version.writer) };
    const i = e.instance;
    if (i === undefined) return { id: e.id, version, instance: undefined };
    const instance: Instance = {
      instanceId: i.instanceId,
      ip: i.ip,
      port: i.port,
      weight: i.weight,
      healthy: i.healthy,
      enabled: i.enabled,
      ephemeral: i.ephemeral,
      clusterName: this.string(i.clusterName),
      serviceName: this.string(i.serviceName),
      metadata: this.metadata(i.metadata),
      app: this.string(i.app),
      marked: i.marked,
      // placeholder: owned by helper A (issue 17 design)
      ...(i.connection === undefined ? {} : { connection: i.connection }),
    };
    return { id: e.id, version, instance };
  }
}
