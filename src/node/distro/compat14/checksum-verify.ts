/**
 * The receiving side of 1.4's verify (`PUT /distro/checksum?source=`). The source sends `{key: checksum}` of
 * the keys it is responsible for; keys whose checksum differs here are fetched from it and applied, as 1.4 does.
 *
 * 1.4 also drops every local key the source maps to but did not send, which deletes live data whenever views
 * of the membership disagree or the source has not finished loading (alibaba/nacos#7734, #8436). Here a
 * missing key only loses instances when all of this holds:
 * - the source is a member this node considers UP;
 * - both views agree: a ts-nacos source's view hash equals ours, and every key the source sent maps to it here
 *   (the only sign a 1.4 source gives of a disagreeing view);
 * - the key maps to the source here, and has been missing from every agreeing round for `removeAfterMs`
 *   (1.4 retries a failed snapshot load after 30 s, so a restarted 1.4 source has had its chance to load);
 * - only the ephemeral instances the source itself wrote go: what another member wrote is that member's to remove.
 */
import type { Log } from "../../../core/log.js";
import { parseServiceKey } from "../../../core/naming.js";
import type { Scheduler } from "../../../core/scheduler.js";
import { nacos14Checksum } from "../../../core/checksum.js";
import type { ServiceState } from "../../../core/service-record.js";
import type { Nacos14Peers, OwnerList } from "../../ports.js";
import type { Nacos14Ingest } from "./owner-lists.js";

export interface VerifyReceiverConfig {
  readonly removeAfterMs: number;
  /** Keys per datum query when fetching what differs. */
  readonly fetchBatchKeys: number;
}

export interface VerifyReceiverDeps {
  readonly ingest: Nacos14Ingest;
  readonly client: Pick<Nacos14Peers, "fetchLists">;
  /** Applies a fetched datum as `writer`'s. */
  readonly apply: (datum: OwnerList, writer: string) => void;
  readonly scheduler: Scheduler;
  readonly log: Log;
}

const groupedOf = (key: string): string => parseServiceKey(key).groupedName;

function hasEphemeral(service: ServiceState | undefined): boolean {
  for (const i of service?.instances() ?? []) if (i.ephemeral) return true;
  return false;
}

export class ChecksumVerifyReceiver {
  private readonly running = new Set<string>();
  /** source → key → when the key was first seen missing from that source's agreeing rounds. */
  private readonly missingSince = new Map<string, Map<string, number>>();
  fetched = 0;
  removed = 0;

  constructor(
    private readonly deps: VerifyReceiverDeps,
    private readonly config: VerifyReceiverConfig,
  ) {}

  /**
   * Runs one repair round for `source`; undefined when one for it is still running (this one is skipped, as
   * in 1.4: the next period brings fresh checksums).
   */
  receive(source: string, checksums: ReadonlyMap<string, string>, viewHash: string | undefined): Promise<void> | undefined {
    if (this.running.has(source)) return undefined;
    this.running.add(source);
    return this.round(source, checksums, viewHash)
      .catch((err: unknown) => this.deps.log.warn("verify round failed", { source, error: String(err) }))
      .finally(() => this.running.delete(source));
  }

  private async round(source: string, checksums: ReadonlyMap<string, string>, viewHash: string | undefined): Promise<void> {
    const { ingest } = this.deps;
    let agree = viewHash === undefined || viewHash === ingest.viewHash();
    const differing: string[] = [];
    for (const [key, checksum] of checksums) {
      if (ingest.ownerOf(groupedOf(key)) !== source) {
        agree = false;
        continue;
      }
      const local = ingest.service(key);
      if (local === undefined || nacos14Checksum(local) !== checksum) differing.push(key);
    }
    this.removeMissing(source, checksums, agree && ingest.memberState(source) === "UP");
    await this.fetch(source, differing);
  }

  private removeMissing(source: string, checksums: ReadonlyMap<string, string>, trusted: boolean): void {
    const { ingest, scheduler, log } = this.deps;
    const since = this.missingSince.get(source);
    const next = new Map<string, number>();
    if (trusted) {
      const now = scheduler.now();
      for (const key of ingest.keys()) {
        if (checksums.has(key) || ingest.ownerOf(groupedOf(key)) !== source) continue;
        if (!hasEphemeral(ingest.service(key))) continue;
        const first = since?.get(key) ?? now;
        if (now - first < this.config.removeAfterMs) {
          next.set(key, first);
          continue;
        }
        ingest.removeWrittenBy(key, source);
        this.removed++;
        log.info("removed instances their owner no longer has", { source, key });
      }
    }
    this.missingSince.set(source, next);
  }

  private async fetch(source: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += this.config.fetchBatchKeys) {
      const batch = keys.slice(i, i + this.config.fetchBatchKeys);
      const asked = new Set(batch);
      try {
        // Only what was asked for: the answer is applied in the source's name.
        const datums = (await this.deps.client.fetchLists(source, batch)).filter((d) => asked.has(d.key));
        for (const d of datums) this.deps.apply(d, source);
        this.fetched += datums.length;
      } catch (err) {
        this.deps.log.debug("verify fetch failed; the next round retries", { source, error: String(err) });
        return;
      }
    }
  }
}
