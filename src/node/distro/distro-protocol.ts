/**
 * Distro for one node: replicate local writes, merge peers' writes, verify, serve and load snapshots. It implements the data half of PeerHandler; the transports call into it.
 */
import type { Log } from "../../core/log.js";
import type { ApplyOutcome, Registry, RegistryChange } from "../../core/registry.js";
import { every, type Scheduler, type TimerHandle } from "../../core/scheduler.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import { Throttle } from "../../core/throttle.js";
import {
  BusyError,
  NotReadyError,
  type PeerTransport,
  type RefusedDatum,
  type SnapshotChunk,
  type SyncOutcome,
  type VerifyDigest,
  type VerifyReply,
} from "../ports.js";
import type { DistroMapper } from "./distro-mapper.js";
import { DistroSync, type SyncConfig } from "./distro-sync.js";
import { DistroVerify, type VerifyConfig } from "./distro-verify.js";
import { snapshotChunks } from "./snapshot-source.js";
import { SnapshotLoader, type SnapshotLoadConfig } from "./snapshot-loader.js";

const changedIds = (change: RegistryChange): string[] => change.entries.map(({ before, after }) => (after ?? before)!.id);

export interface SnapshotServeConfig {
  readonly chunkBytes: number;
  /** Snapshot streams served at once; more are refused as busy (the joining node asks again or elsewhere). */
  readonly maxStreams: number;
}

export interface DistroConfig {
  readonly sync: SyncConfig;
  readonly verify: VerifyConfig & { readonly intervalMs: number };
  readonly snapshot: SnapshotLoadConfig & SnapshotServeConfig;
}

export interface DistroDeps {
  readonly self: string;
  readonly registry: Registry;
  readonly mapper: DistroMapper;
  readonly transport: PeerTransport;
  readonly scheduler: Scheduler;
  /** Every member but this node, for replication and verify. */
  readonly peers: () => string[];
  /** Members worth asking for a snapshot, best first. */
  readonly snapshotSources: () => string[];
  /** Tombstones with versions below this may already be purged (see Registry). */
  readonly purgeHorizon: () => number;
  /** How a peer without versioned digests (Nacos 1.4) is verified. */
  readonly verifyWithoutDigests?: (peer: string, viewHash: string) => Promise<void>;
  /** Whether a peer takes whole lists only (reached over the Nacos 1.4 protocol right now); none: no peer does. */
  readonly wholeOnly?: (peer: string) => boolean;
  readonly log: Log;
}

export class DistroProtocol {
  readonly sync: DistroSync;
  readonly verify: DistroVerify;
  readonly loader: SnapshotLoader;
  private ready = false;
  private readonly timers: TimerHandle[] = [];
  private readonly refusalLog: Throttle;
  private snapshotStreams = 0;
  received = 0;

