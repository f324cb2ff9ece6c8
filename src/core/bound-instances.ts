/**
 * The registry's connection-bound instances (Instance.connection), indexed by the node holding the connection,
 * then the connection, then the service: kept from every registry change whoever made it (a local write, a peer's
 * datum, a snapshot), so it always says what the registry holds. A connection's writes, its close and the removal
 * of what a dead node's connections left behind find their instances here in time proportional to those
 * instances, never by scanning services. 1.x instances are not in it and cost it nothing.
 *
 * Each entry also records when this node last saw it change (its own clock, not the entry's version, which
 * another member's clock stamped): what a node may remove after a grace is what has been still for that long.
 */
import { getOrCreate } from "./memo.js";
import type { ConnectionBinding } from "./instance.js";
import type { RegistryChange, RegistryView } from "./registry.js";
import type { InstanceEntry } from "./service-datum.js";

/** Entry id → when this node last saw the entry change (ms). */
export type BoundIds = ReadonlyMap<string, number>;

/** Connection id → service key → its bound entries. */
type Connections = Map<string, Map<string, Map<string, number>>>;

export class BoundInstances {
  private readonly byNode = new Map<string, Connections>();
  private total = 0;

  constructor(
    registry: RegistryView,
    private readonly clock: () => number,
  ) {
    registry.onChange((change) => this.track(change));
  }

  /** The entries of service `key` bound to `binding`. */
  idsOf(binding: ConnectionBinding, key: string): BoundIds | undefined {
    return this.byNode.get(binding.node)?.get(binding.connectionId)?.get(key);
  }

  /** The services holding instances bound to `binding`, each with its entries. */
  servicesOf(binding: ConnectionBinding): ReadonlyMap<string, BoundIds> {
    return this.byNode.get(binding.node)?.get(binding.connectionId) ?? EMPTY;
  }

  /** The nodes some instance here is bound to. */
  nodes(): IterableIterator<string> {
    return this.byNode.keys();
  }

  /** The connections of `node` some instance here is bound to, with their services. */
  connectionsOf(node: string): ReadonlyMap<string, ReadonlyMap<string, BoundIds>> {
    return this.byNode.get(node) ?? EMPTY;
  }

  /** Bound instances held here. */
  get size(): number {
    return this.total;
  }

  private track(change: RegistryChange): void {
    for (const { before, after } of change.entries) {
      const was = bindingOf(before);
      const is = bindingOf(after);
      if (was === undefined && is === undefined) continue;
      if (was !== undefined) this.remove(was, change.key, before!.id);
      if (is !== undefined) this.add(is, change.key, after!.id);
    }
  }

  private add(b: ConnectionBinding, key: string, id: string): void {
    const connections = getOrCreate(this.byNode, b.node, (): Connections => new Map());
    const services = getOrCreate(connections, b.connectionId, () => new Map<string, Map<string, number>>());
    const ids = getOrCreate(services, key, () => new Map<string, number>());
    if (!ids.has(id)) this.total++;
    ids.set(id, this.clock());
  }

  private remove(b: ConnectionBinding, key: string, id: string): void {
    const connections = this.byNode.get(b.node);
    const services = connections?.get(b.connectionId);
    const ids = services?.get(key);
    if (ids?.delete(id) !== true) return;
    this.total--;
    if (ids.size > 0) return;
    services!.delete(key);
    if (services!.size > 0) return;
    connections!.delete(b.connectionId);
    if (connections!.size === 0) this.byNode.delete(b.node);
  }
}

const EMPTY: ReadonlyMap<never, never> = new Map<never, never>();

const bindingOf = (e: InstanceEntry | undefined): ConnectionBinding | undefined => e?.instance?.connection;
