/**
 * The worker queue of one peer (Nacos's ExecuteEngine, one lane per target). It holds what the peer has not
 * yet acknowledged — per service, the entries that changed, or the whole service — and sends it in batches:
 *
 * - **An adaptive merge window.** An idle lane sends a change at once (at the end of the current turn, so a
 *   burst still leaves as one batch, and at most one batch per `minIntervalMs`); while a batch is in flight,
 *   changes merge into the next one, so a busy lane sends one batch per round trip. A batch in flight for
 *   longer than `maxDelayMs` lets a second one go, so no change waits longer than that behind a slow peer.
 * - **Deltas.** Only the entries that changed since the peer last acknowledged go, read at send time (so a
 *   key written many times is sent once, as it is now); whole services only when asked (verify repairs) or
 *   when the peer takes whole lists only (Nacos 1.4).
 * - **Retry.** A failed batch goes back into the lane, which pauses with exponential back-off: a peer that is
 *   down gets one attempt per back-off period, not one per change.
 */
import { estimateBytes } from "../../core/datum-size.js";
import type { Scheduler, TimerHandle } from "../../core/scheduler.js";
import { makeDelta, type InstanceEntry, type ServiceDatum } from "../../core/service-datum.js";
import type { ServiceState } from "../../core/service-record.js";
import type { PeerTransport, SyncOutcome } from "../ports.js";

export interface BatchLimits {
  readonly maxKeys: number;
  /** Instances per batch, so applying one batch stays a short piece of work for the receiver. */
  readonly maxInstances: number;
  /** Estimated encoded bytes per batch (see datum-size.ts), so one sync message stays within the message limit. */
  readonly maxBytes: number;
}

export interface LaneConfig extends BatchLimits {
  /** The least time between two batches an idle lane starts: what bounds calls per second to a quiet peer. */
  readonly minIntervalMs: number;
  /** The longest a change waits behind a batch in flight before another batch may go. */
  readonly maxDelayMs: number;
  /** First retry delay after a failed batch, doubled per failure up to `retryMaxMs`. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** What a peer still lacks of a service: the ids of changed entries (none: only its meta), or all of it. */
export type Pending = Set<string> | "whole";

export interface LaneDeps {
  readonly peer: string;
  readonly transport: PeerTransport;
  readonly scheduler: Scheduler;
  /** The service as it is now; undefined once forgotten. */
  readonly read: (key: string) => ServiceState | undefined;
  /** Whether the peer takes whole lists only (it speaks Nacos 1.4), asked when a batch is built. */
  readonly wholeOnly: () => boolean;
  readonly onSent: (datums: number, outcome: SyncOutcome) => void;
  readonly onFailure: (keys: number, failures: number, err: unknown) => void;
}

interface Batch {
  readonly datums: ServiceDatum[];
  /** What the batch carried, handed back into the lane if it fails. */
  readonly carried: Map<string, Pending>;
  /** Who waits for this batch's answer (see `whenSent`). */
  readonly waiters: Array<() => void>;
}

const MAX_IN_FLIGHT = 2;

function merge(into: Map<string, Pending>, key: string, what: Pending | Iterable<string>): void {
  const held = into.get(key);
  if (held === "whole") return;
  if (what === "whole") {
    into.set(key, "whole");
    return;
  }
  const ids = held ?? new Set<string>();
  for (const id of what) ids.add(id);
  into.set(key, ids);
}

export class PeerSyncQueue {
  private pending = new Map<string, Pending>();
  /** Per pending key, who waits for the batch that will carry it to be answered; they move into that batch. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private inFlight = 0;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private pausedUntil = 0;
  private closed = false;
  /** Consecutive failed batches; drives the back-off. */
  failures = 0;

  constructor(
    private readonly deps: LaneDeps,
    private readonly config: LaneConfig,
  ) {}

  /** Entries of `key` changed (`ids`; empty: only its meta), or the peer needs all of it (`"whole"`). */
  add(key: string, what: Pending | Iterable<string>): void {
    if (this.closed) return;
    merge(this.pending, key, what);
    this.kick();
  }

  /** Services waiting to be sent. */
  get backlog(): number {
    return this.pending.size;
  }

  /** Nothing waiting and nothing in flight. */
  get idle(): boolean {
    return this.pending.size === 0 && this.inFlight === 0;
  }

  /**
   * Settles once the batch that carries the change of `key` waiting now is answered — acknowledged, or failed
   * (the peer is then not waited for any longer) — or the lane closes. Undefined when nothing of `key` waits
   * to be sent, or while the lane backs off after a failure (the peer looks unreachable: nobody should wait).
   */
  whenSent(key: string): Promise<void> | undefined {
    if (this.closed || this.failures > 0 || !this.pending.has(key)) return undefined;
    return new Promise((resolve) => {
      const list = this.waiting.get(key);
      if (list === undefined) this.waiting.set(key, [resolve]);
      else list.push(resolve);
    });
  }

