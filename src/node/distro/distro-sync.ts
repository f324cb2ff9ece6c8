/**
 * Replication of local writes: one delayed task per (peer, key), merged while pending, then handed to the
 * peer's worker queue. Failed keys come back through the same delay engine with exponential back-off and
 * keep retrying for as long as the peer is a member; a newer write to a retrying key merges into it.
 */
import type { Log } from "../../core/log.js";
import { sleep, type Scheduler } from "../../core/scheduler.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import { Throttle } from "../../core/throttle.js";
import type { PeerTransport, SyncOutcome } from "../ports.js";
import { DelayTaskEngine } from "./delay-task-engine.js";
import { PeerSyncQueue, type BatchLimits } from "./peer-sync-queue.js";
import { getOrCreate } from "../../core/memo.js";

export interface SyncConfig extends BatchLimits {
  /** Delay before a write is sent, merging bursts (1.4: taskDispatchPeriod / 2 = 1000 ms). */
  readonly delayMs: number;
  /** First retry delay after a failed batch (1.4: 5000 ms fixed; here doubled per failure up to the max). */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

const SEP = "\u0000";

export class DistroSync {
  private readonly tasks: DelayTaskEngine<string>;
  private readonly queues = new Map<string, PeerSyncQueue>();
  private peers = new Set<string>();
  private readonly refusalLog: Throttle;
  sentDatums = 0;
  failedBatches = 0;
  /** Datums peers refused to merge (e.g. versions too far ahead of the peer's clock). */
  refusedByPeers = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly transport: PeerTransport,
    private readonly read: (key: string) => ServiceDatum | undefined,
    private readonly config: SyncConfig,
    private readonly log: Log,
  ) {
    this.tasks = new DelayTaskEngine(scheduler, (due) => this.dispatch(due));
    this.refusalLog = new Throttle(() => scheduler.now(), 60_000);
  }

  /** Replaces the set of peers to replicate to (every member but this node). */
  setPeers(peers: Iterable<string>): void {
    this.peers = new Set(peers);
    for (const [peer, queue] of this.queues) {
      if (this.peers.has(peer)) continue;
      queue.close();
      this.queues.delete(peer);
    }
    this.tasks.remove((task) => !this.peers.has(task.slice(0, task.indexOf(SEP))));
  }

  /** Schedules `key` to be sent to every peer. */
  syncToAll(key: string): void {
    for (const peer of this.peers) this.tasks.add(peer + SEP + key, this.config.delayMs);
  }

  /** Schedules keys to be sent to one peer after `delayMs`. */
  syncTo(peer: string, keys: Iterable<string>, delayMs = this.config.delayMs): void {
    if (!this.peers.has(peer)) return;
    for (const key of keys) this.tasks.add(peer + SEP + key, delayMs);
  }

  get pendingTasks(): number {
    return this.tasks.size;
  }

  backlogOf(peer: string): number {
    return this.queues.get(peer)?.backlog ?? 0;
  }

  /**
   * Sends everything pending now, retrying at once what fails, until every lane towards a peer that
   * `waitFor` accepts is empty or `timeoutMs` has passed (a stopping node does not leave acknowledged writes
   * behind in its merge window). Resolves whether everything was delivered.
   */
  async flush(timeoutMs: number, waitFor: (peer: string) => boolean): Promise<boolean> {
    const deadline = this.scheduler.now() + timeoutMs;
    for (;;) {
      this.tasks.fireAll();
      const waiting = [...this.peers].some((peer) => waitFor(peer) && !(this.queues.get(peer)?.idle ?? true));
      if (!waiting) return true;
      if (this.scheduler.now() >= deadline) return false;
      await sleep(this.scheduler, 20);
    }
  }

  close(): void {
    this.tasks.close();
    for (const queue of this.queues.values()) queue.close();
    this.queues.clear();
  }

  private dispatch(due: string[]): void {
    const byPeer = new Map<string, string[]>();
    for (const task of due) {
      const at = task.indexOf(SEP);
      const peer = task.slice(0, at);
      getOrCreate(byPeer, peer, () => []).push(task.slice(at + 1));
    }
    for (const [peer, keys] of byPeer) this.queueOf(peer)?.enqueue(keys);
  }

  private queueOf(peer: string): PeerSyncQueue | undefined {
    if (!this.peers.has(peer)) return undefined;
    let queue = this.queues.get(peer);
    if (queue === undefined) {
      queue = new PeerSyncQueue(
        peer,
        this.transport,
        this.read,
        this.config,
        (keys, failures, err) => this.retry(peer, keys, failures, err),
        (n, outcome) => this.sent(peer, n, outcome),
      );
      this.queues.set(peer, queue);
    }
    return queue;
  }

  private sent(peer: string, count: number, outcome: SyncOutcome): void {
    this.sentDatums += count - outcome.refused.length;
    if (outcome.refused.length === 0) return;
    this.refusedByPeers += outcome.refused.length;
    if (!this.refusalLog.allow(peer)) return;
    this.log.warn("a peer refused datums this node sent; they are not retried (see the reason)", {
      peer,
      refused: outcome.refused.length,
      first: outcome.refused[0],
    });
  }

  private retry(peer: string, keys: string[], failures: number, err: unknown): void {
    this.failedBatches++;
    const delay = Math.min(this.config.retryMaxMs, this.config.retryBaseMs * 2 ** Math.min(failures - 1, 16));
    this.log.debug("distro sync failed, retrying", { peer, keys: keys.length, delay, error: String(err) });
    this.syncTo(peer, keys, delay);
  }
}
