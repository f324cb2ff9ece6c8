/**
 * Nacos 1.4's server-side health checks (HealthCheckTask with its TCP and HTTP processors) for every persistent
 * instance at once: on the responsible node only, while the `healthCheckEnabled` switch is on, each persistent
 * instance of a cluster whose checker is TCP or HTTP is probed through the HealthProber port, at an interval of
 * its own that follows its response time (check-verdict.ts). A flip of its health is an ordinary write (new
 * version, replicated to every node, pushed to subscribers); while health stays as it is nothing is written.
 * Ephemeral instances (they beat), marked ones and clusters checked by NONE are never probed.
 *
 * A target the prober refuses (this node's probe-target policy: link-local, its own ports, ...) is never
 * reached; it counts as a refused connection, so the instance turns unhealthy, and the refusal is logged once.
 *
 * Probes run at most `maxConcurrent` at a time; the others wait their turn in order. A node that loses a
 * service forgets its streaks, so a new owner starts counting afresh, as 1.4's new owner does.
 */
import { probeHeaders, settingsOf, type ClusterSettings } from "../../core/cluster-settings.js";
import type { Instance } from "../../core/instance.js";
import type { Log } from "../../core/log.js";
import type { NamingService } from "../../core/naming-service.js";
import { parseServiceKey } from "../../core/naming.js";
import type { RegistryChange, RegistryView } from "../../core/registry.js";
import { every, type Scheduler, type TimerHandle } from "../../core/scheduler.js";
import type { Switches } from "../../core/switches.js";
import type { HealthProber, ProbeOutcome } from "../ports.js";
import { firstDelay, nextInterval, verdict, type HealthParams, type Streak } from "./check-verdict.js";

export interface ServerHealthConfig {
  /** How often due probes are looked for: 1.4's shortest interval (HTTP's minimum). */
  readonly tickMs: number;
  /** Probes in flight at once. */
  readonly maxConcurrent: number;
  /** Deadline of a TCP connect (1.4: 500 ms). */
  readonly tcpTimeoutMs: number;
  /** Deadline of an HTTP answer, connect included (1.4: 500 ms to connect, 500 ms to answer). */
  readonly httpTimeoutMs: number;
}

export const DEFAULT_SERVER_HEALTH: ServerHealthConfig = Object.freeze({
  tickMs: 500,
  maxConcurrent: 64,
  tcpTimeoutMs: 500,
  httpTimeoutMs: 1000,
});

/** One instance's checking state. */
interface Probe extends Streak {
  /** Undefined until this node, responsible, first looks at it: the first delay is drawn then. */
  dueAt: number | undefined;
  intervalMs: number;
  /** Queued or in flight: never two probes of one instance at once. */
  busy: boolean;
  /** The last probe's target was refused by this node's policy (logged once, when it starts being refused). */
  refused: boolean;
}

interface Job {
  readonly key: string;
  readonly id: string;
  readonly probe: Probe;
}

const fresh = (): Probe => ({ dueAt: undefined, intervalMs: 0, passes: 0, failures: 0, busy: false, refused: false });

/** What a node that stops being responsible forgets: the next owner (maybe this node again) starts afresh. */
function forget(p: Probe): void {
  p.dueAt = undefined;
  p.passes = 0;
  p.failures = 0;
}

/** A live persistent instance: the only kind probed. */
const probed = (i: Instance | undefined): i is Instance => i !== undefined && !i.ephemeral;

export class ServerHealthChecker {
  /** Service key → its live persistent instances by entry id (kept from registry changes, whoever wrote them). */
  private readonly probes = new Map<string, Map<string, Probe>>();
  private readonly queue: Job[] = [];
  private head = 0;
  private inFlight = 0;
  private timer: TimerHandle | undefined;
  private closed = false;
  /** Probes started since the process started, by checker (1.4's `tcpHealthCheck` / `httpHealthCheck` monitors). */
  readonly started = { tcp: 0, http: 0 };

  constructor(
    private readonly registry: RegistryView,
    private readonly naming: NamingService,
    private readonly switches: Switches,
    private readonly isResponsible: (groupedName: string) => boolean,
    private readonly prober: HealthProber,
    private readonly scheduler: Scheduler,
    private readonly log: Log,
    private readonly config: ServerHealthConfig = DEFAULT_SERVER_HEALTH,
  ) {
    registry.onChange((change) => this.track(change));
  }

  start(): void {
    this.timer = every(this.scheduler, this.config.tickMs, () => this.tick());
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
  }

