/**
 * What a Nacos 1.4 peer's data does to the registry. A 1.4 peer sends whole ephemeral lists and health maps
 * without versions; each is committed as a write *in the sending member's name* (`Registry.commit(key,
 * content, writer)`): the registry versions it, keeps it (origin "remote") and does not replicate it, because
 * the 1.4 owner sends it to every member itself.
 */
import { splitAddress } from "../../../core/address.js";
import type { MemberState } from "../../cluster/member.js";
import type { MemberTable } from "../../cluster/member-table.js";
import type { Instance } from "../../../core/instance.js";
import { parseServiceKey } from "../../../core/naming.js";
import type { Registry } from "../../../core/registry.js";
import { DEFAULT_SERVICE_META, type ServiceDatum } from "../../../core/service-datum.js";
import type { DistroMapper } from "../distro-mapper.js";

/** The services this node is responsible for, as verify and the status report send them. */
export interface OwnedDatums {
  /** Live (not deleted) datums whose service this node is responsible for. */
  ownedDatums(): Iterable<ServiceDatum>;
}

export interface Nacos14Ingest extends OwnedDatums {
  readonly self: string;
  /** The live datum of a service held here. */
  datum(key: string): ServiceDatum | undefined;
  /** Every key held here. */
  keys(): Iterable<string>;
  /** The member responsible for a grouped name in this node's view. */
  ownerOf(groupedName: string): string;
  /** This node's `MemberInfo.viewHash`. */
  viewHash(): string;
  memberState(address: string): MemberState | undefined;
  /** Every member address, this node included. */
  members(): readonly string[];
  /** Replaces the service's ephemeral instances with `instances` (persistent ones and metadata stay). */
  applyOwnerList(key: string, instances: readonly Instance[], writer: string): void;
  /** Sets the health of the service's ephemeral, unmarked instances by `ip:port`; absent ones become unhealthy (1.4). */
  applyHealth(key: string, healthy: ReadonlyMap<string, boolean>, writer: string): void;
  /** Removes the service's ephemeral instances whose current entry `writer` wrote. */
  removeWrittenBy(key: string, writer: string): void;
}

export class OwnerLists implements Nacos14Ingest {
  constructor(
    private readonly registry: Registry,
    private readonly mapper: DistroMapper,
    private readonly membership: MemberTable,
  ) {}

  get self(): string {
    return this.membership.self;
  }

  /**
   * Who wrote a list a peer synced: the sender it named (a ts-nacos sender does), else the member at the
   * caller's IP (the key's owner when several members share that IP), else the bare IP. 1.4 names no sender.
   */
  writerOf(callerIp: string, named: string | undefined, key: string): string {
    if (named !== undefined) return named;
    const here = this.members().filter((m) => m !== this.self && splitAddress(m).host === callerIp);
    const owner = this.ownerOf(parseServiceKey(key).groupedName);
    return here.includes(owner) ? owner : (here[0] ?? callerIp);
  }

  *ownedDatums(): Iterable<ServiceDatum> {
    for (const d of this.registry.values()) {
      if (!d.deleted && this.mapper.responsible(parseServiceKey(d.key).groupedName)) yield d;
    }
  }

  datum(key: string): ServiceDatum | undefined {
    return this.registry.getLive(key);
  }

  keys(): Iterable<string> {
    return this.registry.keys();
  }

  ownerOf(groupedName: string): string {
    return this.mapper.ownerOf(groupedName);
  }

  viewHash(): string {
    return this.mapper.viewHash;
  }

  memberState(address: string): MemberState | undefined {
    return this.membership.get(address)?.state;
  }

  members(): readonly string[] {
    return this.membership.all().map((m) => m.address);
  }

  applyOwnerList(key: string, instances: readonly Instance[], writer: string): void {
    const current = this.registry.getLive(key);
    // An empty list never brings back a service deleted here; a non-empty one is a registration at its owner.
    if (current === undefined && instances.length === 0 && this.registry.get(key) !== undefined) return;
    const persistent = current?.instances.filter((i) => !i.ephemeral) ?? [];
    const meta = current?.meta ?? DEFAULT_SERVICE_META;
    this.registry.commit(key, { deleted: false, meta, instances: [...persistent, ...instances] }, writer);
  }

  applyHealth(key: string, healthy: ReadonlyMap<string, boolean>, writer: string): void {
    const current = this.registry.getLive(key);
    if (current === undefined) return;
    const instances = current.instances.map((i) => {
      if (!i.ephemeral || i.marked) return i;
      const next = healthy.get(`${i.ip}:${i.port}`) ?? false;
      return next === i.healthy ? i : { ...i, healthy: next };
    });
    this.registry.commit(key, { ...current, instances }, writer);
  }

  removeWrittenBy(key: string, writer: string): void {
    const current = this.registry.getLive(key);
    if (current === undefined) return;
    const doomed = new Set(
      current.entries.filter((e) => e.instance?.ephemeral === true && e.version.writer === writer).map((e) => e.instance),
    );
    if (doomed.size === 0) return;
    this.registry.commit(key, { ...current, instances: current.instances.filter((i) => !doomed.has(i)) }, writer);
  }
}
