/**
 * One node, as everything outside it sees it: a narrow facade over the deterministic core — registry, writes,
 * responsibility, membership, Distro, heartbeat checks and, when it speaks the Nacos 1.4 peer protocol, what
 * 1.4 peers need. It touches the world only through the Scheduler and the ports it is given (node/ports.ts),
 * so the real process and the simulator run exactly this object (both build it with runtime/assemble.ts).
 *
 * Callers get what they need and nothing to reach through: `write` for client writes, the PeerHandler methods
 * for peers, read-only views (`registry`, `cluster()`), `stats()` as plain numbers, and the lifecycle.
 */
import { BoundInstances } from "../core/bound-instances.js";
import type { Log } from "../core/log.js";
import { serviceKey } from "../core/naming.js";
import { LastBeats } from "../core/last-beats.js";
import { NamingService } from "../core/naming-service.js";
import type { ClientWrite, WriteResult } from "../core/ops.js";
import { Registry, type RegistryView } from "../core/registry.js";
import type { Scheduler, TimerHandle } from "../core/scheduler.js";
import type { ServiceDatum } from "../core/service-datum.js";
import type { Switches } from "../core/switches.js";
import type { Abilities, Member, MemberInfo, MemberState, TableRow } from "./cluster/member.js";
import { MemberDiscovery, type MemberDiscoveryConfig } from "./cluster/member-discovery.js";
import { MemberManager, type MembershipConfig } from "./cluster/member-manager.js";
import type { MemberTable } from "./cluster/member-table.js";
import { ClientConnections } from "./clients/client-connections.js";
import { ConnectionGrace, type ConnectionGraceConfig } from "./clients/connection-grace.js";
import { HolderBeats } from "./clients/holder-beats.js";
import { ClientWriteRouter } from "./distro/client-write-router.js";
import { Nacos14Compat, type Nacos14Config } from "./distro/compat14/nacos14-compat.js";
import { DistroMapper } from "./distro/distro-mapper.js";
import { DistroProtocol, type DistroConfig } from "./distro/distro-protocol.js";
import { HeartbeatChecker, type HeartbeatCheckConfig } from "./health/heartbeat-checker.js";
import { ServerHealthChecker } from "./health/server-health-checker.js";
import type {
  DurableStore,
  ForwardOutcome,
  HealthProber,
  NameResolver,
  Nacos14Peers,
  OwnerList,
  Nacos14Handler,
  PeerTransport,
  ServiceChecksums,
  SnapshotChunk,
  SyncOutcome,
  VerifyDigest,
  VerifyReply,
} from "./ports.js";
import { ClusterSwitches } from "./cluster-switches.js";
import { ClusterTables } from "./cluster-table.js";
import { Persistence } from "./persistence.js";

export interface NodeConfig {
  /** This node's member address (`ip:httpPort`). */
  readonly self: string;
  /** Every member address including or excluding self; empty (or only self) means standalone. */
  readonly members: readonly string[];
  /** The member list as a DNS name's address records (`--members-dns`), resolved again every `refreshMs`. */
  readonly membersDns?: MemberDiscoveryConfig | undefined;
  readonly version: string;
  readonly grpcPort: number;
  readonly abilities: Abilities;
  readonly distro: DistroConfig;
  readonly membership: MembershipConfig;
  readonly heartbeat: HeartbeatCheckConfig;
  /** When the instances of a dead node's (or a previous life's) 2.x client connections go. */
  readonly connections: ConnectionGraceConfig;
  /** How the node treats Nacos 1.4 peers (when it speaks the 1.4 protocol). */
  readonly nacos14: Nacos14Config;
  /**
   * How long removed instances and deleted services are remembered as tombstones at least. Longer than any
   * time a stale copy can survive: within a partition each side's owner expires silent instances in ~35 s.
   */
  readonly tombstoneTtlMs: number;
  /** How often expired tombstones are purged (every node on the same schedule keeps digests equal). */
  readonly purgeIntervalMs: number;
  /** The largest one service's datum may grow by writes (estimated bytes): what one peer message carries. */
  readonly maxServiceBytes: number;
  /**
   * The most bytes the cluster tables may take (tombstones included, as a member report encodes them): every
   * report carries them whole, so well below what a peer accepts in one message or body.
   */
  readonly maxTableBytes: number;
}

