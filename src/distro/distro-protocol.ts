/**
 * Distro for one node: replicate local writes, merge peers' writes, verify, serve and load snapshots. It implements the data half of PeerHandler; the transports call into it.
 */
import type { Log } from "../core/log.js";
import type { Registry } from "../core/registry.js";
import { every, type Scheduler, type TimerHandle } from "../core/scheduler.js";
import type { ServiceDatum } from "../core/service-datum.js";
import { NotReadyError, type PeerTransport, type SnapshotChunk, type VerifyDigest, type VerifyReply } from "../transport/peer-transport.js";
import type { DistroMapper } from "./distro-mapper.js";
import { DistroSync, type SyncConfig } from "./distro-sync.js";
import { DistroVerify, type VerifyConfig } from "./distro-verify.js";
import { snapshotChunks } from "./snapshot.js";
import { SnapshotLoader, type SnapshotLoadConfig } from "./snapshot-loader.js";

export interface DistroConfig {
  readonly sync: SyncConfig;
  readonly verify: VerifyConfig & { readonly intervalMs: number };
  readonly snapshot: SnapshotLoadConfig & { readonly chunkBytes: number };
}

export const DEFAULT_DISTRO_CONFIG: DistroConfig = {
  sync: { delayMs: 1000, retryBaseMs: 3000, retryMaxMs: 30_000, maxKeys: 1000, maxInstances: 20_000 },
  verify: { intervalMs: 5000, bucketCount: 64, queryBatchKeys: 1000 },
  snapshot: { chunkBytes: 256 * 1024, retryDelayMs: 3000, giveUpAfterMs: 10_000 },
};

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
  readonly log: Log;
}

export class DistroProtocol {
  readonly sync: DistroSync;
  readonly verify: DistroVerify;
  readonly loader: SnapshotLoader;
  private ready = false;
  private readonly timers: TimerHandle[] = [];
  received = 0;

  constructor(
    private readonly deps: DistroDeps,
    private readonly config: DistroConfig = DEFAULT_DISTRO_CONFIG,
  ) {
    const { registry, scheduler, transport, log } = deps;
    this.sync = new DistroSync(scheduler, transport, (key) => registry.get(key), config.sync, log);
    this.verify = new DistroVerify(
      {
        self: deps.self,
        registry,
        mapper: deps.mapper,
        transport,
        ready: () => this.ready,
        purgeHorizon: deps.purgeHorizon,
        pushTo: (peer, keys) => this.sync.syncTo(peer, keys),
        log,
      },
      config.verify,
    );
    this.loader = new SnapshotLoader(scheduler, transport, registry, deps.snapshotSources, config.snapshot, log);
    registry.onChange((change) => {
      if (change.origin === "local") this.sync.syncToAll(change.key);
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

  onSync(datums: readonly ServiceDatum[]): void {
    for (const datum of datums) if (this.deps.registry.apply(datum)) this.received++;
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

  /** Refuses until this node is complete, so a joining node never copies a half-loaded one (#8436). */
  onSnapshot(resumeAfter: string): AsyncIterable<SnapshotChunk> {
    if (!this.ready) throw new NotReadyError();
    return snapshotChunks(this.deps.registry, resumeAfter, this.config.snapshot.chunkBytes);
  }

}
