/**
 * Nacos 1.4's ClientBeatCheckTask, for every service at once: on the responsible node only, an ephemeral
 * instance silent for longer than its beat timeout (15 s) turns unhealthy, and one silent for longer than its
 * delete timeout (30 s) is removed. Each is an ordinary write (new version, replicated like any change), so
 * the decision of one node reaches all. Marked instances, persistent ones and those a 2.x client registered over
 * its connection (they live as long as the connection: node/clients/) are never touched.
 */
import { beatTimeoutOf, deleteTimeoutOf } from "../../core/instance.js";
import type { LastBeats } from "../../core/last-beats.js";
import type { Log } from "../../core/log.js";
import type { NamingService } from "../../core/naming-service.js";
import { parseServiceKey } from "../../core/naming.js";
import type { Registry } from "../../core/registry.js";
import { every, sleep, type Scheduler, type TimerHandle } from "../../core/scheduler.js";
import type { ServiceState } from "../../core/service-record.js";
import type { Switches } from "../../core/switches.js";

export interface HeartbeatCheckConfig {
  readonly periodMs: number;
  /** `nacos.naming.expireInstance`: whether silent instances are removed at all. */
  readonly expireInstances: boolean;
}

/** Instances checked between two pauses of a pass. */
const SLICE = 20_000;

export class HeartbeatChecker {
  private timer: TimerHandle | undefined;
  private checking = false;
  expired = 0;
  markedUnhealthy = 0;

  constructor(
    private readonly registry: Registry,
    private readonly naming: NamingService,
    private readonly lastBeats: LastBeats,
    private readonly switches: Switches,
    private readonly isResponsible: (groupedName: string) => boolean,
    private readonly scheduler: Scheduler,
    private readonly config: HeartbeatCheckConfig,
    private readonly log: Log,
  ) {}

  start(): void {
    this.timer = every(this.scheduler, this.config.periodMs, () => void this.check());
  }

  close(): void {
    this.timer?.cancel();
  }

  /**
   * One pass over every service this node is responsible for, in slices of about `SLICE` instances with the
   * event loop free in between, so a registry of a million instances never blocks requests for a whole pass.
   * A pass still running when the next is due lets that one go.
   */
  async check(): Promise<void> {
    if (!this.switches.healthCheckEnabled || this.checking) return;
    this.checking = true;
    try {
      let seen = 0;
      for (const key of [...this.registry.keys()]) {
        const service = this.registry.service(key);
        if (service === undefined || service.deleted || service.size === 0) continue;
        if (!this.isResponsible(parseServiceKey(key).groupedName)) continue;
        this.checkService(service);
        seen += service.size;
        if (seen >= SLICE) {
          seen = 0;
          await sleep(this.scheduler, 0);
        }
      }
    } finally {
      this.checking = false;
    }
  }

  private checkService(service: ServiceState): void {
    const silent: string[] = [];
    const dead: string[] = [];
    for (const { id, instance: i } of service.entries()) {
      if (i === undefined || !i.ephemeral || i.marked || i.connection !== undefined) continue;
      const silence = this.lastBeats.silenceOf(service.key, id);
      if (this.config.expireInstances && silence > deleteTimeoutOf(i)) dead.push(id);
      else if (i.healthy && silence > beatTimeoutOf(i)) silent.push(id);
    }
    if (silent.length > 0 || dead.length > 0) this.apply(service.key, silent, dead);
  }

  private apply(key: string, silent: string[], dead: string[]): void {
    if (silent.length > 0) {
      this.naming.setHealth(key, silent, false);
      this.markedUnhealthy += silent.length;
      this.log.info("instances missed their heartbeats; marked unhealthy", { service: key, instances: silent });
    }
    if (dead.length > 0) {
      this.naming.removeInstances(key, dead);
      this.expired += dead.length;
      this.log.info("instances expired without heartbeats; removed", { service: key, instances: dead });
    }
  }
}
