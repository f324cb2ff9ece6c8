/**
 * The worker queue of one peer (Nacos's ExecuteEngine, one lane per target). It sends the *current* datums
 * of the keys handed to it in batches, one batch in flight at a time, so a slow or dead peer only ever
 * holds up its own lane. A failed batch goes back to the caller for a delayed retry.
 */
import { estimateBytes } from "../../core/datum-size.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import type { PeerTransport, SyncOutcome } from "../ports.js";

export interface BatchLimits {
  readonly maxKeys: number;
  /** Instances per batch, so applying one batch stays a short piece of work for the receiver. */
  readonly maxInstances: number;
  /** Estimated encoded bytes per batch (`estimateBytes`), so one sync message stays within the message limit. */
  readonly maxBytes: number;
}

export class PeerSyncQueue {
  private readonly pending = new Set<string>();
  private sending = false;
  private closed = false;
  /** Consecutive failed batches; drives the caller's back-off. */
  failures = 0;

  constructor(
    readonly peer: string,
    private readonly transport: PeerTransport,
    private readonly read: (key: string) => ServiceDatum | undefined,
    private readonly limits: BatchLimits,
    private readonly onFailure: (keys: string[], failures: number, err: unknown) => void,
    private readonly onSent: (count: number, outcome: SyncOutcome) => void = () => {},
  ) {}

  enqueue(keys: Iterable<string>): void {
    for (const key of keys) this.pending.add(key);
    void this.drain();
  }

  get backlog(): number {
    return this.pending.size;
  }

  /** Nothing queued and nothing in flight. */
  get idle(): boolean {
    return this.pending.size === 0 && !this.sending;
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (!this.closed && this.pending.size > 0) {
        const batch = this.takeBatch();
        if (batch.datums.length === 0) continue;
        try {
          const outcome = await this.transport.sync(this.peer, batch.datums);
          this.failures = 0;
          this.onSent(batch.datums.length, outcome);
        } catch (err) {
          // The peer is unreachable or refused: everything still queued would fail the same way, so all of
          // it is handed back for one delayed retry instead of hammering the peer key by key.
          this.failures++;
          const keys = [...batch.keys, ...this.pending];
          this.pending.clear();
          if (!this.closed) this.onFailure(keys, this.failures, err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private takeBatch(): { keys: string[]; datums: ServiceDatum[] } {
    const keys: string[] = [];
    const datums: ServiceDatum[] = [];
    let instances = 0;
    let bytes = 0;
    const { maxKeys, maxInstances, maxBytes } = this.limits;
    for (const key of this.pending) {
      const datum = this.read(key);
      const size = datum?.instances.length ?? 0;
      const weight = datum === undefined ? 0 : estimateBytes(datum);
      const full = datums.length >= maxKeys || instances + size > maxInstances || bytes + weight > maxBytes;
      if (datums.length > 0 && full) break;
      this.pending.delete(key);
      keys.push(key);
      if (datum === undefined) continue; // forgotten since it was queued: nothing to send
      datums.push(datum);
      instances += size;
      bytes += weight;
    }
    return { keys, datums };
  }
}
