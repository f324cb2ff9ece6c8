/**
 * Cluster membership (Nacos's ServerMemberManager + MemberInfoReportTask). Every period this node reports
 * itself to the next peer in round-robin order and re-probes every SUSPICIOUS peer. Success makes a peer UP;
 * a failure makes it SUSPICIOUS, and DOWN after `failThreshold` further failures or `suspicionTimeoutMs`,
 * whichever comes first, or at once when nothing listens at its address — so no peer stays SUSPICIOUS
 * forever (alibaba/nacos#4364, #8664). Peers start DOWN until first heard from (#4948).
 */
import { splitAddress } from "../../core/address.js";
import type { Log } from "../../core/log.js";
import { every, type Scheduler, type TimerHandle } from "../../core/scheduler.js";
import { PeerError, type PeerTransport } from "../ports.js";
import type { Member, MemberInfo, MemberState, TableRow } from "./member.js";
import type { MemberTable } from "./member-table.js";
import { SecretMismatches } from "./secret-mismatches.js";

export interface MembershipConfig {
  readonly reportIntervalMs: number;
  /** A SUSPICIOUS peer goes DOWN when its consecutive failures exceed this (1.4: fail-access-cnt 3). */
  readonly failThreshold: number;
  /** ... or when it has been failing for this long. */
  readonly suspicionTimeoutMs: number;
  /** A member whose clock is further off ours than this is reported (its versions would be refused). */
  readonly maxClockSkewMs: number;
}

export type MembershipListener = (reason: "healthy" | "info") => void;

export class MemberManager {
  private readonly listeners: MembershipListener[] = [];
  private readonly probing = new Set<string>();
  private cursor = 0;
  private timer: TimerHandle | undefined;
  private healthyKey = "";
  private closed = false;
  /** Members that refuse our secret, or whose we refuse (readiness reports them). */
  readonly secrets: SecretMismatches;

  constructor(
    private readonly members: MemberTable,
    private readonly selfInfo: () => MemberInfo,
    private readonly scheduler: Scheduler,
    private readonly transport: PeerTransport | undefined,
    private readonly config: MembershipConfig,
    private readonly log: Log,
  ) {
    this.healthyKey = members.healthy().join(",");
    this.secrets = new SecretMismatches(() => scheduler.now(), config.suspicionTimeoutMs, log);
  }

  onChange(listener: MembershipListener): void {
    this.listeners.push(listener);
  }

  /** Probes every peer once right away (so a starting node learns the cluster fast), then reports periodically. */
  start(): void {
    if (this.transport === undefined || this.closed) return;
    // The first probes wait for the names' first resolution (a name not yet resolved would be dialled as is).
    const names = this.members.names?.start() ?? Promise.resolve();
    void names.then(() => {
      if (!this.closed) for (const peer of this.members.peers()) void this.probe(peer);
    });
    this.timer = every(this.scheduler, this.config.reportIntervalMs, () => this.tick());
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.members.names?.close();
  }

  /**
   * A peer reported itself to us. That proves it can reach us, not that we can reach it, so it does not make
   * the peer UP by itself (an asymmetric partition would flap UP/SUSPICIOUS forever); a peer we do not
   * consider UP is probed right away instead. Unknown reporters are ignored, as in 1.4.
   */
  onReport(reporter: MemberInfo): MemberInfo {
    const member = this.members.get(reporter.address);
    if (member !== undefined && reporter.address !== this.members.self) {
      if (member.state === "UP") this.markUp(reporter.address, reporter);
      else void this.probe(reporter.address);
    }
    return this.selfInfo();
  }

  /** The member list changed (discovered from DNS): new members are probed at once, the healthy set recomputed. */
  setMembers(addresses: readonly string[]): void {
    const { added, removed } = this.members.replace(addresses);
    if (added.length === 0 && removed.length === 0) return;
    this.log.info("member list changed", { added, removed });
    for (const peer of removed) this.transport?.forget?.(peer);
    if (this.timer !== undefined) for (const peer of added) void this.probe(peer);
    this.changed(false, true);
  }

  private tick(): void {
    const peers = this.members.peers();
    if (peers.length === 0) return;
    const target = peers[this.cursor++ % peers.length]!;
    const suspicious = peers.filter((p) => p !== target && this.members.get(p)?.state === "SUSPICIOUS");
    for (const peer of [target, ...suspicious]) void this.probe(peer);
  }

