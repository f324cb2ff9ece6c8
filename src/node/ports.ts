/**
 * The ports of a node: how it calls out to its peers (PeerTransport, and Nacos14Peers for what only Nacos 1.4
 * peers need), what the transports may ask of it (PeerHandler, one inbound port for every protocol), and where
 * they look peers up (PeerDirectory). Transports implement and call these and nothing else of the node; the
 * node never knows which transport carries a call.
 *
 * Every outbound call is a request to one peer, addressed by its member address (`ip:port`). Calls either
 * resolve with the peer's answer or reject with a PeerError; none of them retries: retrying is the caller's
 * policy (Distro re-queues, membership counts failures).
 */
import type { Instance } from "../core/instance.js";
import type { ClientWrite, WriteResult } from "../core/ops.js";
import type { ServiceDatum } from "../core/service-datum.js";
import type { Abilities, MemberInfo } from "./cluster/member.js";

/**
 * Which peer protocol a node speaks: the typed gRPC services, Nacos 1.4's HTTP peer API, or per peer by what it
 * advertises (`auto`).
 */
export type PeerTransportMode = "grpc" | "http" | "auto";

export type PeerErrorKind =
  /** Nothing listens at the peer's address: it is down. */
  | "refused"
  /** No answer within the deadline. */
  | "timeout"
  /** Any other failure to reach the peer or read its answer. */
  | "unavailable"
  /** The peer answered and refused the call (not a member, malformed request). */
  | "rejected"
  /** The peer refused the call for a missing or wrong cluster secret. */
  | "unauthenticated";

export class PeerError extends Error {
  constructor(
    readonly kind: PeerErrorKind,
    readonly peer: string,
    message: string,
  ) {
    super(`${peer}: ${message}`);
    this.name = "PeerError";
  }
}

export interface DigestEntry {
  readonly key: string;
  /** `ServiceDatum.digest`: equal digests mean equal datums. */
  readonly digest: string;
}

interface VerifyBase {
  /** Member address of the responsible node sending the digest. */
  readonly source: string;
  /** The sender's `MemberInfo.viewHash`; removals happen only when both sides' hashes match. */
  readonly viewHash: string;
  /** Versions older than this counter may belong to tombstones the sender has already purged. */
  readonly purgeHorizon: number;
  /** Keys are spread over this many buckets by `digestBucket(key, bucketCount)`. */
  readonly bucketCount: number;
}

/**
 * Round one of verify: one hash per bucket over the (key, version) pairs the sender is responsible for.
 * The peer answers with the buckets whose hash differs from its own, so a converged cluster exchanges only
 * `bucketCount` hashes per peer and period instead of one entry per key.
 */
export interface VerifySummary extends VerifyBase {
  readonly kind: "summary";
  readonly bucketHashes: readonly string[];
}

/** Round two: every (key, digest) the sender is responsible for in the buckets the peer asked about. */
export interface VerifyDetail extends VerifyBase {
  readonly kind: "detail";
  readonly buckets: readonly number[];
  readonly entries: readonly DigestEntry[];
}

export type VerifyDigest = VerifySummary | VerifyDetail;

export interface VerifyReply {
  /** For a summary: buckets that differ here. For a detail: always empty. */
  readonly mismatchedBuckets: readonly number[];
  /** The peer has no versioned digests (a Nacos 1.4 node): it is verified with 1.4's checksums instead. */
  readonly digestsUnsupported?: true;
}

/** One bounded piece of a snapshot stream. */
export interface SnapshotChunk {
  readonly datums: readonly ServiceDatum[];
  /** Keys and instances in the whole snapshot, as counted when the stream started (for progress). */
  readonly totalKeys: number;
  readonly totalInstances: number;
  /** Pass this back as `resumeAfter` to continue after this chunk if the stream breaks. */
  readonly resumeToken: string;
}

/** A datum the receiver of a sync did not merge, and why (today: a version far ahead of its clock). */
export interface RefusedDatum {
  readonly key: string;
  readonly reason: string;
}

/** What the receiver of a sync did: it merged every datum except the refused ones. */
export interface SyncOutcome {
  readonly refused: readonly RefusedDatum[];
}

export const SYNC_ACCEPTED: SyncOutcome = Object.freeze({ refused: Object.freeze([]) });

/** What a forwarded client write produced on the responsible node: its result or its refusal. */
export type ForwardOutcome =
  | { readonly ok: true; readonly result: WriteResult }
  | { readonly ok: false; readonly status: number; readonly message: string };