/** What a node is given to reach its peers; nothing for a standalone node. */
export interface NodePorts {
  readonly transport?: PeerTransport | undefined;
  /** The calls only Nacos 1.4 peers need; given when the node speaks the 1.4 peer protocol. */
  readonly nacos14?: Nacos14Peers | undefined;
  /** Which transport reaches each peer right now. */
  readonly transportOf?: ((peer: string) => "grpc" | "http") | undefined;
  /** The data directory; without one nothing outlives the process. */
  readonly store?: DurableStore | undefined;
  /** How persistent instances are probed (TCP, HTTP); without one they keep the health clients give them. */
  readonly prober?: HealthProber | undefined;
  /** Resolves the members' DNS name (`membersDns`); needed only with it. */
  readonly resolver?: NameResolver | undefined;
}

/** The cluster as this node sees it, for the API's member lists and responsibility answers. */
export interface ClusterView {
  readonly selfAddress: string;
  readonly standalone: boolean;
  /** Every member including this node, sorted by address. */
  readonly members: readonly Member[];
  readonly selfInfo: MemberInfo;
  /** The transport calls to a member use now; undefined for this node or when standalone. */
  peerTransportOf(address: string): "grpc" | "http" | undefined;
}

/** Numbers about a node, for metrics; formatting is the API's. */
export interface NodeStats {
  readonly ready: boolean;
  readonly services: number;
  readonly instances: number;
  readonly membersHealthy: number;
  /** Members, this node included, by state. */
  readonly membersByState: Readonly<Record<MemberState, number>>;
  readonly heartbeatExpired: number;
  /** Server-side probes of persistent instances started since the process started, by checker. */
  readonly probesStarted: { readonly tcp: number; readonly http: number };
  /** Present in a cluster. */
  readonly distro?: {
    readonly snapshotKeysLoaded: number;
    readonly snapshotKeysTotal: number;
    readonly snapshotInstancesLoaded: number;
    readonly snapshotInstancesTotal: number;
    readonly snapshotResumes: number;
    readonly syncPending: number;
    /** Per peer: services waiting to be sent to it, and its consecutive failed batches. */
    readonly syncByPeer: ReadonlyMap<string, { readonly pending: number; readonly failures: number }>;
    readonly datumsSent: number;
    readonly syncFailedBatches: number;
    readonly datumsReceived: number;
    readonly verifyFetched: number;
    readonly verifyRemoved: number;
    readonly refusedAhead: number;
    readonly refusedByPeers: number;
    readonly tombstonePurgeLagMs: number;
  };
}

export class NamingNode implements Nacos14Handler {
  private readonly clusterSwitches: ClusterSwitches;
  /** Namespaces, users, roles, permissions: small tables every node holds (cluster-table.ts). */
  readonly tables: ClusterTables;
  readonly standalone: boolean;
  private readonly store: Registry;
  private readonly lastBeats: LastBeats;
  private readonly bound: BoundInstances;
  private readonly naming: NamingService;
  /** The 2.x client connections this node holds (the transport opens and closes them) and their instances. */
  readonly connections: ClientConnections;
  private readonly grace: ConnectionGrace;
  /** Beats for this node's connections to Nacos 1.4 owners; only when the node speaks the 1.4 protocol. */
  private readonly holderBeats: HolderBeats | undefined;
  private readonly mapper: DistroMapper;
  private readonly membership: MemberManager;
  private readonly discovery: MemberDiscovery | undefined;
  private readonly distro: DistroProtocol | undefined;
  private readonly compat14: Nacos14Compat | undefined;
  private readonly router: ClientWriteRouter;
  private readonly checker: HeartbeatChecker;
  private readonly serverChecks: ServerHealthChecker | undefined;
  private readonly persistence: Persistence | undefined;
  /**
   * Per peer, the counter through which its reports showed it holding every table tombstone here (the best
   * seen: a peer that held a removal never hands back an older row, even once it forgot the removal).
   */
  private readonly tablesHeldBy = new Map<string, number>();
  private purgeTimer: TimerHandle | undefined;
  private stopping = false;
  /** Called once the registry is complete (whenRegistryComplete). */
  private completeListeners: Array<() => void> = [];

