/**
 * The deterministic core of one node, wired together: registry, writes, responsibility, membership, Distro
 * and heartbeat checks. It touches the world only through the Scheduler and PeerTransport it is given, so
 * the real server and the simulator run exactly this object.
 */
import type { ClusterView, NodeStatus } from "../api/context.js";
import type { Abilities, MemberInfo } from "./cluster/member.js";
import { DEFAULT_MEMBERSHIP_CONFIG, MemberManager, type MembershipConfig } from "./cluster/member-manager.js";
import { LastBeats } from "../core/last-beats.js";
import type { Log } from "../core/log.js";
import { gauge } from "../api/metrics.js";
import { NamingService } from "../core/naming-service.js";
import type { ClientWrite } from "../core/ops.js";
import { Registry } from "../core/registry.js";
import { every, type Scheduler, type TimerHandle } from "../core/scheduler.js";
import type { ServiceDatum } from "../core/service-datum.js";
import { defaultSwitches, type Switches } from "../core/switches.js";
import { ClientWriteRouter } from "./distro/client-write-router.js";
import { DistroMapper } from "./distro/distro-mapper.js";
import { DEFAULT_DISTRO_CONFIG, DistroProtocol, type DistroConfig } from "./distro/distro-protocol.js";
import { DEFAULT_HEARTBEAT_CHECK_CONFIG, HeartbeatChecker, type HeartbeatCheckConfig } from "./health/heartbeat-checker.js";
import type {
  ForwardOutcome,
  PeerHandler,
  PeerTransport,
  SnapshotChunk,
  SyncOutcome,
  VerifyDigest,
  VerifyReply,
} from "./ports.js";

export interface NodeConfig {
  /** This node's member address (`ip:httpPort`). */
  readonly self: string;
  /** Every member address including or excluding self; empty (or only self) means standalone. */
  readonly members: readonly string[];
  readonly version: string;
  readonly grpcPort: number;
  readonly abilities: Abilities;
  readonly distro: DistroConfig;
  readonly membership: MembershipConfig;
  readonly heartbeat: HeartbeatCheckConfig;
  /**
   * How long removed instances and deleted services are remembered as tombstones. Longer than any time a
   * stale copy can survive: within a partition each side's owner expires silent instances in ~35 s.
   */
  readonly tombstoneTtlMs: number;
  /** How often expired tombstones are purged (every node on the same schedule keeps digests equal). */
  readonly purgeIntervalMs: number;
  /** The largest one service's datum may grow by writes (estimated bytes): what one peer message carries. */
  readonly maxServiceBytes: number;
}

export function defaultNodeConfig(self: string, members: readonly string[] = []): NodeConfig {
  return {
    self,
    members,
    version: "0.1.0",
    grpcPort: 0,
    abilities: { grpcPeer: true, httpPeer: false },
    distro: DEFAULT_DISTRO_CONFIG,
    membership: DEFAULT_MEMBERSHIP_CONFIG,
    heartbeat: DEFAULT_HEARTBEAT_CHECK_CONFIG,
    tombstoneTtlMs: 10 * 60_000,
    purgeIntervalMs: 5_000,
    maxServiceBytes: 4 * 1024 * 1024 - 64 * 1024,
  };
}

export class NamingNode implements PeerHandler {
  readonly registry: Registry;
  readonly switches: Switches = defaultSwitches();
  readonly lastBeats: LastBeats;
  readonly naming: NamingService;
  readonly mapper: DistroMapper;
  readonly members: MemberManager;
  readonly distro: DistroProtocol | undefined;
  readonly router: ClientWriteRouter;
  readonly checker: HeartbeatChecker;
  readonly standalone: boolean;
  private purgeTimer: TimerHandle | undefined;
  private stopping = false;

