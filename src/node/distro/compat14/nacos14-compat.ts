/**
 * Everything a Nacos 1.4 peer needs that ts-nacos peers do not, in one place: its unversioned owner lists and
 * health maps are taken in the writer's name (owner-lists.ts), its checksum verify rounds and service-status
 * reports are answered by fetching what differs (checksum-verify.ts, status-receiver.ts), and it is sent 1.4's
 * checksums and service statuses in turn (a 1.4 peer has no versioned digests). The node hands the 1.4 parts
 * of its inbound port here; the calls out go through the Nacos14Peers port.
 */
import { nacos14Checksum } from "../../../core/checksum.js";
import type { Log } from "../../../core/log.js";
import type { Registry } from "../../../core/registry.js";
import type { Scheduler } from "../../../core/scheduler.js";
import type { ServiceDatum } from "../../../core/service-datum.js";
import type { MemberTable } from "../../cluster/member-table.js";
import { SYNC_ACCEPTED, type Nacos14Peers, type OwnerList, type ServiceChecksums, type SyncOutcome } from "../../ports.js";
import type { DistroMapper } from "../distro-mapper.js";
import { ChecksumVerifyReceiver, type VerifyReceiverConfig } from "./checksum-verify.js";
import { OwnerLists } from "./owner-lists.js";
import { StatusReceiver } from "./status-receiver.js";
import { StatusReporter } from "./status-reporter.js";

export interface Nacos14CompatDeps {
  readonly registry: Registry;
  readonly mapper: DistroMapper;
  readonly members: MemberTable;
  readonly peers: Nacos14Peers;
  /** Merges a versioned datum a ts-nacos peer sent over the 1.4 protocol, as any sync. */
  readonly merge: (source: string, datums: readonly ServiceDatum[]) => SyncOutcome;
  /** The peers reached over the 1.4 protocol right now (they get service-status reports). */
  readonly httpPeers: () => readonly string[];
  readonly ready: () => boolean;
  readonly scheduler: Scheduler;
  readonly log: Log;
  readonly config: Nacos14Config;
}

export interface Nacos14Config extends VerifyReceiverConfig {
  /** How often service checksums are reported to 1.4 peers. */
  readonly statusReportMs: number;
}

export class Nacos14Compat {
  readonly lists: OwnerLists;
  private readonly checksums: ChecksumVerifyReceiver;
  private readonly statuses: StatusReceiver;
  private readonly reporter: StatusReporter;

  constructor(private readonly deps: Nacos14CompatDeps) {
    const { registry, mapper, members, peers, scheduler, log } = deps;
    this.lists = new OwnerLists(registry, mapper, members);
    const apply = (list: OwnerList, writer: string): void => void this.take(list, writer);
    this.checksums = new ChecksumVerifyReceiver({ ingest: this.lists, client: peers, apply, scheduler, log }, deps.config);
    this.statuses = new StatusReceiver(this.lists, peers, log);
    this.reporter = new StatusReporter(
      {
        scheduler,
        owned: this.lists,
        ready: deps.ready,
        peers: deps.httpPeers,
        send: (peer, report) => peers.sendServiceStatus(peer, report),
        log,
      },
      deps.config.statusReportMs,
    );
  }

  start(): void {
    this.reporter.start();
  }

  close(): void {
    this.reporter.close();
  }

  /** A 1.4 sync: each list taken in its writer's name. */
  onOwnerLists(callerIp: string, named: string | undefined, lists: readonly OwnerList[]): SyncOutcome {
    const refused = lists.flatMap((list) => this.take(list, this.lists.writerOf(callerIp, named, list.key)).refused);
    return refused.length === 0 ? SYNC_ACCEPTED : { refused };
  }

  /** Answered at once, repaired in the background (1.4 does the same); a round still running skips this one. */
  onChecksums(source: string, checksums: ReadonlyMap<string, string>, viewHash: string | undefined): void {
    void this.checksums.receive(source, checksums, viewHash);
  }

  onServiceStatus(source: string, report: ServiceChecksums): void {
    void this.statuses.receive(source, report);
  }

  /**
   * A peer without versioned digests gets 1.4's verify round instead: the checksums of the services this node
   * is responsible for. Never an empty map: a 1.4 receiver drops every key it maps to the sender that the map lacks.
   */
  async verifyByChecksums(peer: string, viewHash: string): Promise<void> {
    const checksums = new Map<string, string>();
    for (const service of this.lists.ownedServices()) checksums.set(service.key, nacos14Checksum(service));
    if (checksums.size > 0) await this.deps.peers.sendChecksums(peer, checksums, viewHash);
  }

  /** A list with our versions merges like any sync; a bare 1.4 list replaces what its writer owns. */
  private take(list: OwnerList, writer: string): SyncOutcome {
    if (list.versioned !== undefined) return this.deps.merge(writer, [list.versioned]);
    this.lists.applyOwnerList(list.key, list.instances, writer);
    return SYNC_ACCEPTED;
  }
}