  constructor(
    readonly config: NodeConfig,
    readonly scheduler: Scheduler,
    private readonly members: MemberTable,
    private readonly ports: NodePorts,
    private readonly log: Log,
  ) {
    const { self } = config;
    const maxAheadMs = config.membership.maxClockSkewMs;
    this.clusterSwitches = new ClusterSwitches(self, maxAheadMs, log);
    this.tables = new ClusterTables(self, { maxBytes: config.maxTableBytes, maxAheadMs });
    const clock = (): number => scheduler.now();
    const transport = ports.transport;
    this.standalone = transport === undefined || (config.membersDns === undefined && config.members.every((m) => m === self));
    const peerTransport = this.standalone ? undefined : transport;
    const purgeHorizon = (): number => this.purgeHorizon();
    this.store = new Registry(self, clock, {
      purgeBefore: purgeHorizon,
      maxAheadMs,
      maxDatumBytes: config.maxServiceBytes,
    });
    this.persistence = ports.store === undefined ? undefined : new Persistence(ports.store, this.store, this.tables, log);
    this.lastBeats = new LastBeats(clock);
    this.bound = new BoundInstances(this.store, clock);
    this.naming = new NamingService(this.store, this.lastBeats, this.switches, () => this.registryComplete, this.bound);
    this.connections = new ClientConnections(self, this.store, this.naming, this.bound, scheduler, log);
    this.mapper = new DistroMapper(self);
    this.membership = new MemberManager(members, () => this.selfInfo(), scheduler, peerTransport, config.membership, log);
    this.discovery =
      this.standalone || config.membersDns === undefined || ports.resolver === undefined
        ? undefined
        : new MemberDiscovery(config.membersDns, ports.resolver, scheduler, (list) => this.membership.setMembers(list), log);
    this.compat14 =
      peerTransport === undefined || ports.nacos14 === undefined
        ? undefined
        : new Nacos14Compat({
            registry: this.store,
            mapper: this.mapper,
            members,
            peers: ports.nacos14,
            merge: (source, datums) => this.onSync(source, datums),
            httpPeers: () => members.peers().filter((p) => ports.transportOf?.(p) === "http"),
            ready: () => this.ready,
            config: config.nacos14,
            scheduler,
            log,
          });
    this.distro = peerTransport === undefined ? undefined : this.distroProtocol(peerTransport, purgeHorizon);
    this.router = new ClientWriteRouter(this.mapper, this.naming, peerTransport, (op) => this.connections.execute(op));
    this.grace = new ConnectionGrace(
      {
        self,
        bound: this.bound,
        naming: this.naming,
        members,
        responsible: (name) => this.isResponsible(name),
        holds: (id) => this.connections.holds(id),
        registryComplete: () => this.registryComplete,
        scheduler,
        log,
      },
      config.connections,
    );
    this.holderBeats =
      this.compat14 === undefined || peerTransport === undefined
        ? undefined
        : new HolderBeats({
            self,
            bound: this.bound,
            registry: this.store,
            members,
            ownerOf: (name) => this.mapper.ownerOf(name),
            holds: (id) => this.connections.holds(id),
            transport: peerTransport,
            periodMs: () => this.switches.clientBeatInterval,
            scheduler,
            log,
          });
    this.checker = new HeartbeatChecker(
      this.store,
      this.naming,
      this.lastBeats,
      this.switches,
      (name) => this.standalone || this.mapper.responsible(name),
      scheduler,
      config.heartbeat,
      log,
    );
    this.serverChecks =
      ports.prober === undefined
        ? undefined
        : new ServerHealthChecker(this.store, this.naming, this.switches, (name) => this.isResponsible(name), ports.prober, scheduler, log);
    this.membership.onChange((reason) => {
      if (reason === "healthy") this.membershipChanged();
      else for (const m of members.all()) this.adoptFrom(m.info, m.address);
    });
    this.mapper.update(members.healthy());
    // What the data directory holds is in place before anything can read or write.
    const now = scheduler.now();
    const restamped = this.clusterSwitches.restore(this.persistence?.load(now), now);
    if (restamped !== undefined) this.persistence?.saveSwitches(restamped);
  }

  /** The switches, the same on every node once the newest change has spread (member reports carry them). */
  get switches(): Switches {
    return this.clusterSwitches.switches;
  }

  /**
   * What a member's description spreads: newer switches, newer table rows. Called only with what membership
   * took from a member (MemberManager), never with a report from anyone else.
   */
  private adoptFrom(info: MemberInfo | undefined, from: string): void {
    const now = this.scheduler.now();
    if (this.clusterSwitches.adopt(info?.switches, from, now)) this.persistence?.saveSwitches(this.clusterSwitches.state);
    if (info?.tables === undefined) return;
    const { refused } = this.tables.merge(info.tables, now);
    if (refused.length > 0) this.log.warn("table rows from a member refused", { from, rows: refused.length, first: refused[0] });
  }

