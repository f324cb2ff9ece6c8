/**
 * The receiving side of 1.4's service-status channel (`POST /service/status`). A 1.4 owner flips health
 * without writing its list, so its peers only learn those flips here: for every reported service that exists
 * here, that the reporter is responsible for in our view (a non-owner's view of health is not authoritative)
 * and whose service checksum differs, the statuses are fetched from the reporter and applied in its name.
 *
 * A 1.4 service checksum is not reproducible byte for byte (it hashes Java HashMap JSON), so a 1.4 reporter's
 * checksum never equals ours; the checksum applied last and the datum it left are remembered per key, so an
 * unchanged service is not fetched again every period. Fetches are queued (one entry per key, the oldest
 * dropped beyond `maxQueue`, like 1.4's queue) and run one at a time.
 */
import { serviceChecksumOf } from "../../../core/checksum.js";
import type { Log } from "../../../core/log.js";
import { serviceKey } from "../../../core/naming.js";
import type { Nacos14Peers, ServiceChecksums } from "../../ports.js";
import type { Nacos14Ingest } from "./owner-lists.js";

interface Pending {
  readonly source: string;
  readonly checksum: string;
}

interface Settled {
  readonly checksum: string;
  readonly digest: string | undefined;
}

export class StatusReceiver {
  private readonly queue = new Map<string, Pending>();
  private readonly settled = new Map<string, Settled>();
  private draining: Promise<void> | undefined;
  fetched = 0;

  constructor(
    private readonly ingest: Nacos14Ingest,
    private readonly client: Pick<Nacos14Peers, "fetchStatuses">,
    private readonly log: Log,
    private readonly maxQueue = 100_000,
  ) {}

  /** Queues what differs; resolves when the queue has been worked off. */
  receive(source: string, report: ServiceChecksums): Promise<void> {
    for (const [groupedName, checksum] of Object.entries(report.serviceName2Checksum)) {
      if (groupedName === "" || checksum === "") continue;
      const key = serviceKey({ namespaceId: report.namespaceId, groupedName });
      if (this.inStep(key, groupedName, source, checksum)) continue;
      this.queue.delete(key);
      if (this.queue.size >= this.maxQueue) this.queue.delete(this.queue.keys().next().value!);
      this.queue.set(key, { source, checksum });
    }
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private inStep(key: string, groupedName: string, source: string, checksum: string): boolean {
    const service = this.ingest.service(key);
    if (service === undefined || this.ingest.ownerOf(groupedName) !== source) return true;
    if (serviceChecksumOf(service, groupedName) === checksum) return true;
    const last = this.settled.get(key);
    return last !== undefined && last.checksum === checksum && last.digest === service.digest;
  }

  private async drain(): Promise<void> {
    for (let next = this.take(); next !== undefined; next = this.take()) {
      const [key, { source, checksum }] = next;
      try {
        const healthy = await this.client.fetchStatuses(source, key);
        this.ingest.applyHealth(key, healthy, source);
        this.settled.set(key, { checksum, digest: this.ingest.service(key)?.digest });
        this.fetched++;
      } catch (err) {
        this.log.debug("service status fetch failed; the next report retries", { source, key, error: String(err) });
      }
    }
  }

  private take(): [string, Pending] | undefined {
    const first = this.queue.entries().next();
    if (first.done === true) return undefined;
    this.queue.delete(first.value[0]);
    return first.value;
  }
}
