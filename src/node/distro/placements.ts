/**
 * Where each service sits in this node's view — its owner, its verify bucket — and what it adds to its bucket's
 * hash, kept per service until the service or the member view changes. A verify round then walks cached
 * numbers instead of hashing every service name and digest again every period (at 100k services that was
 * ~100 ms of blocked event loop per round, and one more per peer's summary).
 */
import { parseServiceKey } from "../../core/naming.js";
import type { RegistryView } from "../../core/registry.js";
import type { ServiceState } from "../../core/service-record.js";
import type { DigestEntry } from "../ports.js";
import { combine, contribution, digestBucket } from "./digest.js";
import { distroHash, type DistroMapper } from "./distro-mapper.js";

interface Placement {
  view: string;
  owner: string;
  /** `distroHash` of the grouped name: what the owner is computed from in any view. */
  readonly hash: number;
  readonly bucket: number;
  revision: number;
  digest: string;
  hi: number;
  lo: number;
}

export class Placements {
  private readonly held = new WeakMap<ServiceState, Placement>();

  constructor(
    private readonly registry: RegistryView,
    private readonly mapper: DistroMapper,
    readonly bucketCount: number,
  ) {
    // Placing a service as it changes spreads the work over the writes and merges that made it, so the first
    // round after a snapshot load has nothing left to compute.
    registry.onChange((change) => {
      if (change.service !== undefined) this.of(change.service);
    });
  }

  /** (key, digest) of every service held here that `owner` is responsible for, optionally only in some buckets. */
  ownedBy(owner: string, buckets?: ReadonlySet<number>): DigestEntry[] {
    const out: DigestEntry[] = [];
    for (const service of this.registry.services()) {
      const p = this.of(service);
      if (p.owner === owner && (buckets === undefined || buckets.has(p.bucket))) out.push({ key: service.key, digest: p.digest });
    }
    return out;
  }

  /** The bucket hashes of what `owner` is responsible for, as `bucketHashes(ownedBy(owner))` computes them. */
  hashesOf(owner: string): string[] {
    const parts: Placement[] = [];
    for (const service of this.registry.services()) {
      const p = this.of(service);
      if (p.owner === owner) parts.push(p);
    }
    return combine(parts, this.bucketCount);
  }

  private of(service: ServiceState): Placement {
    const view = this.mapper.viewHash;
    let p = this.held.get(service);
    if (p === undefined) {
      const hash = distroHash(parseServiceKey(service.key).groupedName);
      p = { view: "", owner: "", hash, bucket: digestBucket(service.key, this.bucketCount), revision: -1, digest: "", hi: 0, lo: 0 };
      this.held.set(service, p);
    }
    if (p.view !== view) {
      p.view = view;
      p.owner = this.mapper.ownerOfHash(p.hash);
    }
    if (p.revision !== service.revision) {
      p.revision = service.revision;
      p.digest = service.digest;
      [p.hi, p.lo] = contribution(service.key, p.digest);
    }
    return p;
  }
}