  constructor(
    readonly config: NodeConfig,
    readonly scheduler: Scheduler,
    transport: PeerTransport | undefined,
    private readonly log: Log,
  ) {
    const { self } = config;
    const clock = (): number => scheduler.now();
    this.standalone = transport === undefined || config.members.every((m) => m === self);
    const purgeHorizon = (): number => this.purgeHorizon();
    this.registry = new Registry(self, clock, {
      purgeBefore: purgeHorizon,
      maxAheadMs: config.membership.maxClockSkewMs,
      maxDatumBytes: config.maxServiceBytes,
    });
    this.lastBeats = new LastBeats(clock);
    this.naming = new NamingService(this.registry, this.lastBeats, this.switches);
    this.mapper = new DistroMapper(self);
    const peerTransport = this.standalone ? undefined : transport;
    this.members = new MemberManager(self, config.members, () => this.selfInfo(), scheduler, peerTransport, config.membership, log);
    this.distro =
      peerTransport === undefined
        ? undefined
        : new DistroProtocol(
            {
              self,
              registry: this.registry,
              mapper: this.mapper,
              transport: peerTransport,
              scheduler,
              peers: () => this.members.peers(),
              snapshotSources: () => this.snapshotSources(),
              purgeHorizon,
              log,
            },
            config.distro,
          );
    this.router = new ClientWriteRouter(this.mapper, this.naming, peerTransport);
    this.checker = new HeartbeatChecker(
      this.registry,
      this.naming,
      this.lastBeats,
      this.switches,
      (name) => this.standalone || this.mapper.responsible(name),
      scheduler,
      config.heartbeat,
      log,
    );
    this.members.onChange((reason) => {
      if (reason === "healthy") this.membershipChanged();
    });
    this.mapper.update(this.members.healthy());
  }

  /** Starts every periodic task; resolves once the node is ready (its snapshot loaded). */
  async start(): Promise<void> {
    this.members.start();
    this.checker.start();
    this.purgeTimer = every(this.scheduler, this.config.purgeIntervalMs, () => this.registry.purge());
    await this.distro?.start(true);
    this.log.info("node ready", { self: this.config.self, standalone: this.standalone });
  }

  close(): void {
    this.purgeTimer?.cancel();
    this.members.close();
    this.checker.close();
    this.distro?.close();
  }

  get ready(): boolean {
    return !this.stopping && (this.distro?.isReady ?? true);
  }

  /**
   * The first step of a graceful stop: the node turns not-ready (load balancers and orchestrators stop sending
   * clients) while it goes on serving what is in flight.
   */
  beginStop(): void {
    this.stopping = true;
  }

  /**
   * Sends every write still waiting in the merge window (or for a retry) to the peers that are reachable, for
   * at most `timeoutMs`, so a write acknowledged just before a stop is not lost with the process. Resolves
   * whether everything pending was delivered.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.distro === undefined) return true;
    const reachable = (peer: string): boolean => {
      const state = this.members.get(peer)?.state;
      return state === "UP" || state === "SUSPICIOUS";
    };
    return this.distro.sync.flush(timeoutMs, reachable);
  }

  selfInfo(): MemberInfo {
    return {
      address: this.config.self,
      version: this.config.version,
      grpcPort: this.config.grpcPort,
      abilities: this.config.abilities,
      ready: this.ready,
      viewHash: this.mapper.viewHash,
      clock: this.scheduler.now(),
      confirmedThrough: this.confirmedThrough(),
    };
  }

  /** Through when every peer confirmed holding what this node owns (verify); standalone: always. */
  private confirmedThrough(): number {
    if (this.distro === undefined) return this.scheduler.now();
    return Math.min(this.scheduler.now(), this.distro.verify.confirmedThrough(this.members.peers()));
  }

  /**
   * Tombstones below this version are forgotten. They are kept for at least the TTL, and beyond it until every
   * member has confirmed holding them: a member that was away (partitioned, down) longer than the TTL would
   * otherwise hand back what was removed meanwhile. Members that keep no versions (Nacos 1.4) hold nothing back.
   * The skew bound is subtracted because confirmations are stamped by other members' clocks.
   */
  private purgeHorizon(): number {
    const byTtl = this.scheduler.now() - this.config.tombstoneTtlMs;
    if (this.distro === undefined) return byTtl;
    let confirmed = this.confirmedThrough();
    for (const member of this.members.all()) {
      if (member.address === this.config.self) continue;
      const theirs = member.info === undefined ? 0 : member.info.confirmedThrough;
      if (theirs !== undefined) confirmed = Math.min(confirmed, theirs);
    }
    return Math.min(byTtl, confirmed - this.config.membership.maxClockSkewMs);
  }

  // ---- PeerHandler: what peers may ask of this node ----

  onSync(source: string, datums: readonly ServiceDatum[]): SyncOutcome {
    return this.requireDistro().onSync(source, datums);
  }

  onVerify(digest: VerifyDigest): VerifyReply {
    return this.requireDistro().onVerify(digest);
  }

  onQuery(keys: readonly string[]): ServiceDatum[] {
    return this.requireDistro().onQuery(keys);
  }

