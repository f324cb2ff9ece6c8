/**
 * The receiving side of a snapshot, run once when a cluster node starts. It streams the registry from one
 * ready peer and applies every chunk as it arrives (versions decide, so writes that arrive meanwhile are
 * never overwritten by older snapshot data). A broken stream resumes after the last applied key, from the
 * same peer or the next one. Only when no peer has anything to give for `giveUpAfterMs` (the whole cluster
 * is starting) does the node declare itself complete with what it has.
 */
import type { Log } from "../../core/log.js";
import type { ApplyOutcome } from "../../core/registry.js";
import { sleep, type Scheduler } from "../../core/scheduler.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import type { PeerTransport } from "../ports.js";

export interface SnapshotLoadConfig {
  readonly retryDelayMs: number;
  readonly giveUpAfterMs: number;
}

export interface LoadProgress {
  state: "waiting" | "loading" | "done";
  source: string;
  keysDone: number;
  keysTotal: number;
  instancesDone: number;
  instancesTotal: number;
  startedAt: number;
  finishedAt: number;
  /** Streams that broke and were resumed. */
  resumes: number;
}

export class SnapshotLoader {
  readonly progress: LoadProgress;
  private token = "";
  private closed = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly transport: PeerTransport,
    /** Merges one datum from the peer streaming it (versions decide, as for every peer datum). */
    private readonly merge: (source: string, datum: ServiceDatum) => ApplyOutcome,
    private readonly sources: () => string[],
    private readonly config: SnapshotLoadConfig,
    private readonly log: Log,
  ) {
    const now = scheduler.now();
    this.progress = {
      state: "waiting",
      source: "",
      keysDone: 0,
      keysTotal: 0,
      instancesDone: 0,
      instancesTotal: 0,
      startedAt: now,
      finishedAt: 0,
      resumes: 0,
    };
  }

  close(): void {
    this.closed = true;
  }

  /** Resolves when the registry is complete. */
  async load(): Promise<void> {
    let everServed = false;
    while (!this.closed) {
      for (const peer of this.sources()) {
        if (this.closed) return;
        const outcome = await this.streamFrom(peer);
        everServed ||= outcome !== "nothing";
        if (outcome === "complete") return this.finish(peer);
      }
      const waited = this.scheduler.now() - this.progress.startedAt;
      if (!everServed && waited >= this.config.giveUpAfterMs) {
        this.log.info("no peer has a registry to give; starting as the first node", { waitedMs: waited });
        return this.finish("");
      }
      await sleep(this.scheduler, this.config.retryDelayMs);
    }
  }

  private async streamFrom(peer: string): Promise<"complete" | "partial" | "nothing"> {
    let received = false;
    if (this.token !== "") this.progress.resumes++;
    this.progress.state = "loading";
    this.progress.source = peer;
    try {
      for await (const chunk of this.transport.snapshot(peer, this.token)) {
        if (this.closed) return "partial";
        received = true;
        for (const datum of chunk.datums) {
          this.merge(peer, datum);
          this.progress.instancesDone += datum.instances.length;
        }
        this.progress.keysDone += chunk.datums.length;
        this.progress.keysTotal = Math.max(this.progress.keysTotal, chunk.totalKeys);
        this.progress.instancesTotal = Math.max(this.progress.instancesTotal, chunk.totalInstances);
        this.token = chunk.resumeToken;
        this.logProgress();
      }
      return received ? "complete" : "nothing";
    } catch (err) {
      // A peer that is down or still loading itself is routine at start; a stream breaking midway is not.
      const fields = { peer, resumeAfter: this.token, error: String(err) };
      if (received) this.log.warn("snapshot stream broke; will resume after the last applied key", fields);
      else this.log.debug("no snapshot from this peer now", fields);
      return received ? "partial" : "nothing";
    }
  }

  private lastLogAt = 0;

  private logProgress(): void {
    const now = this.scheduler.now();
    if (now - this.lastLogAt < 1000) return;
    this.lastLogAt = now;
    const p = this.progress;
    const seconds = Math.max(0.001, (now - p.startedAt) / 1000);
    this.log.info("loading snapshot", {
      source: p.source,
      keys: `${p.keysDone}/${p.keysTotal}`,
      instances: `${p.instancesDone}/${p.instancesTotal}`,
      instancesPerSecond: Math.round(p.instancesDone / seconds),
    });
  }

  private finish(source: string): void {
    const p = this.progress;
    p.state = "done";
    p.finishedAt = this.scheduler.now();
    this.log.info("snapshot load complete", {
      source,
      keys: p.keysDone,
      instances: p.instancesDone,
      resumes: p.resumes,
      ms: p.finishedAt - p.startedAt,
    });
  }
}
