/**
 * Replication of local writes: one lane per peer (PeerSyncQueue) holding, per service, what that peer has not
 * acknowledged yet. A change enters every lane; each lane decides when to send (at once when idle, merged
 * while busy) and retries with back-off for as long as the peer is a member.
 */
import type { Log } from "../../core/log.js";
import { sleep, type Scheduler, type TimerHandle } from "../../core/scheduler.js";
import type { ServiceState } from "../../core/service-record.js";
import { Throttle } from "../../core/throttle.js";
import type { PeerTransport, SyncOutcome } from "../ports.js";
import { PeerSyncQueue, type BatchLimits } from "./peer-sync-queue.js";

export interface SyncConfig extends BatchLimits {
  /**
   * The longest a change is merged with others before it is sent (`--sync-delay-ms`, 1.4: 1000 ms). An idle
   * lane sends at once; a busy one merges changes for one round trip, at most this long.
   */
  readonly delayMs: number;
  /** The least time between two batches to one quiet peer. */
  readonly minIntervalMs: number;
  /** First retry delay after a failed batch (1.4: 5000 ms fixed; here doubled per failure up to the max). */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

export interface SyncDeps {
  readonly scheduler: Scheduler;
  readonly transport: PeerTransport;
  /** A service as it is now. */
  readonly read: (key: string) => ServiceState | undefined;
  /** Whether a peer takes whole lists only (it is reached over the Nacos 1.4 protocol right now). */
  readonly wholeOnly: (peer: string) => boolean;
  readonly log: Log;
}

export class DistroSync {
  private readonly lanes = new Map<string, PeerSyncQueue>();
  private peers = new Set<string>();
  private readonly refusalLog: Throttle;
  sentDatums = 0;
  failedBatches = 0;
  /** Datums peers refused to merge (e.g. versions too far ahead of the peer's clock). */
  refusedByPeers = 0;

  constructor(
    private readonly deps: SyncDeps,
    private readonly config: SyncConfig,
  ) {
    this.refusalLog = new Throttle(() => deps.scheduler.now(), 60_000);
  }

  /** Replaces the set of peers to replicate to (every member but this node); lanes of peers that left close. */
  setPeers(peers: Iterable<string>): void {
    this.peers = new Set(peers);
    for (const [peer, lane] of this.lanes) {
      if (this.peers.has(peer)) continue;
      lane.close();
      this.lanes.delete(peer);
    }
  }

  /** Entries of `key` changed here (`ids`; none: only its meta): every peer gets them. */
  syncToAll(key: string, ids: readonly string[]): void {
    for (const peer of this.peers) this.laneOf(peer)!.add(key, ids);
  }

  /** Sends the whole services to one peer (verify found it lacking them). */
  syncTo(peer: string, keys: Iterable<string>): void {
    const lane = this.laneOf(peer);
    if (lane === undefined) return;
    for (const key of keys) lane.add(key, "whole");
  }

  /**
   * Resolves once every peer `to` accepts has answered the batch carrying the change of `key` waiting for it
   * now (see PeerSyncQueue.whenSent), or after `withinMs` at most: a client's write can then be answered
   * knowing that whichever of those peers the client reads from next holds it.
   */
  async delivered(key: string, to: (peer: string) => boolean, withinMs: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const [peer, lane] of this.lanes) {
      const sent = to(peer) ? lane.whenSent(key) : undefined;
      if (sent !== undefined) waits.push(sent);
    }
    if (waits.length === 0) return;
    let timer: TimerHandle | undefined;
    const limit = new Promise<void>((resolve) => (timer = this.deps.scheduler.schedule(withinMs, resolve)));
    await Promise.race([Promise.all(waits), limit]);
    timer?.cancel();
  }

  /** Services waiting to be sent, summed over peers. */
  get pendingTasks(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.backlog;
    return n;
  }

  /**
   * Per peer, the services waiting to be sent to it and its consecutive failed batches (0 once one succeeds):
   * how far each peer trails this node, for metrics.
   */
  peerBacklogs(): Map<string, { readonly pending: number; readonly failures: number }> {
    const out = new Map<string, { pending: number; failures: number }>();
    for (const peer of this.peers) {
      const lane = this.lanes.get(peer);
      out.set(peer, { pending: lane?.backlog ?? 0, failures: lane?.failures ?? 0 });
    }
    return out;
  }

  /**
   * Sends everything pending now, retrying at once what fails, until every lane towards a peer that
   * `waitFor` accepts is empty or `timeoutMs` has passed (a stopping node does not leave acknowledged writes
   * behind). Resolves whether everything was delivered.
   */
  async flush(timeoutMs: number, waitFor: (peer: string) => boolean): Promise<boolean> {
    const { scheduler } = this.deps;
    const deadline = scheduler.now() + timeoutMs;
    for (;;) {
      const waiting = [...this.lanes].filter(([peer, lane]) => waitFor(peer) && !lane.idle);
      if (waiting.length === 0) return true;
      if (scheduler.now() >= deadline) return false;
      for (const [, lane] of waiting) lane.flushNow();
      await sleep(scheduler, 20);
    }
  }

  close(): void {
    for (const lane of this.lanes.values()) lane.close();
    this.lanes.clear();
  }

  private laneOf(peer: string): PeerSyncQueue | undefined {
    if (!this.peers.has(peer)) return undefined;
    let lane = this.lanes.get(peer);
    if (lane === undefined) {
      const { scheduler, transport, read, wholeOnly } = this.deps;
      const { delayMs, minIntervalMs, retryBaseMs, retryMaxMs, maxKeys, maxInstances, maxBytes } = this.config;
      lane = new PeerSyncQueue(
        {
          peer,
          transport,
          scheduler,
          read,
          wholeOnly: () => wholeOnly(peer),
          onSent: (n, outcome) => this.sent(peer, n, outcome),
          onFailure: (keys, failures, err) => this.failed(peer, keys, failures, err),
        },
        { maxDelayMs: delayMs, minIntervalMs, retryBaseMs, retryMaxMs, maxKeys, maxInstances, maxBytes },
      );
      this.lanes.set(peer, lane);
    }
    return lane;
  }

  private sent(peer: string, count: number, outcome: SyncOutcome): void {
    this.sentDatums += count - outcome.refused.length;
    if (outcome.refused.length === 0) return;
    this.refusedByPeers += outcome.refused.length;
    if (!this.refusalLog.allow(peer)) return;
    this.deps.log.warn("a peer refused datums this node sent; they are not retried (see the reason)", {
      peer,
      refused: outcome.refused.length,
      first: outcome.refused[0],
    });
  }

  private failed(peer: string, keys: number, failures: number, err: unknown): void {
    this.failedBatches++;
    this.deps.log.debug("distro sync failed, retrying after a back-off", { peer, keys, failures, error: String(err) });
  }
}
