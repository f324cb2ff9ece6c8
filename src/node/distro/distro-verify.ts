/**
 * Anti-entropy. Each period a ready node summarises the keys it is responsible for and sends every peer
 * one bucketed digest; the peer answers with the buckets that differ, gets their entries, fetches and merges
 * every datum that differs, and sends back what the owner lacks (merges are commutative, so both sides end
 * equal). Repairs that remove or push data happen only when
 * both nodes are ready and their member views hash the same — the disagreement that made Nacos 1.x delete
 * live data (alibaba/nacos#7734, #8436) is detected by comparing `viewHash`, not guessed.
 */
import type { Log } from "../../core/log.js";
import { parseServiceKey } from "../../core/naming.js";
import type { ApplyOutcome, Registry, RegistryChange } from "../../core/registry.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import {
  type DigestEntry,
  NotReadyError,
  type PeerTransport,
  type VerifyDetail,
  type VerifyDigest,
  type VerifyReply,
  type VerifySummary,
} from "../ports.js";
import { digestBucket } from "./digest.js";
import type { DistroMapper } from "./distro-mapper.js";
import { Placements } from "./placements.js";

export interface VerifyConfig {
  readonly bucketCount: number;
  /** Keys per query when fetching what a digest showed to be newer. */
  readonly queryBatchKeys: number;
  /** Estimated bytes of one detail round; more buckets go in further rounds. */
  readonly maxDetailBytes: number;
}

export interface VerifyDeps {
  readonly self: string;
  readonly registry: Registry;
  readonly mapper: DistroMapper;
  readonly transport: PeerTransport;
  readonly ready: () => boolean;
  /** Versions older than this may be of tombstones this node already purged. */
  readonly purgeHorizon: () => number;
  readonly clock: () => number;
  /** Sends keys this node holds to a peer that lacks them. */
  readonly pushTo: (peer: string, keys: string[]) => void;
  /** Merges a datum fetched from `source` (the owner) into the registry. */
  readonly merge: (source: string, datum: ServiceDatum) => ApplyOutcome;
  /** A peer without versioned digests (Nacos 1.4) is verified another way; none: nothing more is sent. */
  readonly verifyWithoutDigests?: (peer: string, viewHash: string) => Promise<void>;
  readonly log: Log;
}

export class DistroVerify {
  fetched = 0;
  removed = 0;
  pushedUp = 0;
  /**
   * Per peer, the start of the last round in which the peer held exactly what this node owns (no bucket
   * differed). Every tombstone this node held for its own keys by then is known to be on that peer.
   */
  private readonly confirmed = new Map<string, number>();
  /** The member view the confirmations were made in: keys it did not give this node they do not cover. */
  private confirmedView = "";
  /** Per owner, the digests it reported last round for keys that differed here. */
  private readonly reported = new Map<string, Map<string, string>>();

  private readonly placements: Placements;

  constructor(
    private readonly deps: VerifyDeps,
    private readonly config: VerifyConfig,
  ) {
    this.placements = new Placements(deps.registry, deps.mapper, config.bucketCount);
    // Learning from a peer something of a key this node owns (a tombstone it missed while restarting, say)
    // voids what peers confirmed since its version: they confirmed holding what this node held, which lacked
    // it. What peers confirmed before that version still holds, so a fresh write learned from a peer (a 2.x
    // client's instance written by the node holding its connection, every few seconds in a busy cluster)
    // holds back no purge.
    deps.registry.onChange((change) => {
      if (change.origin !== "remote" || !deps.mapper.responsible(parseServiceKey(change.key).groupedName)) return;
      const learned = oldestLearned(change);
      if (learned === undefined) return;
      for (const [peer, through] of this.confirmed) if (through > learned) this.confirmed.set(peer, learned);
    });
  }

  /** One verify round towards every peer; peers are independent, so one slow peer delays no other. */
  async round(peers: readonly string[]): Promise<void> {
    if (!this.deps.ready()) return;
    const startedAt = this.deps.clock();
    const summary: VerifySummary = { ...this.base(), kind: "summary", bucketHashes: this.placements.hashesOf(this.deps.self) };
    await Promise.all(peers.map((peer) => this.verifyPeer(peer, summary, startedAt)));
  }