/** The outbound port: everything a node asks of another. */
export interface PeerTransport {
  /**
   * Replicates datums; resolves once the peer has merged every one (or knowingly ignored it as older), with
   * the ones it refused to merge. A refused datum is not retried: the refusal names a fault (a clock far
   * ahead) that a retry cannot mend.
   */
  sync(peer: string, datums: readonly ServiceDatum[]): Promise<SyncOutcome>;
  /** Delivers a verify digest; the peer repairs itself asynchronously (fetching what it lacks). */
  verify(peer: string, digest: VerifyDigest): Promise<VerifyReply>;
  /** Fetches the peer's current datums for the given keys (missing keys are left out). */
  query(peer: string, keys: readonly string[]): Promise<ServiceDatum[]>;
  /** Streams the peer's whole registry in key order, starting after `resumeAfter` ("" for the start). */
  snapshot(peer: string, resumeAfter: string, signal?: AbortSignal): AsyncIterable<SnapshotChunk>;
  /** Reports this node to a peer; resolves with the peer's own description. */
  report(peer: string, self: MemberInfo): Promise<MemberInfo>;
  /** Executes a client write on the peer responsible for it. */
  forward(peer: string, write: ClientWrite): Promise<ForwardOutcome>;
  /** The peer left the member list (`--members-dns`): release what was kept open for it. */
  forget?(peer: string): void;
}

/** A node asked for what it can only give once its registry is complete (a snapshot while it loads one). */
export class NotReadyError extends Error {
  constructor(refused = "not serving snapshots yet") {
    super(`node is still loading its registry; ${refused}`);
    this.name = "NotReadyError";
  }
}

/** A node refused a call it could serve later (too many snapshot streams at once). */
export class BusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BusyError";
  }
}

/**
 * The inbound port: what a node serves to its peers, whichever protocol carried the call. Transports call it
 * after admitting the caller (secret, membership, identity) and decoding the message completely.
 */
export interface PeerHandler {
  onSync(source: string, datums: readonly ServiceDatum[]): SyncOutcome;
  onVerify(digest: VerifyDigest): VerifyReply;
  onQuery(keys: readonly string[]): ServiceDatum[];
  /**
   * Throws NotReadyError until this node's own registry is complete, BusyError while it serves as many streams
   * as it allows. The slot is freed when the iteration ends or is returned early.
   */
  onSnapshot(resumeAfter: string): AsyncIterable<SnapshotChunk>;
  onReport(reporter: MemberInfo): MemberInfo;
  onForward(write: ClientWrite): Promise<ForwardOutcome>;
  /** Whether `address` is a member this node knows (calls from anyone else are refused, with or without a secret). */
  isMember(address: string): boolean;
}

/** What Nacos 1.4 peers may ask on top: their messages carry owner lists and checksums, not versioned datums. */
export interface Nacos14Handler extends PeerHandler {
  /**
   * Owner lists a Nacos 1.4 sync carried. A list that came with our versions (`versioned`) is merged like any
   * sync; a bare list replaces the ephemeral instances its writer owns. `named` is the sender the request named
   * (already checked to be the caller), `callerIp` the connection's address (1.4 names no sender).
   */
  onOwnerLists(callerIp: string, named: string | undefined, lists: readonly OwnerList[]): SyncOutcome;
  /** A Nacos 1.4 verify round: the source's checksums of what it owns; repaired in the background. */
  onChecksums(source: string, checksums: ReadonlyMap<string, string>, viewHash: string | undefined): void;
  /** A Nacos 1.4 service-status report: the source's service checksums; differing health is fetched. */
  onServiceStatus(source: string, report: ServiceChecksums): void;
  /** Every member but this node: a 1.4 sync names no sender, so it must come from the address of one of them. */
  peers(): readonly string[];
  /** A call naming `member`, from its address, was refused for a missing or wrong secret (readiness reports it). */
  secretRefusedFrom?(member: string): void;
}

/** Resolves a member's host name to its addresses (node:dns in the process, a fake in tests). */
export type NameResolver = (host: string) => Promise<string[]>;