  /** Queues every due probe of the services this node is responsible for. */
  tick(): void {
    if (!this.switches.healthCheckEnabled) return;
    const now = this.scheduler.now();
    for (const [key, probes] of this.probes) {
      const service = this.registry.liveService(key);
      if (service === undefined) continue;
      if (!this.isResponsible(parseServiceKey(key).groupedName)) {
        for (const p of probes.values()) forget(p);
        continue;
      }
      for (const [id, probe] of probes) {
        const instance = service.entry(id)?.instance;
        if (probe.busy || !probed(instance) || instance.marked) continue;
        const settings = settingsOf(service.meta.clusters, instance.clusterName);
        if (settings.healthChecker.type === "NONE") continue;
        if (probe.dueAt === undefined) {
          probe.intervalMs = firstDelay(this.switches.tcpHealthParams, () => this.scheduler.random());
          probe.dueAt = now + probe.intervalMs;
        } else if (now >= probe.dueAt) this.enqueue({ key, id, probe });
      }
    }
  }

  private enqueue(job: Job): void {
    job.probe.busy = true;
    this.queue.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.config.maxConcurrent && this.head < this.queue.length) {
      const job = this.queue[this.head++]!;
      void this.run(job);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  }

  private async run(job: Job): Promise<void> {
    const target = this.current(job);
    if (target === undefined) {
      job.probe.busy = false;
      return;
    }
    this.inFlight++;
    const started = this.scheduler.now();
    const outcome = await this.probe(target.instance, target.settings).catch(
      (err: unknown): ProbeOutcome => ({ result: "failing", detail: `error:${(err as Error).message}` }),
    );
    this.inFlight--;
    job.probe.busy = false;
    if (!this.closed) this.record(job, target.settings, outcome, this.scheduler.now() - started);
    this.pump();
  }

  /** The instance as it is now and its cluster's settings, unless it is no longer one to probe. */
  private current(job: Job): { instance: Instance; settings: ClusterSettings } | undefined {
    if (this.probes.get(job.key)?.get(job.id) !== job.probe) return undefined;
    const service = this.registry.liveService(job.key);
    const instance = service?.entry(job.id)?.instance;
    if (service === undefined || !probed(instance) || instance.marked) return undefined;
    const settings = settingsOf(service.meta.clusters, instance.clusterName);
    return settings.healthChecker.type === "NONE" ? undefined : { instance, settings };
  }

  private probe(i: Instance, s: ClusterSettings): Promise<ProbeOutcome> {
    const port = s.useInstancePort4Check ? i.port : s.checkPort;
    const c = s.healthChecker;
    if (c.type !== "HTTP") {
      this.started.tcp++;
      return this.prober.tcp(i.ip, port, this.config.tcpTimeoutMs);
    }
    this.started.http++;
    const probe = { ip: i.ip, port, path: c.path, headers: probeHeaders(c.headers), expectedStatus: c.expectedResponseCode };
    return this.prober.http(probe, this.config.httpTimeoutMs);
  }

  private paramsOf(s: ClusterSettings): HealthParams {
    return s.healthChecker.type === "HTTP" ? this.switches.httpHealthParams : this.switches.tcpHealthParams;
  }

  private record(job: Job, settings: ClusterSettings, outcome: ProbeOutcome, responseMs: number): void {
    const { probe } = job;
    const refused = outcome.result === "refused";
    if (refused && !probe.refused) {
      this.log.warn("health check target refused by this node: never probed, the instance counts as unhealthy", {
        service: job.key,
        instance: job.id,
        detail: outcome.detail,
      });
    }
    probe.refused = refused;
    probe.intervalMs = nextInterval(this.paramsOf(settings), probe.intervalMs, outcome.result, responseMs);
    probe.dueAt = this.scheduler.now() + probe.intervalMs;
    // As 1.4 re-checks before it changes anything: the switch or the responsibility may have moved meanwhile.
    const target = this.current(job);
    if (target === undefined || !this.switches.healthCheckEnabled) return;
    if (!this.isResponsible(parseServiceKey(job.key).groupedName)) return;
    const healthy = verdict(probe, target.instance.healthy, outcome.result, this.switches.checkTimes);
    if (healthy === undefined) return;
    this.naming.setHealth(job.key, [job.id], healthy);
    this.log.info(healthy ? "health check passed; instance healthy" : "health check failed; instance unhealthy", {
      service: job.key,
      instance: job.id,
      detail: outcome.detail,
    });
  }

  /** Keeps `probes` in step with the live persistent instances this node holds. */
  private track(change: RegistryChange): void {
    for (const { before, after } of change.entries) {
      const was = probed(before?.instance);
      const is = probed(after?.instance);
      if (is && !was) {
        const probes = this.probes.get(change.key) ?? new Map<string, Probe>();
        probes.set(after!.id, fresh());
        this.probes.set(change.key, probes);
      } else if (was && !is) {
        const probes = this.probes.get(change.key);
        probes?.delete(before!.id);
        if (probes?.size === 0) this.probes.delete(change.key);
      }
    }
  }
}
