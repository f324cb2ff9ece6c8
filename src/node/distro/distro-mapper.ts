/**
 * Which member is responsible for a service: Nacos 1.4's DistroMapper, bit for bit, so a mixed cluster with
 * 1.4 nodes agrees on every owner. The hash is Java's `String.hashCode` of the grouped name (not
 * namespaced), taken over the healthy (UP or SUSPICIOUS) members sorted as Java sorts strings.
 */
import { createHash } from "node:crypto";

/** Java `String.hashCode`: int32 arithmetic over UTF-16 code units. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/** `abs(hashCode % Integer.MAX_VALUE)`, as 1.4's `DistroUtils.distroHash`. */
export function distroHash(s: string): number {
  return Math.abs(javaStringHash(s) % 2147483647);
}

export class DistroMapper {
  private healthy: readonly string[] = [];
  private hash = "";

  constructor(private readonly self: string) {
    this.update([self]);
  }

  /** Replaces the healthy list; returns whether responsibility may have moved. */
  update(addresses: readonly string[]): boolean {
    // Sorting by UTF-16 code units, as Java's String.compareTo, keeps every node's order identical.
    const next = [...new Set(addresses)].sort();
    if (next.length === this.healthy.length && next.every((a, i) => a === this.healthy[i])) return false;
    this.healthy = next;
    this.hash = createHash("md5").update(next.join(",")).digest("hex").slice(0, 16);
    return true;
  }

  get members(): readonly string[] {
    return this.healthy;
  }

  /** A short fingerprint of the healthy list; equal on two nodes iff they compute the same owners. */
  get viewHash(): string {
    return this.hash;
  }

  ownerOf(groupedName: string): string {
    return this.ownerOfHash(distroHash(groupedName));
  }

  /** The owner of a grouped name whose `distroHash` is known (it does not change with the view). */
  ownerOfHash(hash: number): string {
    if (this.healthy.length === 0) return this.self;
    return this.healthy[hash % this.healthy.length] as string;
  }

  /** 1.4 rule: a node missing from its own healthy list treats itself as responsible for everything. */
  responsible(groupedName: string): boolean {
    if (!this.healthy.includes(this.self)) return true;
    return this.ownerOf(groupedName) === this.self;
  }
}