  constructor(
    private readonly deps: DistroDeps,
    private readonly config: DistroConfig,
  ) {
    const { registry, scheduler, transport, log } = deps;
    this.refusalLog = new Throttle(() => scheduler.now(), 60_000);
    const wholeOnly = deps.wholeOnly ?? (() => false);
    this.sync = new DistroSync({ scheduler, transport, read: (key) => registry.service(key), wholeOnly, log }, config.sync);
    const merge = (source: string, datum: ServiceDatum): ApplyOutcome => this.merge(source, datum);
    this.verify = new DistroVerify(
      {
        self: deps.self,
        registry,
        mapper: deps.mapper,
        transport,
        ready: () => this.ready,
        purgeHorizon: deps.purgeHorizon,
        clock: () => scheduler.now(),
        pushTo: (peer, keys) => this.sync.syncTo(peer, keys),
        merge,
        ...(deps.verifyWithoutDigests === undefined ? {} : { verifyWithoutDigests: deps.verifyWithoutDigests }),
        log,
      },
      config.verify,
    );
    this.loader = new SnapshotLoader(scheduler, transport, merge, deps.snapshotSources, config.snapshot, log);
    registry.onChange((change) => {
      if (change.origin === "local") this.sync.syncToAll(change.key, changedIds(change));
    });
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** Starts replication and verify; loads the snapshot first unless `loadSnapshot` is false (standalone). */
  async start(loadSnapshot: boolean): Promise<void> {
    const { scheduler } = this.deps;
    this.membersChanged();
    this.timers.push(every(scheduler, this.config.verify.intervalMs, () => this.verify.round(this.deps.peers())));
    if (loadSnapshot) await this.loader.load();
    this.ready = true;
  }

  /** Membership changed: replicate to exactly the current peers. */
  membersChanged(): void {
    this.sync.setPeers(this.deps.peers());
  }

  close(): void {
    for (const t of this.timers) t.cancel();
    this.loader.close();
    this.sync.close();
  }

  /** Merges a peer's datums; those with versions too far ahead of this node's clock are refused and reported. */
  onSync(source: string, datums: readonly ServiceDatum[]): SyncOutcome {
    const refused: RefusedDatum[] = [];
    for (const datum of datums) {
      const outcome = this.merge(source, datum);
      if (outcome === "applied") this.received++;
      else if (outcome === "ahead") refused.push(this.aheadOf(datum));
    }
    return { refused };
  }

  /** Every datum from a peer (sync, verify, snapshot) enters the registry here. */
  private merge(source: string, datum: ServiceDatum): ApplyOutcome {
    const outcome = this.deps.registry.apply(datum);
    if (outcome === "ahead" && this.refusalLog.allow(source)) {
      this.deps.log.warn("refused a datum from a peer: its version is ahead of this node's clock (is the peer's clock right?)", {
        peer: source,
        ...this.aheadOf(datum),
        refusedSoFar: this.deps.registry.refusedAhead,
      });
    }
    return outcome;
  }

  private aheadOf(datum: ServiceDatum): RefusedDatum {
    const { registry, scheduler } = this.deps;
    const ahead = datum.version.counter - scheduler.now();
    const reason = `version ${datum.version.counter} is ${ahead} ms ahead of the receiver's clock (at most ${registry.maxAhead} ms allowed)`;
    return { key: datum.key, reason };
  }

  onVerify(digest: VerifyDigest): VerifyReply {
    return this.verify.onDigest(digest);
  }

  onQuery(keys: readonly string[]): ServiceDatum[] {
    const out: ServiceDatum[] = [];
    for (const key of keys) {
      const datum = this.deps.registry.get(key);
      if (datum !== undefined) out.push(datum);
    }
    return out;
  }

  /**
   * Refuses until this node is complete, so a joining node never copies a half-loaded one (#8436), and while
   * it already serves as many streams as allowed, so readers cannot pile up streams (and the memory each
   * holds in flight) without bound.
   */
  onSnapshot(resumeAfter: string): AsyncIterable<SnapshotChunk> {
    if (!this.ready) throw new NotReadyError();
    const { maxStreams, chunkBytes } = this.config.snapshot;
    if (this.snapshotStreams >= maxStreams) {
      throw new BusyError(`already serving ${this.snapshotStreams} snapshot streams (at most ${maxStreams}); try again later`);
    }
    this.snapshotStreams++;
    return releasing(snapshotChunks(this.deps.registry, resumeAfter, chunkBytes), () => this.snapshotStreams--);
  }

  get servingSnapshots(): number {
    return this.snapshotStreams;
  }
}

/**
 * An iteration that calls `release` exactly once: when it ends, fails, or is returned early, even before its
 * first chunk (an async generator returned before it starts never runs its own cleanup).
 */
function releasing<T>(inner: AsyncGenerator<T>, release: () => void): AsyncIterable<T> {
  let released = false;
  const done = (): void => {
    if (released) return;
    released = true;
    release();
  };
  return {
    [Symbol.asyncIterator]: () => ({
      async next(): Promise<IteratorResult<T>> {
        try {
          const result = await inner.next();
          if (result.done === true) done();
          return result;
        } catch (err) {
          done();
          throw err;
        }
      },
      async return(): Promise<IteratorResult<T>> {
        done();
        return inner.return(undefined);
      },
    }),
  };
}