  /**
   * The time through which every one of `peers` is known to hold everything this node is responsible for
   * (0 while any has never confirmed a round): tombstones of this node's keys older than that are on every
   * peer and may be forgotten without coming back.
   */
  confirmedThrough(peers: readonly string[]): number {
    if (this.confirmedView !== this.deps.mapper.viewHash) return 0;
    let through = Number.POSITIVE_INFINITY;
    for (const peer of peers) through = Math.min(through, this.confirmed.get(peer) ?? 0);
    return through;
  }

  /**
   * Handles a digest from `digest.source`. A node still loading its snapshot refuses: every key would differ
   * and be fetched a second time beside the stream bringing it, and the owner must not count such a round as
   * confirming anything; its rounds resume once the node is ready.
   */
  onDigest(digest: VerifyDigest): VerifyReply {
    if (!this.deps.ready()) throw new NotReadyError("not comparing digests yet");
    if (digest.bucketCount !== this.config.bucketCount && digest.kind === "summary") {
      // Different bucketing: every bucket is suspect, so ask for all of them.
      return { mismatchedBuckets: Array.from({ length: digest.bucketCount }, (_, b) => b) };
    }
    if (digest.kind === "summary") {
      const mismatchedBuckets = this.mismatched(digest);
      // In step with the owner: nothing it reported before still matters.
      if (mismatchedBuckets.length === 0) this.reported.delete(digest.source);
      return { mismatchedBuckets };
    }
    this.repair(digest);
    return { mismatchedBuckets: [] };
  }

  private base(): Omit<VerifySummary, "kind" | "bucketHashes"> {
    return {
      source: this.deps.self,
      viewHash: this.deps.mapper.viewHash,
      purgeHorizon: this.deps.purgeHorizon(),
      bucketCount: this.config.bucketCount,
    };
  }

  private async verifyPeer(peer: string, summary: VerifySummary, startedAt: number): Promise<void> {
    try {
      const reply = await this.deps.transport.verify(peer, summary);
      if (reply.digestsUnsupported === true) {
        // A 1.4 peer keeps no versions, so it can hand no removal back: nothing of it holds tombstones back.
        this.confirm(peer, startedAt, summary.viewHash);
        await this.deps.verifyWithoutDigests?.(peer, summary.viewHash);
        return;
      }
      if (reply.mismatchedBuckets.length === 0) {
        this.confirm(peer, startedAt, summary.viewHash);
        return;
      }
      const asked = new Set(reply.mismatchedBuckets);
      for (const detail of this.details(reply.mismatchedBuckets, this.placements.ownedBy(this.deps.self, asked), summary.bucketCount)) {
        await this.deps.transport.verify(peer, detail);
      }
    } catch (err) {
      this.deps.log.debug("verify failed", { peer, error: String(err) });
    }
  }

  /**
   * The detail rounds for the buckets a peer asked about, each within `maxDetailBytes`. A detail must hold
   * whole buckets (the receiver reads a key missing from a listed bucket as missing at the owner), so
   * buckets are packed, never split.
   */
  private details(asked: readonly number[], owned: readonly DigestEntry[], bucketCount: number): VerifyDetail[] {
    const byBucket = new Map<number, DigestEntry[]>();
    for (const b of asked) if (Number.isInteger(b) && b >= 0 && b < bucketCount) byBucket.set(b, []);
    for (const e of owned) byBucket.get(digestBucket(e.key, bucketCount))?.push(e);
    const details: VerifyDetail[] = [];
    let buckets: number[] = [];
    let entries: DigestEntry[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (buckets.length > 0) details.push({ ...this.base(), kind: "detail", buckets, entries });
      buckets = [];
      entries = [];
      bytes = 0;
    };
    for (const [bucket, inBucket] of byBucket) {
      const size = inBucket.reduce((n, e) => n + 16 + e.key.length * 3 + e.digest.length, 8);
      if (bytes + size > this.config.maxDetailBytes) flush();
      buckets.push(bucket);
      entries.push(...inBucket);
      bytes += size;
    }
    flush();
    return details;
  }