/** Where transports look peers up: who is a member and what each said about itself. */
export interface PeerDirectory {
  isMember(address: string): boolean;
  /** The abilities in the peer's last self-description; undefined until it has been heard from. */
  abilitiesOf(peer: string): Abilities | undefined;
  /**
   * Where the peer serves gRPC (`ip:port`, its host name resolved as of now): the port it advertised, else its
   * HTTP port + 1001.
   */
  grpcAddressOf(peer: string): string;
  /** Where the peer's HTTP port is reached now (`ip:port`, its host name resolved as of now). */
  httpAddressOf(peer: string): string;
}

/** The outbound calls only Nacos 1.4 peers need (ts-nacos peers get versioned datums and digests instead). */
export interface Nacos14Peers {
  /** `GET /v1/ns/distro/datum`: the peer's owner lists of `keys` (keys it lacks are left out). */
  fetchLists(peer: string, keys: readonly string[]): Promise<OwnerList[]>;
  /** `GET /v1/ns/instance/statuses?key=`: health of the service's instances, by `ip:port`. */
  fetchStatuses(peer: string, key: string): Promise<Map<string, boolean>>;
  /** `PUT /v1/ns/distro/checksum`: 1.4's verify round, the checksums of what this node owns. */
  sendChecksums(peer: string, checksums: ReadonlyMap<string, string>, viewHash: string): Promise<void>;
  /** `POST /v1/ns/service/status`: one namespace's service checksums, so the peer fetches differing health. */
  sendServiceStatus(peer: string, report: ServiceChecksums): Promise<void>;
}

/**
 * A service's list as a Nacos 1.4 peer sends it: its live ephemeral instances, without versions; a ts-nacos
 * node sending over the 1.4 protocol adds its versioned datum.
 */
export interface OwnerList {
  /** Our service key. */
  readonly key: string;
  /** The live ephemeral instances of `instanceList`. */
  readonly instances: readonly Instance[];
  readonly versioned: ServiceDatum | undefined;
}

/** 1.4's `ServiceManager.ServiceChecksum`: service checksums of one namespace, by grouped name. */
export interface ServiceChecksums {
  readonly namespaceId: string;
  readonly serviceName2Checksum: Readonly<Record<string, string>>;
}

/**
 * The data directory as the node sees it: a durable map of keys to JSON-shaped values (plain objects, strings,
 * numbers, booleans, null). A put or remove shows in `entries` at once and reaches the disk with the next group
 * commit; `durable()` resolves once everything put or removed before the call is on disk, which is when a
 * write that changed it may be acknowledged.
 */
export interface DurableStore {
  /** What the store holds, as of now (at start: what an earlier process left). */
  entries(): IterableIterator<readonly [string, unknown]>;
  put(key: string, value: unknown): void;
  remove(key: string): void;
  /** Puts and removes so far: a write that sees it move must wait for `durable()`. */
  readonly changes: number;
  /** Rejects, with the reason, when the disk failed to take what was put (the write is then not acknowledged). */
  durable(): Promise<void>;
  /**
   * Set once the store can make nothing durable any more (a failed sync: what the kernel dropped cannot be
   * known); until a restart every `durable()` is refused and the node reports not ready.
   */
  readonly failure?: string | undefined;
}

/**
 * What one probe found, told apart as Nacos 1.4's TCP and HTTP processors tell them apart: `up` counts toward
 * healthy; `failing` (a timeout, an HTTP 503 or 302: the endpoint may be busy) counts toward unhealthy; `down`
 * (connection refused, any other HTTP status) makes a healthy instance unhealthy at once (1.4's checkFailNow).
 * `refused`: this node may not probe the target (link-local, its own ports, outside the operator's list), so
 * nothing was sent; it counts as `down`, so what cannot be checked is never shown healthy.
 */
export type ProbeResult = "up" | "failing" | "down" | "refused";

export interface ProbeOutcome {
  readonly result: ProbeResult;
  /** For the log, in 1.4's words: `tcp:ok`, `tcp:unable2connect`, `http:503`, `http:timeout`... */
  readonly detail: string;
}

/** An HTTP probe: `GET http://ip:port<path>` with the checker's headers. */
export interface HttpProbe {
  readonly ip: string;
  readonly port: number;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly expectedStatus: number;
}

/**
 * How the responsible node probes persistent instances (server-side health checks). Each probe settles within
 * about `timeoutMs` and never rejects: whatever goes wrong is an outcome.
 */
export interface HealthProber {
  tcp(ip: string, port: number, timeoutMs: number): Promise<ProbeOutcome>;
  http(probe: HttpProbe, timeoutMs: number): Promise<ProbeOutcome>;
}
