/**
 * 1.4's ServiceReporter, for the services this node is responsible for. A 1.4 node keeps its own health
 * values when a datum arrives and learns the owner's only from this report: every period, per namespace, the
 * service checksums go to every HTTP peer, which fetches `/instance/statuses` for those that differ.
 *
 * Our service checksum is not 1.4's byte for byte, so a 1.4 peer finds every reported service different and
 * fetches its statuses every period: health converges, at the price of one statuses request per reported
 * service and peer and period. A ts-nacos peer computes the same checksum and fetches nothing while in step.
 */
import { serviceChecksumOf } from "../../../core/checksum.js";
import type { Log } from "../../../core/log.js";
import { parseServiceKey } from "../../../core/naming.js";
import { every, type Scheduler, type TimerHandle } from "../../../core/scheduler.js";
import type { OwnedServices } from "./owner-lists.js";
import type { ServiceChecksums } from "../../ports.js";
import { getOrCreate } from "../../../core/memo.js";

export interface StatusReporterDeps {
  readonly scheduler: Scheduler;
  readonly owned: OwnedServices;
  /**
   * Whether this node holds a complete registry. Until then nothing is reported: a 1.4 peer would fetch our
   * statuses and mark every instance we have not loaded yet unhealthy.
   */
  readonly ready: () => boolean;
  /** The peers reached over the legacy transport right now. */
  readonly peers: () => readonly string[];
  readonly send: (peer: string, checksums: ServiceChecksums) => Promise<void>;
  readonly log: Log;
}

export class StatusReporter {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly deps: StatusReporterDeps,
    private readonly periodMs: number,
  ) {}

  start(): void {
    this.timer = every(this.deps.scheduler, this.periodMs, () => this.report());
  }

  close(): void {
    this.timer?.cancel();
  }

  /** One report to every legacy peer; resolves when every peer has answered or failed. */
  async report(): Promise<void> {
    const peers = this.deps.peers();
    if (peers.length === 0 || !this.deps.ready()) return;
    const reports = this.checksums();
    const sends = peers.flatMap((peer) =>
      reports.map((report) =>
        this.deps.send(peer, report).catch((err: unknown) => {
          this.deps.log.debug("service status report failed", { peer, error: String(err) });
        }),
      ),
    );
    await Promise.all(sends);
  }

  /** Per namespace, the checksums of the non-empty services this node is responsible for (as 1.4 sends them). */
  private checksums(): ServiceChecksums[] {
    const byNamespace = new Map<string, Record<string, string>>();
    for (const service of this.deps.owned.ownedServices()) {
      if (service.size === 0) continue;
      const { namespaceId, groupedName } = parseServiceKey(service.key);
      getOrCreate(byNamespace, namespaceId, (): Record<string, string> => ({}))[groupedName] = serviceChecksumOf(service, groupedName);
    }
    return [...byNamespace].map(([namespaceId, serviceName2Checksum]) => ({ namespaceId, serviceName2Checksum }));
  }
}