  /** A round started at `startedAt` in view `view` found `peer` holding what this node owns. */
  private confirm(peer: string, startedAt: number, view: string): void {
    if (view !== this.deps.mapper.viewHash) return; // the view moved during the round
    if (view !== this.confirmedView) {
      // Confirmations from another view covered other keys.
      this.confirmed.clear();
      this.confirmedView = view;
    }
    this.confirmed.set(peer, Math.max(startedAt, this.confirmed.get(peer) ?? 0));
  }

  private mismatched(summary: VerifySummary): number[] {
    const mine = this.placements.hashesOf(summary.source);
    const out: number[] = [];
    for (let b = 0; b < summary.bucketCount; b++) if (mine[b] !== summary.bucketHashes[b]) out.push(b);
    return out;
  }

  private repair(detail: VerifyDetail): void {
    const { registry, mapper } = this.deps;
    const differing = this.settledDifferences(detail);
    if (differing.length > 0) void this.fetch(detail.source, differing);
    if (!this.deps.ready() || detail.viewHash !== mapper.viewHash) return;
    const theirs = new Set(detail.entries.map((e) => e.key));
    if (detail.bucketCount !== this.config.bucketCount) return;
    const missingThere = this.placements.ownedBy(detail.source, new Set(detail.buckets)).filter((e) => !theirs.has(e.key));
    const pushUp: string[] = [];
    for (const { key } of missingThere) {
      const datum = registry.service(key)!;
      // The owner's horizon is honoured only as far as ours goes: a peer cannot make this node forget early.
      if (datum.deleted && datum.version.counter < Math.min(detail.purgeHorizon, this.deps.purgeHorizon())) {
        // A deleted service older than anything the owner still remembers: the owner forgot it long ago.
        registry.forget(key);
        this.removed++;
      } else {
        // Recent data the owner never saw (e.g. the previous owner's last write reached only us).
        pushUp.push(key);
      }
    }
    if (pushUp.length > 0) {
      this.pushedUp += pushUp.length;
      this.deps.pushTo(detail.source, pushUp);
    }
  }

  /**
   * The keys whose copy here differs from the owner's, fetched only once the owner's copy has held still for a
   * round (it reported the same digest last round): a key that is being written right now differs in every
   * round while its deltas are in flight, and fetching it would only re-send what replication is delivering.
   */
  private settledDifferences(detail: VerifyDetail): string[] {
    const previous = this.reported.get(detail.source) ?? new Map<string, string>();
    const next = new Map<string, string>();
    const listed = new Set<string>();
    const settled: string[] = [];
    for (const { key, digest } of detail.entries) {
      listed.add(key);
      if (this.deps.registry.service(key)?.digest === digest) continue;
      if (previous.get(key) === digest) settled.push(key);
      else next.set(key, digest);
    }
    // A detail round covers some buckets at a time: keys of other buckets keep their record.
    for (const [key, digest] of previous) if (!listed.has(key)) next.set(key, digest);
    this.reported.set(detail.source, next);
    return settled;
  }

  /** Fetches the owner's copies and merges them; where ours held something theirs lacked, sends ours back. */
  private async fetch(source: string, keys: string[]): Promise<void> {
    const { registry } = this.deps;
    for (let i = 0; i < keys.length; i += this.config.queryBatchKeys) {
      const batch = keys.slice(i, i + this.config.queryBatchKeys);
      try {
        const theirs = await this.deps.transport.query(source, batch);
        const richer: string[] = [];
        for (const datum of theirs) {
          const outcome = this.deps.merge(source, datum);
          if (outcome === "applied") this.fetched++;
          // A refused copy is not answered with ours: the owner's clock is wrong, not its data short.
          if (outcome !== "ahead" && registry.service(datum.key)?.digest !== datum.digest) richer.push(datum.key);
        }
        if (richer.length > 0) {
          this.pushedUp += richer.length;
          this.deps.pushTo(source, richer);
        }
      } catch (err) {
        this.deps.log.debug("verify fetch failed; next round retries", { source, error: String(err) });
        return;
      }
    }
  }
}

/** The oldest version counter a change brought in (none when it only forgot something). */
function oldestLearned(change: RegistryChange): number | undefined {
  let oldest = change.metaChanged && change.service !== undefined ? change.service.metaVersion.counter : Number.POSITIVE_INFINITY;
  for (const { after } of change.entries) if (after !== undefined) oldest = Math.min(oldest, after.version.counter);
  return Number.isFinite(oldest) ? oldest : undefined;
}
