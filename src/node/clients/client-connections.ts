// placeholder: owned by helper A (issue 17 design)
/**
 * The 2.x client connections this node holds. This stand-in keeps the design's interface and only what the
 * client port needs to run standalone before helper A's implementation replaces it: it remembers what each
 * connection registered here and removes it when the connection closes.
 */
import type { Instance } from "../../core/instance.js";
import { identityOf } from "../../core/instance.js";
import { serviceKey } from "../../core/naming.js";
import type { ClientWrite } from "../../core/ops.js";
import type { RegistryView } from "../../core/registry.js";

export interface ClientConnectionInfo {
  readonly id: string;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly clientVersion: string;
  readonly namespace: string;
  readonly appName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly connectedAt: number;
}

export class ClientConnections {
  private readonly open_ = new Map<string, ClientConnectionInfo>();
  /** connection id → service key → identities it registered. */
  private readonly bound = new Map<string, Map<string, Set<string>>>();
  private readonly listeners: Array<(id: string) => void> = [];

  constructor(
    private readonly registry: RegistryView,
    private readonly remove: (key: string, ids: readonly string[]) => void,
  ) {}

  open(info: ClientConnectionInfo): void {
    this.open_.set(info.id, info);
  }

  close(id: string, _reason: string): void {
    if (!this.open_.delete(id)) return;
    for (const [key, ids] of this.bound.get(id) ?? []) this.remove(key, [...ids]);
    this.bound.delete(id);
    for (const listener of this.listeners) listener(id);
  }

  get(id: string): ClientConnectionInfo | undefined {
    return this.open_.get(id);
  }

  list(): readonly ClientConnectionInfo[] {
    return [...this.open_.values()];
  }

  get size(): number {
    return this.open_.size;
  }

  onClosed(listener: (id: string) => void): void {
    this.listeners.push(listener);
  }

  instancesOf(id: string): ReadonlyArray<readonly [string, Instance]> {
    const out: Array<readonly [string, Instance]> = [];
    for (const [key, ids] of this.bound.get(id) ?? []) {
      for (const entryId of ids) {
        const instance = this.registry.liveService(key)?.entry(entryId)?.instance;
        if (instance !== undefined) out.push([key, instance]);
      }
    }
    return out;
  }

  /** Stand-in only: what a bound write registered or removed, so `close` can remove it. */
  track(op: ClientWrite): void {
    if (op.type !== "register" && op.type !== "deregister" && op.type !== "batchRegister") return;
    const connection = op.connection;
    if (connection === undefined || !this.open_.has(connection.connectionId)) return;
    const byService = this.bound.get(connection.connectionId) ?? new Map<string, Set<string>>();
    this.bound.set(connection.connectionId, byService);
    const key = serviceKey(op.service);
    const ids = byService.get(key) ?? new Set<string>();
    byService.set(key, ids);
    if (op.type === "register") ids.add(identityOf(op.instance));
    else if (op.type === "deregister") ids.delete(identityOf({ ...op.address, ephemeral: op.ephemeral }));
    else {
      const wanted = new Set(op.instances.map((i) => identityOf(i)));
      const stale = [...ids].filter((id) => !wanted.has(id));
      if (stale.length > 0) this.remove(key, stale);
      ids.clear();
      for (const id of wanted) ids.add(id);
    }
  }
}
