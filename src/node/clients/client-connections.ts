/**
 * The 2.x client connections this node holds, and the ephemeral instances they registered (bound to them:
 * Instance.connection names this node and the connection's id). This node answers for those instances whoever
 * owns their service: their writes run here (ClientWriteRouter never forwards them), they go at once when the
 * connection closes, and they stay exactly as the connection left them for as long as it is open.
 *
 * That last part is what makes partitions and races converge. Another member may remove an instance of a
 * connection that is still open here — it saw this node DOWN past the grace (a partition, not a death), or a
 * removal made on a stale copy lands after a newer registration — and this node then puts the instance back,
 * under a newer version, as soon as the removal reaches it. A live connection's word is final; what it no
 * longer holds (a 1.x registration took the address over, or the client registered it again over another
 * connection) is left to its new holder.
 */
import type { BoundInstances } from "../../core/bound-instances.js";
import { NacosError } from "../../core/errors.js";
import { identityOf, type Instance } from "../../core/instance.js";
import type { Log } from "../../core/log.js";
import type { NamingService } from "../../core/naming-service.js";
import type { BoundWrite, WriteResult } from "../../core/ops.js";
import type { RegistryChange, RegistryView } from "../../core/registry.js";
import type { Scheduler } from "../../core/scheduler.js";
import type { MemberTable } from "../cluster/member-table.js";

export interface ClientConnectionInfo {
  /**
   * The connectionId the transport gave: unique per node process and never given again by this node after a
   * restart either (Nacos's `{millis}_{clientIp}_{clientPort}` is), or a new connection would be taken for the holder
   * of its previous life's namesake's instances.
   */
  readonly id: string;
  readonly clientIp: string;
  readonly clientPort: number;
  /** E.g. "Nacos-Rust-Client:v0.4.0". */
  readonly clientVersion: string;
  /** ConnectionSetupRequest.tenant ("" = public). */
  readonly namespace: string;
  readonly appName: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Scheduler ms. */
  readonly connectedAt: number;
}

/** What the parts looking after a node's bound instances read: its address, the index, the members, its connections. */
export interface HolderView {
  /** This node's member address: the `node` of the bindings it makes. */
  readonly self: string;
  readonly bound: BoundInstances;
  readonly members: MemberTable;
  /** Whether a connection of this id is open on this node. */
  readonly holds: (connectionId: string) => boolean;
}

export class ClientConnections {
  private readonly held = new Map<string, ClientConnectionInfo>();
  private readonly closedListeners: Array<(id: string) => void> = [];
  /** Set while this node changes its connections' instances itself: those removals are not someone else's. */
  private writing = false;
  /** Instances of open connections that someone else removed, by service key, put back on the next turn. */
  private removedByOthers = new Map<string, Instance[]>();

  constructor(
    /** This node's member address: the `node` of every binding it makes. */
    private readonly self: string,
    private readonly registry: RegistryView,
    private readonly naming: NamingService,
    private readonly bound: BoundInstances,
    private readonly scheduler: Scheduler,
    private readonly log: Log,
  ) {
    registry.onChange((change) => this.noticeRemovals(change));
  }

  /** A connection finished its setup. Opening an id that is open replaces what is known about it. */
  open(info: ClientConnectionInfo): void {
    this.held.set(info.id, info);
  }

  /** Removes every instance bound to it (versioned, replicated) and tells the onClosed listeners. */
  close(id: string, reason: string): void {
    if (!this.held.delete(id)) return;
    let removed = 0;
    this.asHolder(() => {
      for (const [key, ids] of [...this.bound.servicesOf({ node: this.self, connectionId: id })]) {
        removed += ids.size;
        this.naming.removeInstances(key, [...ids.keys()]);
      }
    });
    this.log.info("client connection closed; its instances removed", { connection: id, reason, instances: removed });
    for (const listener of this.closedListeners) {
      try {
        listener(id);
      } catch (err) {
        this.log.error("a listener of closed connections failed", { connection: id, error: String(err) });
      }
    }
  }

  get(id: string): ClientConnectionInfo | undefined {
    return this.held.get(id);
  }

  list(): readonly ClientConnectionInfo[] {
    return [...this.held.values()];
  }

  get size(): number {
    return this.held.size;
  }

  /** Whether a connection of this id is open here. */
  holds(id: string): boolean {
    return this.held.has(id);
  }

  onClosed(listener: (id: string) => void): void {
    this.closedListeners.push(listener);
  }

  /** What the connection registered here: [serviceKey, instance] pairs (for /client/* listings). */
  instancesOf(id: string): ReadonlyArray<readonly [string, Instance]> {
    const out: Array<readonly [string, Instance]> = [];
    for (const [key, ids] of this.bound.servicesOf({ node: this.self, connectionId: id })) {
      const service = this.registry.service(key);
      for (const entryId of ids.keys()) {
        const instance = service?.entry(entryId)?.instance;
        if (instance !== undefined) out.push([key, instance]);
      }
    }
    return out;
  }

  /**
   * A write a connection of this node made (ClientWriteRouter sends every bound write here). Refused (400, as
   * Nacos refuses a request of a connection it no longer knows) unless the connection is open on this node.
   */
  execute(op: BoundWrite): WriteResult {
    const { node, connectionId } = op.connection;
    if (node !== this.self || !this.held.has(connectionId)) {
      throw new NacosError(400, `Client [${connectionId}] connection already disconnect, can't register ephemeral instance.`);
    }
    let result: WriteResult | undefined;
    this.asHolder(() => {
      result = this.naming.execute(op);
    });
    return result!;
  }

  private asHolder(change: () => void): void {
    this.writing = true;
    try {
      change();
    } finally {
      this.writing = false;
    }
  }

  /**
   * Notes the instances of open connections that a change made by anyone but this node's connections removed.
   * They are put back on the next turn of the event loop: a listener must not change the registry while it is
   * still telling the others about this change.
   */
  private noticeRemovals(change: RegistryChange): void {
    if (this.writing) return;
    const idle = this.removedByOthers.size === 0;
    let noted = false;
    for (const { before, after } of change.entries) {
      const binding = before?.instance?.connection;
      if (binding === undefined || binding.node !== this.self || !this.held.has(binding.connectionId)) continue;
      if (after?.instance !== undefined) continue; // changed or taken over, not removed
      const pending = this.removedByOthers.get(change.key) ?? [];
      if (pending.length === 0) this.removedByOthers.set(change.key, pending);
      pending.push(before!.instance!);
      noted = true;
    }
    if (noted && idle) this.scheduler.schedule(0, () => this.putBack());
  }

  /** Puts back what others removed of connections still open, unless it came back or was taken over meanwhile. */
  private putBack(): void {
    const pending = this.removedByOthers;
    this.removedByOthers = new Map();
    for (const [key, instances] of pending) {
      const service = this.registry.service(key);
      const back = instances.filter(
        (i) => this.held.has(i.connection!.connectionId) && service?.entry(identityOf(i))?.instance === undefined,
      );
      if (back.length === 0) continue;
      try {
        this.asHolder(() => this.naming.restore(key, back));
        this.log.info("instances of open client connections removed elsewhere; put back", { service: key, instances: back.length });
      } catch (err) {
        this.log.warn("could not put back instances of open client connections", { service: key, error: String(err) });
      }
    }
  }
}
