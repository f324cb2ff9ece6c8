/**
 * Removes the instances whose connection went with its node. A node that dies cannot remove its connections'
 * instances, and the 2.x clients of a node that restarted left their old connections' instances in everyone's
 * registry; both go once a grace has passed, long enough for the clients to reconnect elsewhere and register
 * again (they redo every ~3 s), so a node crash never empties a service that is still running:
 *
 * - bound to another member that is DOWN (or no member at all) for longer than the grace: its service's
 *   responsible node removes them, as it expires silent 1.x instances;
 * - bound to this node under a connection it does not hold (a previous life's): this node removes them. Its
 *   clients' new registrations are newer versions under new connections, so only the orphans go.
 *
 * Either way only an instance that has been still — unchanged, as this node saw it — for the whole grace goes: a
 * holder that is merely cut off from this node but writes (it puts back what was removed, ClientConnections)
 * proves itself alive, so a partition costs one removal per grace at most, and the holder's word wins once the
 * partition heals.
 */
import type { BoundIds } from "../../core/bound-instances.js";
import type { Log } from "../../core/log.js";
import type { NamingService } from "../../core/naming-service.js";
import { parseServiceKey } from "../../core/naming.js";
import { every, type Scheduler, type TimerHandle } from "../../core/scheduler.js";
import type { HolderView } from "./client-connections.js";

export interface ConnectionGraceConfig {
  /** `--connection-grace-ms`: how long a dead node's (or a previous life's) connections' instances stay. */
  readonly graceMs: number;
  /** How often this node looks for them. */
  readonly sweepMs: number;
}

export interface ConnectionGraceDeps extends HolderView {
  readonly naming: NamingService;
  /** Whether this node is responsible for a grouped service name now. */
  readonly responsible: (groupedName: string) => boolean;
  /** Nothing is removed while the node still loads what its peers hold: it would decide on a partial view. */
  readonly registryComplete: () => boolean;
  readonly scheduler: Scheduler;
  readonly log: Log;
}

export class ConnectionGrace {
  private timer: TimerHandle | undefined;
  private readonly startedAt: number;
  removed = 0;

  constructor(
    private readonly deps: ConnectionGraceDeps,
    private readonly config: ConnectionGraceConfig,
  ) {
    this.startedAt = deps.scheduler.now();
  }

  start(): void {
    this.timer = every(this.deps.scheduler, this.config.sweepMs, () => this.sweep());
  }

  close(): void {
    this.timer?.cancel();
  }

  /** One look at every bound instance whose holder or connection is gone. */
  sweep(): void {
    const { bound, self, registryComplete } = this.deps;
    if (!registryComplete()) return;
    for (const node of [...bound.nodes()]) {
      if (node === self) this.removeOrphans();
      else if (this.goneLongEnough(node)) this.removeLeftBy(node);
    }
  }

  /** Whether `node` has been unreachable (DOWN) for longer than the grace, or is no member at all. */
  private goneLongEnough(node: string): boolean {
    const now = this.deps.scheduler.now();
    const member = this.deps.members.get(node);
    if (member !== undefined && member.state !== "DOWN") return false;
    // A member never reached since this node started has been away at least that long.
    const since = member?.failingSince ?? this.startedAt;
    return now - since > this.config.graceMs;
  }

  /** This node's bindings under connections it does not hold. */
  private removeOrphans(): void {
    const { bound, self, holds } = this.deps;
    for (const [connectionId, services] of [...bound.connectionsOf(self)]) {
      if (!holds(connectionId)) this.remove(self, connectionId, services, () => true);
    }
  }

  /** What `node`'s connections left in the services this node is responsible for. */
  private removeLeftBy(node: string): void {
    const { bound, responsible } = this.deps;
    for (const [connectionId, services] of [...bound.connectionsOf(node)]) {
      this.remove(node, connectionId, services, (key) => responsible(parseServiceKey(key).groupedName));
    }
  }

  private remove(node: string, connectionId: string, services: ReadonlyMap<string, BoundIds>, mine: (key: string) => boolean): void {
    const now = this.deps.scheduler.now();
    for (const [key, ids] of [...services]) {
      if (!mine(key)) continue;
      const still = [...ids].filter(([, changedAt]) => now - changedAt > this.config.graceMs).map(([id]) => id);
      if (still.length === 0) continue;
      this.deps.naming.removeInstances(key, still);
      this.removed += still.length;
      this.deps.log.info("instances of a client connection gone with its node removed", {
        service: key,
        node,
        connection: connectionId,
        instances: still.length,
      });
    }
  }
}