  /** Sets (or with `undefined` removes) a row of a cluster table; resolves once it is durable here. */
  async setTableRow(table: string, key: string, value: string | undefined): Promise<void> {
    await this.durably(async () => this.tables.set(table, key, value, this.scheduler.now()));
  }

  private distroProtocol(transport: PeerTransport, purgeHorizon: () => number): DistroProtocol {
    const compat14 = this.compat14;
    return new DistroProtocol(
      {
        self: this.config.self,
        registry: this.store,
        mapper: this.mapper,
        transport,
        scheduler: this.scheduler,
        peers: () => this.members.peers(),
        snapshotSources: () => this.snapshotSources(),
        purgeHorizon,
        ...(compat14 === undefined ? {} : { verifyWithoutDigests: (peer, viewHash) => compat14.verifyByChecksums(peer, viewHash) }),
        wholeOnly: (peer) => this.ports.transportOf?.(peer) === "http",
        log: this.log,
      },
      this.config.distro,
    );
  }

  // ---- lifecycle ----

  /** Starts every periodic task; resolves once the node is ready (its snapshot loaded). */
  async start(): Promise<void> {
    // The members a DNS name lists are known before the first reports and the snapshot load look for peers.
    await this.discovery?.start();
    this.membership.start();
    this.checker.start();
    this.grace.start();
    this.holderBeats?.start();
    this.serverChecks?.start();
    this.compat14?.start();
    this.purgeTimer = this.purgeOnTheClock();
    await this.distro?.start(true);
    this.log.info("node ready", { self: this.config.self, standalone: this.standalone });
    const listeners = this.completeListeners;
    this.completeListeners = [];
    for (const listener of listeners) listener();
  }

  /**
   * Purges at every multiple of the purge interval on the clock, as every member does whenever it started: a
   * tombstone that expires then leaves every registry at the same moment, so no verify round in between finds
   * registries that differ only by it (each such round voids the owner's confirmations, and those hold back
   * every member's purge in turn).
   */
  private purgeOnTheClock(): TimerHandle {
    const interval = this.config.purgeIntervalMs;
    let next: TimerHandle | undefined;
    const schedule = (): void => {
      next = this.scheduler.schedule(interval - (this.scheduler.now() % interval), () => {
        this.purge();
        schedule();
      });
    };
    schedule();
    return { cancel: () => next?.cancel() };
  }

  close(): void {
    this.purgeTimer?.cancel();
    this.discovery?.close();
    this.membership.close();
    this.checker.close();
    this.grace.close();
    this.holderBeats?.close();
    this.serverChecks?.close();
    this.compat14?.close();
    this.distro?.close();
  }

  /**
   * True once the registry is complete (standalone: at start; cluster: after the snapshot load), until a stop
   * begins or the data directory fails.
   */
  get ready(): boolean {
    return !this.stopping && this.dataFailure === undefined && (this.distro?.isReady ?? true);
  }

  /** Why the cluster runs half-authenticated (members disagree with us about the secret), if it does. */
  get secretMismatch(): string | undefined {
    return this.membership.secrets.problem();
  }

  /** A call claiming member `member` (from its address) was refused for a missing or wrong secret. */
  secretRefusedFrom(member: string): void {
    this.membership.secrets.refusedFrom(member);
  }

  /** Why the data directory takes no more writes (a failed sync), if it failed: fixed by a restart. */
  get dataFailure(): string | undefined {
    return this.persistence?.failure;
  }

  /**
   * False while the node is still loading what its peers hold: a cluster node from its start until its snapshot
   * is loaded, also when restarted from its data directory (it holds its persistent instances, not yet the
   * ephemeral ones). Any view it built from its registry meanwhile could lack instances that exist, so it must
   * not be shown to clients (api/incomplete-view.ts) nor pushed (push/push-service.ts). Standalone: always true.
   * Once true it stays true; a stop does not make it false (unlike `ready`).
   */
  get registryComplete(): boolean {
    return this.distro?.isReady ?? true;
  }

