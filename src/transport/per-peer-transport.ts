/**
 * One PeerTransport over two, chosen per peer: the typed gRPC transport and the legacy Nacos 1.4 HTTP one
 * (`--peer-transport grpc|http|auto`). `grpc` and `http` use one for every peer. `auto` follows each peer's
 * own word and what reaching it showed:
 * - a peer whose last MemberInfo advertises no gRPC (a 1.4 node, or a ts-nacos node without it) gets HTTP;
 * - a report to any other peer tries gRPC first and falls back to HTTP (a 1.4 node has no gRPC port at all),
 *   and the transport that carried the last report carries every other call until the next report.
 * So a peer that restarts upgraded is reached over gRPC from the report after the one that told us, and one
 * that restarts downgraded over HTTP from its first report, with no configuration. A call in flight finishes
 * or fails on the transport it started on; its caller retries it on whichever is current, and since both
 * carry the same versioned datums, the retry neither loses nor duplicates a change.
 */
import type { ClientWrite } from "../core/ops.js";
import type { ServiceDatum } from "../core/service-datum.js";
import type { MemberInfo } from "../node/cluster/member.js";
import type {
  ForwardOutcome,
  PeerDirectory,
  PeerTransport,
  PeerTransportMode,
  SnapshotChunk,
  SyncOutcome,
  VerifyDigest,
  VerifyReply,
} from "../node/ports.js";

export type PeerTransportKind = "grpc" | "http";

export class PerPeerTransport implements PeerTransport {
  /** The transport that carried each peer's last successful report (auto mode). */
  private readonly reportedVia = new Map<string, PeerTransportKind>();

  constructor(
    private readonly mode: PeerTransportMode,
    private readonly grpc: PeerTransport,
    private readonly http: PeerTransport,
    /** Where each peer's last self-description (its abilities) is kept. */
    private readonly directory: Pick<PeerDirectory, "abilitiesOf">,
  ) {}

  /** The transport calls to `peer` use right now (for metrics and the cluster node list). */
  transportOf(peer: string): PeerTransportKind {
    if (this.mode !== "auto") return this.mode;
    if (this.directory.abilitiesOf(peer)?.grpcPeer === false) return "http";
    return this.reportedVia.get(peer) ?? "grpc";
  }

  sync(peer: string, datums: readonly ServiceDatum[]): Promise<SyncOutcome> {
    return this.to(peer).sync(peer, datums);
  }

  verify(peer: string, digest: VerifyDigest): Promise<VerifyReply> {
    return this.to(peer).verify(peer, digest);
  }

  query(peer: string, keys: readonly string[]): Promise<ServiceDatum[]> {
    return this.to(peer).query(peer, keys);
  }

  snapshot(peer: string, resumeAfter: string, signal?: AbortSignal): AsyncIterable<SnapshotChunk> {
    return this.to(peer).snapshot(peer, resumeAfter, signal);
  }

  forward(peer: string, write: ClientWrite): Promise<ForwardOutcome> {
    return this.to(peer).forward(peer, write);
  }

  async report(peer: string, self: MemberInfo): Promise<MemberInfo> {
    if (this.mode !== "auto") return this.transport(this.mode).report(peer, self);
    if (this.directory.abilitiesOf(peer)?.grpcPeer === false) return this.reportVia("http", peer, self);
    try {
      return await this.reportVia("grpc", peer, self);
    } catch {
      // The HTTP outcome decides: it tells a node without gRPC from one that is down (refused on both).
      return this.reportVia("http", peer, self);
    }
  }

  forget(peer: string): void {
    this.reportedVia.delete(peer);
    this.grpc.forget?.(peer);
    this.http.forget?.(peer);
  }

  private async reportVia(kind: PeerTransportKind, peer: string, self: MemberInfo): Promise<MemberInfo> {
    const info = await this.transport(kind).report(peer, self);
    this.reportedVia.set(peer, kind);
    return info;
  }

  private to(peer: string): PeerTransport {
    return this.transport(this.transportOf(peer));
  }

  private transport(kind: PeerTransportKind): PeerTransport {
    return kind === "grpc" ? this.grpc : this.http;
  }
}