  /** Ends any back-off and sends what waits now (a stopping node's last try). */
  flushNow(): void {
    this.pausedUntil = 0;
    this.kick();
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    this.timer?.cancel();
    for (const list of this.waiting.values()) for (const resolve of list) resolve();
    this.waiting.clear();
  }

  /** Sends a batch when the lane may: idle, or its batch in flight for `maxDelayMs` already; else arms a timer. */
  private kick(): void {
    if (this.closed || this.pending.size === 0 || this.inFlight >= MAX_IN_FLIGHT) return;
    const now = this.deps.scheduler.now();
    const at = Math.max(this.pausedUntil, this.inFlight === 0 ? now : this.lastSentAt + this.config.maxDelayMs);
    if (at > now) {
      this.arm(at - now);
      return;
    }
    if (this.inFlight === 0) {
      // Let the rest of this turn's changes (and of the minimum interval) join the batch.
      this.arm(Math.max(0, this.lastSentAt + this.config.minIntervalMs - now));
      return;
    }
    this.send();
  }

  /** One timer per lane, at the earliest time something may be sent. */
  private arm(delayMs: number): void {
    const at = this.deps.scheduler.now() + delayMs;
    if (at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.deps.scheduler.schedule(delayMs, () => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      if (this.deps.scheduler.now() >= this.pausedUntil && this.inFlight < MAX_IN_FLIGHT && this.pending.size > 0) this.send();
      else this.kick();
    });
  }

  private send(): void {
    const batch = this.takeBatch();
    if (batch.datums.length === 0) {
      this.kick();
      return;
    }
    this.inFlight++;
    this.lastSentAt = this.deps.scheduler.now();
    void this.deps.transport.sync(this.deps.peer, batch.datums).then(
      (outcome) => this.settled(batch, outcome, undefined),
      (err: unknown) => this.settled(batch, undefined, err),
    );
    // A burst larger than one batch keeps going while this one is in flight, up to the in-flight limit.
    if (this.pending.size > 0 && this.inFlight < MAX_IN_FLIGHT) this.kick();
  }

  private settled(batch: Batch, outcome: SyncOutcome | undefined, err: unknown): void {
    this.inFlight--;
    for (const resolve of batch.waiters) resolve();
    if (this.closed) return;
    if (outcome !== undefined) {
      this.failures = 0;
      this.deps.onSent(batch.datums.length, outcome);
    } else {
      // Everything still waiting would fail the same way: the lane pauses, and the batch waits with it.
      this.failures++;
      for (const [key, what] of batch.carried) merge(this.pending, key, what);
      const backoff = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** Math.min(this.failures - 1, 16));
      this.pausedUntil = this.deps.scheduler.now() + backoff;
      this.deps.onFailure(batch.carried.size, this.failures, err);
    }
    this.kick();
  }

  private takeBatch(): Batch {
    const datums: ServiceDatum[] = [];
    const carried = new Map<string, Pending>();
    const waiters: Array<() => void> = [];
    let instances = 0;
    let bytes = 0;
    const whole = this.deps.wholeOnly();
    const { maxKeys, maxInstances, maxBytes } = this.config;
    for (const [key, what] of this.pending) {
      const service = this.deps.read(key);
      if (service === undefined) {
        this.pending.delete(key); // forgotten since it changed: nothing to send
        for (const resolve of this.waiting.get(key) ?? []) resolve();
        this.waiting.delete(key);
        continue;
      }
      const datum = whole || what === "whole" ? service.snapshot() : delta(service, what);
      const size = datum.instances.length;
      const weight = datum.partial === true ? estimateBytes(datum) : service.bytes;
      if (datums.length > 0 && (datums.length >= maxKeys || instances + size > maxInstances || bytes + weight > maxBytes)) break;
      this.pending.delete(key);
      carried.set(key, what);
      waiters.push(...(this.waiting.get(key) ?? []));
      this.waiting.delete(key);
      datums.push(datum);
      instances += size;
      bytes += weight;
    }
    return { datums, carried, waiters };
  }
}

/** The entries named, as they are now, with the service's meta: what a peer merges entry by entry. */
function delta(service: ServiceState, ids: ReadonlySet<string>): ServiceDatum {
  const entries: InstanceEntry[] = [];
  for (const id of ids) {
    const e = service.entry(id);
    if (e !== undefined) entries.push(e);
  }
  return makeDelta(service.key, service.deleted, service.meta, service.metaVersion, entries);
}