  /** Calls `listener` once the registry is complete: at once if it is, else when the load finishes. */
  whenRegistryComplete(listener: () => void): void {
    if (this.registryComplete) listener();
    else this.completeListeners.push(listener);
  }

  /**
   * How far the load of what the peers hold has come (instances loaded of those the source announced); undefined
   * standalone.
   */
  get loadProgress(): { readonly instancesDone: number; readonly instancesTotal: number } | undefined {
    return this.distro?.loader.progress;
  }

  get isStopping(): boolean {
    return this.stopping;
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

  // ---- what clients and the API use ----

  /**
   * A client write, executed here or forwarded once to the responsible node; answered once what it changed in
   * the data directory (persistent instances, service settings) is on disk and held by every member that is UP
   * (see `durably`).
   */
  write(op: ClientWrite, options?: { readonly forwarded?: boolean }): Promise<WriteResult> {
    return this.durably(() => this.router.write(op, options), serviceKey(op.service));
  }

  /** This node's member address: the `node` of the bindings of the connections it holds. */
  get selfAddress(): string {
    return this.config.self;
  }

  /** Every datum this node holds, read-only. */
  get registry(): RegistryView {
    return this.store;
  }

  /** Forgets the tombstones (of instances and table rows) past the purge horizon now, as the periodic purge does. */
  purge(): void {
    this.noteTablesHeld();
    const horizon = this.purgeHorizon();
    this.store.purge();
    const forgotten = this.tables.purge(horizon);
    if (forgotten > 0) this.log.info("table removals forgotten: every member holds them", { rows: forgotten });
    this.persistence?.purge(horizon);
  }

  /** Changes a switch (validated as 1.4 does); resolves once the change is durable. */
  async updateSwitch(entry: string, value: string): Promise<void> {
    await this.durably(async () => {
      const state = this.clusterSwitches.update(entry, value, this.scheduler.now());
      this.persistence?.saveSwitches(state);
    });
  }

  /** `UP` unless the `overriddenServerStatus` switch says otherwise (a loading node still serves; readiness tells). */
  get serverStatus(): string {
    return this.switches.overriddenServerStatus ?? "UP";
  }

  /** The member responsible for a grouped service name (this node when standalone). */
  ownerOf(groupedName: string): string {
    return this.standalone ? this.config.self : this.mapper.ownerOf(groupedName);
  }

  isResponsible(groupedName: string): boolean {
    return this.standalone || this.mapper.responsible(groupedName);
  }

  cluster(): ClusterView {
    const transportOf = this.ports.transportOf;
    return {
      selfAddress: this.config.self,
      standalone: this.standalone,
      members: this.members.all(),
      selfInfo: this.selfInfo(),
      peerTransportOf: (address) => (address === this.config.self || this.standalone ? undefined : transportOf?.(address)),
    };
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
      connectionCount: this.connections.size,
      // Nothing to spread until an operator changed a switch somewhere.
      ...(this.clusterSwitches.state.version.counter > 0 ? { switches: this.clusterSwitches.state } : {}),
      ...this.tablesInfo(),
    };
  }

  private tablesInfo(): { tables?: readonly TableRow[] } {
    const rows = this.tables.all();
    return rows.length === 0 ? {} : { tables: rows };
  }

  stats(): NodeStats {
    const membersByState: Record<MemberState, number> = { STARTING: 0, UP: 0, SUSPICIOUS: 0, DOWN: 0 };
    for (const member of this.members.all()) membersByState[member.state]++;
    const base = {
      ready: this.ready,
      services: this.store.serviceCount,
      instances: this.store.instanceCount,
      membersHealthy: this.members.healthy().length,
      membersByState,
      heartbeatExpired: this.checker.expired,
      probesStarted: { ...(this.serverChecks?.started ?? { tcp: 0, http: 0 }) },
    };
    const d = this.distro;
    if (d === undefined) return base;
    const p = d.loader.progress;
    return {
      ...base,
      distro: {
        snapshotKeysLoaded: p.keysDone,
        snapshotKeysTotal: p.keysTotal,
        snapshotInstancesLoaded: p.instancesDone,
        snapshotInstancesTotal: p.instancesTotal,
        snapshotResumes: p.resumes,
        syncPending: d.sync.pendingTasks,
        syncByPeer: d.sync.peerBacklogs(),
        datumsSent: d.sync.sentDatums,
        syncFailedBatches: d.sync.failedBatches,
        datumsReceived: d.received,
        verifyFetched: d.verify.fetched,
        verifyRemoved: d.verify.removed,
        refusedAhead: this.store.refusedAhead,
        refusedByPeers: d.sync.refusedByPeers,
        tombstonePurgeLagMs: this.scheduler.now() - this.purgeHorizon(),
      },
    };
  }

