/**
 * The members of the cluster and what this node knows of each: their states, which MemberManager keeps
 * current, and their last self-descriptions. It is the directory transports look peers up in (where a peer
 * serves gRPC, which protocols it speaks, whether a caller is a member), so they need no closure into the node.
 */
import { GRPC_PORT_OFFSET, joinAddress, splitAddress } from "../../core/address.js";
import type { PeerDirectory } from "../ports.js";
import type { Abilities, Member } from "./member.js";
import type { MemberNames } from "./member-names.js";

const byAddress = (a: Member, b: Member): number => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0);

/** Every member starts DOWN until heard from (1.4 #4948), this node UP. */
function newMember(address: string, self: string, now: number): Member {
  return {
    address,
    state: address === self ? "UP" : "DOWN",
    failAccessCnt: 0,
    failingSince: undefined,
    lastRefreshTime: address === self ? now : 0,
    info: undefined,
    clockSkewMs: undefined,
  };
}

export class MemberTable implements PeerDirectory {
  private readonly members = new Map<string, Member>();
  /** The members, sorted: the set changes only when the member list is discovered from DNS (`replace`). */
  private sorted: readonly Member[];

  constructor(
    readonly self: string,
    addresses: readonly string[],
    now: number,
    /** Where members named by host name are now; none when every member is an IP. */
    readonly names?: MemberNames | undefined,
  ) {
    for (const address of new Set([self, ...addresses])) this.members.set(address, newMember(address, self, now));
    this.sorted = [...this.members.values()].sort(byAddress);
  }

  /**
   * The member list becomes `addresses` (and this node): new members start DOWN, members no longer listed are
   * forgotten. Returns what was added and removed.
   */
  replace(addresses: readonly string[]): { readonly added: string[]; readonly removed: string[] } {
    const next = new Set([this.self, ...addresses]);
    const removed = [...this.members.keys()].filter((a) => !next.has(a));
    const added = [...next].filter((a) => !this.members.has(a));
    for (const address of removed) this.members.delete(address);
    for (const address of added) this.members.set(address, newMember(address, this.self, 0));
    if (added.length > 0 || removed.length > 0) this.sorted = [...this.members.values()].sort(byAddress);
    return { added, removed };
  }

  /** All members including this node, sorted by address. */
  all(): readonly Member[] {
    return this.sorted;
  }

  get(address: string): Member | undefined {
    return this.members.get(address);
  }

  isMember(address: string): boolean {
    return this.members.has(address);
  }

  /** Every member except this node, sorted. */
  peers(): string[] {
    return this.all()
      .map((m) => m.address)
      .filter((a) => a !== this.self);
  }

  /** Addresses in state UP or SUSPICIOUS (1.4's healthy list), this node included, sorted. */
  healthy(): string[] {
    return this.all()
      .filter((m) => m.state === "UP" || m.state === "SUSPICIOUS")
      .map((m) => m.address);
  }

  abilitiesOf(peer: string): Abilities | undefined {
    return this.members.get(peer)?.info?.abilities;
  }

  /** A peer may have been started with --grpc-port; its member report says where it listens. */
  grpcAddressOf(peer: string): string {
    const { host, port } = splitAddress(this.httpAddressOf(peer));
    const advertised = this.members.get(peer)?.info?.grpcPort;
    return joinAddress(host, advertised === undefined || advertised === 0 ? port + GRPC_PORT_OFFSET : advertised);
  }

  httpAddressOf(peer: string): string {
    return this.names?.connectAddressOf(peer) ?? peer;
  }
}
