/**
 * Beats for this node's 2.x connections to the Nacos 1.4 members responsible for their services. A 1.4 node knows
 * nothing of connections: it sees a 2.x client's instance as an ordinary ephemeral one and, being responsible for
 * its service, would mark it unhealthy after 15 s without beats and remove it after 30 s (this node would put it
 * back, and the cycle repeat). So while a connection is open its node beats for each of its instances whose service
 * a 1.4 member is responsible for, as a 1.x client would: a full beat, which also re-creates the instance there if
 * that node lost it. ts-nacos members need none: they never expire bound instances.
 */
import type { Log } from "../../core/log.js";
import { parseServiceKey } from "../../core/naming.js";
import type { ClientWrite } from "../../core/ops.js";
import type { RegistryView } from "../../core/registry.js";
import type { Scheduler, TimerHandle } from "../../core/scheduler.js";
import type { PeerTransport } from "../ports.js";
import type { HolderView } from "./client-connections.js";

/** Beats in flight at once: a round of many instances never opens more calls than this. */
const IN_FLIGHT = 32;

export interface HolderBeatsDeps extends HolderView {
  readonly registry: RegistryView;
  /** The member responsible for a grouped service name now. */
  readonly ownerOf: (groupedName: string) => string;
  readonly transport: PeerTransport;
  /** The beat period (the `clientBeatInterval` switch, what 1.x clients are told). */
  readonly periodMs: () => number;
  readonly scheduler: Scheduler;
  readonly log: Log;
}

export class HolderBeats {
  private timer: TimerHandle | undefined;
  private stopped = false;
  sent = 0;

  constructor(private readonly deps: HolderBeatsDeps) {}

  start(): void {
    const next = (): void => {
      if (this.stopped) return;
      this.timer = this.deps.scheduler.schedule(this.deps.periodMs(), () => void this.round().finally(next));
    };
    next();
  }

  close(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** One beat for every instance of an open connection whose service a Nacos 1.4 member is responsible for. */
  async round(): Promise<void> {
    const beats = this.due();
    for (let i = 0; i < beats.length; i += IN_FLIGHT) {
      await Promise.all(beats.slice(i, i + IN_FLIGHT).map(([owner, beat]) => this.send(owner, beat)));
    }
  }

  private due(): Array<readonly [string, ClientWrite]> {
    const { bound, self, holds, ownerOf, registry } = this.deps;
    const out: Array<readonly [string, ClientWrite]> = [];
    for (const [connectionId, services] of bound.connectionsOf(self)) {
      if (!holds(connectionId)) continue;
      for (const [key, ids] of services) {
        const service = parseServiceKey(key);
        const owner = ownerOf(service.groupedName);
        if (owner === self || !this.isNacos14(owner)) continue;
        for (const id of ids.keys()) {
          const i = registry.service(key)?.entry(id)?.instance;
          if (i === undefined) continue;
          const address = { ip: i.ip, port: i.port, clusterName: i.clusterName };
          const beat = { ...address, weight: i.weight, ephemeral: true, metadata: i.metadata };
          out.push([owner, { type: "beat", service, address, beat }]);
        }
      }
    }
    return out;
  }

  /** A member heard from that keeps no versioned data: a Nacos node, not ts-nacos. */
  private isNacos14(member: string): boolean {
    const info = this.deps.members.get(member)?.info;
    return info !== undefined && info.confirmedThrough === undefined;
  }

  private async send(owner: string, beat: ClientWrite): Promise<void> {
    try {
      await this.deps.transport.forward(owner, beat);
      this.sent++;
    } catch (err) {
      // The next round beats again; the 1.4 owner gives an instance 15 s before it is even unhealthy.
      this.deps.log.debug("beat for a client connection to a Nacos 1.4 owner failed", { owner, error: String(err) });
    }
  }
}
