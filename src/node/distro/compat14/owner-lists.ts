/**
 * What a Nacos 1.4 peer's data does to the registry. A 1.4 peer sends whole ephemeral lists and health maps
 * without versions; each is committed as a write *in the sending member's name* (`Registry.commit(key,
 * content, writer)`): the registry versions it, keeps it (origin "remote") and does not replicate it, because
 * the 1.4 owner sends it to every member itself.
 */
import { splitAddress } from "../../../core/address.js";
import type { MemberState } from "../../cluster/member.js";
import type { MemberTable } from "../../cluster/member-table.js";
import { identityOf, type Instance } from "../../../core/instance.js";
import { parseServiceKey } from "../../../core/naming.js";
import type { Registry } from "../../../core/registry.js";
import { DEFAULT_SERVICE_META } from "../../../core/service-datum.js";
import type { ServiceState } from "../../../core/service-record.js";
import type { DistroMapper } from "../distro-mapper.js";

/** The services this node is responsible for, as verify and the status report send them. */
export interface OwnedServices {
  /** Live (not deleted) services this node is responsible for. */
  ownedServices(): Iterable<ServiceState>;
}

export interface Nacos14Ingest extends OwnedServices {
  readonly self: string;
  /** A live service held here. */
  service(key: string): ServiceState | undefined;
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

/**
 * A 1.4 list has no place for a 2.x client's connection binding: an instance it lists that is bound here stays
 * bound (its holder answers for it), whatever else the 1.4 owner changed in it.
 */
function keepBinding(listed: Instance, current: ServiceState | undefined): Instance {
  const connection = current?.entry(identityOf(listed))?.instance?.connection;
  return connection === undefined ? listed : { ...listed, connection };
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

  *ownedServices(): Iterable<ServiceState> {
    for (const s of this.registry.services()) {
      if (!s.deleted && this.mapper.responsible(parseServiceKey(s.key).groupedName)) yield s;
    }
  }

  service(key: string): ServiceState | undefined {
    return this.registry.liveService(key);
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
    const current = this.registry.liveService(key);
    // An empty list never brings back a service deleted here; a non-empty one is a registration at its owner.
    if (current === undefined && instances.length === 0 && this.registry.service(key) !== undefined) return;
    const persistent = [...(current?.instances() ?? [])].filter((i) => !i.ephemeral);
    const meta = current?.meta ?? DEFAULT_SERVICE_META;
    const listed = instances.map((i) => keepBinding(i, current));
    this.registry.commit(key, { deleted: false, meta, instances: [...persistent, ...listed] }, writer);
  }

  applyHealth(key: string, healthy: ReadonlyMap<string, boolean>, writer: string): void {
    const current = this.registry.liveService(key);
    if (current === undefined) return;
    const put: Instance[] = [];
    for (const i of current.instances()) {
      if (!i.ephemeral || i.marked) continue;
      const next = healthy.get(`${i.ip}:${i.port}`) ?? false;
      if (next !== i.healthy) put.push({ ...i, healthy: next });
    }
    this.registry.update(key, { put }, writer);
  }

  removeWrittenBy(key: string, writer: string): void {
    const current = this.registry.liveService(key);
    if (current === undefined) return;
    const remove: string[] = [];
    for (const e of current.entries()) if (e.instance?.ephemeral === true && e.version.writer === writer) remove.push(e.id);
    this.registry.update(key, { remove }, writer);
  }
}