  /**
   * Runs a write and answers once what it changed in the data directory is on disk. A client's write of
   * `key` that changed it (persistent data: Nacos 1.4 answers those once a majority holds them) also waits
   * until every member that is UP has answered the sync carrying it, for `--sync-delay-ms` at most: the SDKs
   * read from a random server per call, and a register answered before the others hold it would be missing
   * from the very next read.
   */
  private async durably<T>(run: () => Promise<T>, key?: string): Promise<T> {
    const before = this.persistence?.changes ?? 0;
    const result = await run();
    if (this.persistence === undefined || this.persistence.changes === before) return result;
    // Both waits start now, before any timer can send the batch that carries the change.
    await Promise.all([this.persistence.durableSince(before), key === undefined ? undefined : this.replicated(key)]);
    return result;
  }

  /** Resolves once every UP peer has answered the sync carrying this node's latest change of `key` (bounded). */
  private async replicated(key: string): Promise<void> {
    const up = (peer: string): boolean => this.members.get(peer)?.state === "UP";
    await this.distro?.sync.delivered(key, up, this.config.distro.sync.delayMs);
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

  /** Membership takes (and spreads) what a member reports; a report from anyone else changes nothing. */
  onReport(reporter: MemberInfo): MemberInfo {
    return this.membership.onReport(reporter);
  }

  onForward(write: ClientWrite): Promise<ForwardOutcome> {
    return this.durably(() => this.router.onForward(write), serviceKey(write.service));
  }

  isMember(address: string): boolean {
    return this.members.isMember(address);
  }

  // ---- Nacos14Handler: what Nacos 1.4 peers may ask on top ----

  onOwnerLists(callerIp: string, named: string | undefined, lists: readonly OwnerList[]): SyncOutcome {
    return this.requireCompat14().onOwnerLists(callerIp, named, lists);
  }

  onChecksums(source: string, checksums: ReadonlyMap<string, string>, viewHash: string | undefined): void {
    // As for digests (DistroVerify.onDigest): a loading node would fetch everything its snapshot brings.
    if (this.distro?.isReady === false) return;
    this.requireCompat14().onChecksums(source, checksums, viewHash);
  }

  onServiceStatus(source: string, report: ServiceChecksums): void {
    this.requireCompat14().onServiceStatus(source, report);
  }

  peers(): readonly string[] {
    return this.members.peers();
  }

  // ---- inside ----

  private requireDistro(): DistroProtocol {
    if (this.distro === undefined) throw new Error("standalone node: no peer protocol");
    return this.distro;
  }

  private requireCompat14(): Nacos14Compat {
    if (this.compat14 === undefined) throw new Error("this node does not speak the Nacos 1.4 peer protocol");
    return this.compat14;
  }

  /**
   * Through when every peer confirmed holding what this node owns (verify) and every table tombstone it holds
   * (their reports); standalone: always.
   */
  private confirmedThrough(): number {
    if (this.distro === undefined) return this.scheduler.now();
    const peers = this.members.peers();
    let through = Math.min(this.scheduler.now(), this.distro.verify.confirmedThrough(peers));
    for (const peer of peers) {
      const info = this.members.get(peer)?.info;
      // A member that keeps no versioned data (Nacos 1.4) keeps no tables either.
      if (info === undefined || info.confirmedThrough !== undefined) through = Math.min(through, this.tablesHeldBy.get(peer) ?? 0);
    }
    return through;
  }

  /**
   * Takes in what each peer's last report showed it holds of the table tombstones here, capped by when that
   * report came, so a removal made here after it is not vouched for (one made elsewhere is vouched for by the
   * member that made it: the purge horizon takes every member's word).
   */
  private noteTablesHeld(): void {
    for (const member of this.members.all()) {
      const info = member.info;
      if (member.address === this.config.self || info === undefined) continue;
      const through = Math.min(member.lastRefreshTime, this.tables.confirmedBy(info.tables ?? []));
      this.tablesHeldBy.set(member.address, Math.max(this.tablesHeldBy.get(member.address) ?? 0, through));
    }
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