  private async probe(peer: string): Promise<void> {
    if (this.transport === undefined || this.probing.has(peer)) return;
    this.probing.add(peer);
    try {
      const info = await this.transport.report(peer, this.selfInfo());
      this.secrets.acceptedBy(peer);
      this.markUp(peer, info);
    } catch (err) {
      this.markFailure(peer, err);
    } finally {
      this.probing.delete(peer);
    }
  }

  private markUp(address: string, info: MemberInfo): void {
    const member = this.members.get(address);
    if (member === undefined) return;
    const infoChanged = !sameInfo(member.info, info);
    const wasState = member.state;
    member.state = "UP";
    member.failAccessCnt = 0;
    member.failingSince = undefined;
    member.lastRefreshTime = this.scheduler.now();
    member.info = info;
    this.checkClock(member, info);
    if (wasState !== "UP") this.log.info("member is UP", { member: address, was: wasState });
    this.changed(infoChanged);
  }

  /** Reports (once per change of opinion) a member whose clock is off ours by more than the allowed skew. */
  private checkClock(member: Member, info: MemberInfo): void {
    if (info.clock === undefined || info.clock === 0) return;
    const skew = info.clock - this.scheduler.now();
    const wasOff = member.clockSkewMs !== undefined && Math.abs(member.clockSkewMs) > this.config.maxClockSkewMs;
    member.clockSkewMs = skew;
    const off = Math.abs(skew) > this.config.maxClockSkewMs;
    if (off && !wasOff) {
      this.log.warn("member's clock is off this node's by more than the allowed skew: versions from the faster clock are refused", {
        member: member.address,
        skewMs: skew,
        maxClockSkewMs: this.config.maxClockSkewMs,
      });
    } else if (!off && wasOff) {
      this.log.info("member's clock is back within the allowed skew", { member: member.address, skewMs: skew });
    }
  }

  private markFailure(address: string, err: unknown): void {
    const member = this.members.get(address);
    if (member === undefined) return;
    // A member named by host name may have come back elsewhere (a pod restarted with a new IP).
    void this.members.names?.refresh(splitAddress(address).host);
    if (err instanceof PeerError && err.kind === "unauthenticated") this.secrets.refusedBy(address);
    const now = this.scheduler.now();
    member.failAccessCnt++;
    member.failingSince ??= now;
    const refused = err instanceof PeerError && err.kind === "refused";
    const next: MemberState =
      refused ||
      member.state === "DOWN" ||
      member.failAccessCnt > this.config.failThreshold ||
      now - member.failingSince >= this.config.suspicionTimeoutMs
        ? "DOWN"
        : "SUSPICIOUS";
    if (next !== member.state) {
      this.log.warn(`member is ${next}`, { member: address, failures: member.failAccessCnt, error: String(err) });
      member.state = next;
    } else if (member.failAccessCnt === 1) {
      // A member that was never reached (DOWN from the start) changes no state: say once why it cannot be.
      this.log.warn("member is unreachable", { member: address, state: next, error: String(err) });
    }
    this.changed(false);
  }

  /** `peersChanged`: the member list itself changed, so whoever replicates to the peers must hear of it too. */
  private changed(infoChanged: boolean, peersChanged = false): void {
    const key = this.members.healthy().join(",");
    if (key !== this.healthyKey || peersChanged) {
      this.healthyKey = key;
      for (const l of this.listeners) l("healthy");
    }
    if (infoChanged) for (const l of this.listeners) l("info");
  }
}

function sameInfo(a: MemberInfo | undefined, b: MemberInfo): boolean {
  return (
    a !== undefined &&
    a.version === b.version &&
    a.grpcPort === b.grpcPort &&
    a.ready === b.ready &&
    a.abilities.grpcPeer === b.abilities.grpcPeer &&
    a.abilities.httpPeer === b.abilities.httpPeer &&
    a.switches?.version.counter === b.switches?.version.counter &&
    a.switches?.version.writer === b.switches?.version.writer &&
    tablesMark(a.tables) === tablesMark(b.tables)
  );
}

/** Rows only ever move to higher versions, so a sum of their counters moves whenever any row does. */
function tablesMark(rows: readonly TableRow[] | undefined): string {
  const MOD = 1_000_000_007;
  let sum = 0;
  for (const r of rows ?? []) sum = (sum + (r.version.counter % MOD)) % MOD;
  return `${rows?.length ?? 0}:${sum}`;
}