  onSnapshot(resumeAfter: string): AsyncIterable<SnapshotChunk> {
    return this.requireDistro().onSnapshot(resumeAfter);
  }

  onReport(reporter: MemberInfo): MemberInfo {
    return this.members.onReport(reporter);
  }

  onForward(write: ClientWrite): Promise<ForwardOutcome> {
    return this.router.onForward(write);
  }

  isMember(address: string): boolean {
    return this.members.isMember(address);
  }

  // ---- views for the HTTP layer ----

  /** @param peerTransportOf which transport reaches each peer (the runtime's per-peer choice). */
  clusterView(peerTransportOf: ClusterView["peerTransportOf"] = () => undefined): ClusterView {
    return {
      selfAddress: this.config.self,
      standalone: this.standalone,
      members: () => this.members.all(),
      selfInfo: () => this.selfInfo(),
      responsibleFor: (name) => (this.standalone ? this.config.self : this.mapper.ownerOf(name)),
      isResponsible: (name) => this.standalone || this.mapper.responsible(name),
      peerTransportOf: (address) => (address === this.config.self ? undefined : peerTransportOf(address)),
    };
  }

  nodeStatus(extraMetrics: () => string = () => ""): NodeStatus {
    return {
      ready: () => this.ready,
      stopping: () => this.stopping,
      serverStatus: () => this.switches.overriddenServerStatus ?? "UP",
      metricsText: () => this.metricsText() + extraMetrics(),
    };
  }

  private metricsText(): string {
    const d = this.distro;
    const p = d?.loader.progress;
    return [
      gauge("nacos_node_ready", "1 once the registry is complete (snapshot loaded)", this.ready ? 1 : 0),
      gauge("nacos_members_healthy", "Members in state UP or SUSPICIOUS, this node included", this.members.healthy().length),
      gauge("nacos_heartbeat_expired", "Instances removed for missing heartbeats", this.checker.expired),
      ...(d === undefined || p === undefined
        ? []
        : [
            gauge("nacos_snapshot_keys_loaded", "Keys applied from the startup snapshot", p.keysDone),
            gauge("nacos_snapshot_keys_total", "Keys in the startup snapshot", p.keysTotal),
            gauge("nacos_snapshot_instances_loaded", "Instances applied from the startup snapshot", p.instancesDone),
            gauge("nacos_snapshot_instances_total", "Instances in the startup snapshot", p.instancesTotal),
            gauge("nacos_snapshot_resumes", "Snapshot streams resumed after a break", p.resumes),
            gauge("nacos_distro_sync_pending", "Replication tasks waiting for their delay or retry", d.sync.pendingTasks),
            gauge("nacos_distro_datums_sent", "Datums replicated to peers", d.sync.sentDatums),
            gauge("nacos_distro_sync_failed_batches", "Replication batches that failed and were re-queued", d.sync.failedBatches),
            gauge("nacos_distro_datums_received", "Newer datums applied from peers' syncs", d.received),
            gauge("nacos_distro_verify_fetched", "Datums fetched by verify", d.verify.fetched),
            gauge("nacos_distro_verify_removed", "Keys removed by verify", d.verify.removed),
            gauge("nacos_distro_refused_ahead", "Peer datums refused: a version too far ahead of this node's clock", this.registry.refusedAhead),
            gauge("nacos_distro_refused_by_peers", "Datums peers refused: a version too far ahead of their clock", d.sync.refusedByPeers),
            gauge("nacos_tombstone_purge_lag_ms", "How far the tombstone purge horizon trails the clock (grows while a member has not confirmed)", this.scheduler.now() - this.purgeHorizon()),
          ]),
    ].join("");
  }

  private requireDistro(): DistroProtocol {
    if (this.distro === undefined) throw new Error("standalone node: no peer protocol");
    return this.distro;
  }

  private snapshotSources(): string[] {
    const rank = (state: string): number => (state === "UP" ? 0 : state === "SUSPICIOUS" ? 1 : 2);
    return this.members
      .all()
      .filter((m) => m.address !== this.config.self)
      .sort((a, b) => rank(a.state) - rank(b.state))
      .map((m) => m.address);
  }

  private membershipChanged(): void {
    if (this.mapper.update(this.members.healthy())) {
      // Responsibility may have moved here: give every instance a full timeout to reach its new owner.
      this.lastBeats.startGrace();
      this.log.info("responsibility recomputed", { healthy: this.mapper.members });
    }
    this.distro?.membersChanged();
  }
}
