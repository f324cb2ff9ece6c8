/**
 * The member list as the address records of one name (`--members-dns name:port`, a Kubernetes headless
 * Service): every record is a member `ip:port`, this node always one of them. The name is resolved at start and
 * every `refreshMs`, so a StatefulSet scaled up or down changes the cluster without a peer-finder. A failed or
 * empty answer changes nothing (a DNS hiccup does not empty the cluster); an answer is capped at
 * MAX_DISCOVERED_MEMBERS records, so a hostile or huge one costs no more.
 */
import { joinAddress } from "../../core/address.js";
import type { Log } from "../../core/log.js";
import { every, type Scheduler, type TimerHandle } from "../../core/scheduler.js";
import type { NameResolver } from "../ports.js";
import { distinctAddresses } from "./member-names.js";

/** The most members a DNS answer may name: far above any Nacos cluster, far below what could hurt. */
export const MAX_DISCOVERED_MEMBERS = 64;

export interface MemberDiscoveryConfig {
  /** The name whose records are the members, and the HTTP port every member listens on. */
  readonly name: string;
  readonly port: number;
  readonly refreshMs: number;
}

export class MemberDiscovery {
  private timer: TimerHandle | undefined;
  private known = "";
  private failing = false;

  constructor(
    private readonly config: MemberDiscoveryConfig,
    private readonly resolver: NameResolver,
    private readonly scheduler: Scheduler,
    /** Called with the member addresses (this node's not necessarily among them) whenever they change. */
    private readonly onMembers: (members: readonly string[]) => void,
    private readonly log: Log,
  ) {}

  /** Resolves the name now (resolving once that is done), then every `refreshMs`. */
  start(): Promise<void> {
    this.timer = every(this.scheduler, this.config.refreshMs, () => this.refresh());
    return this.refresh();
  }

  close(): void {
    this.timer?.cancel();
  }

  private async refresh(): Promise<void> {
    const { name, port } = this.config;
    let answer: string[];
    try {
      answer = await this.resolver(name);
    } catch (err) {
      if (!this.failing)
        this.log.warn("the members' DNS name does not resolve: the member list stays as it was", { name, error: String(err) });
      this.failing = true;
      return;
    }
    this.failing = false;
    const { addresses, distinct } = distinctAddresses(answer, MAX_DISCOVERED_MEMBERS);
    if (distinct > MAX_DISCOVERED_MEMBERS) {
      this.log.warn("the members' DNS name has more records than a cluster may have: the first ones are taken", {
        name,
        records: distinct,
        taken: MAX_DISCOVERED_MEMBERS,
      });
    }
    const members = addresses.map((ip) => joinAddress(ip, port));
    const key = members.join(",");
    if (members.length === 0 || key === this.known) return;
    this.known = key;
    this.onMembers(members);
  }
}
