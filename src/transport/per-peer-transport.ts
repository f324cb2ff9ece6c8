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
import type { Abilities, MemberInfo } from "../node/cluster/member.js";
import type { ClientWrite } from "../core/ops.js";
import type { ServiceDatum } from "../core/service-datum.js";
import type { ForwardOutcome, PeerTransport, SnapshotChunk, SyncOutcome, VerifyDigest, VerifyReply } from "../node/ports.js";

export type PeerTransportMode = "grpc" | "http" | "auto";
export type PeerTransportKind = "grpc" | "http";

export class PerPeerTransport implements PeerTransport {
  /** The transport that carried each peer's last successful report (auto mode). */
  private readonly reportedVia = new Map<string, PeerTransportKind>();

  constructor(
    private readonly mode: PeerTransportMode,
    private readonly grpc: PeerTransport,
    private readonly http: PeerTransport,
    /** The abilities in the peer's last MemberInfo; undefined until we have heard from it. */
    private readonly abilitiesOf: (peer: string) => Abilities | undefined,
  ) {}

  /** The transport calls to `peer` use right now (for metrics and the cluster node list). */
  transportOf(peer: string): PeerTransportKind {
    if (this.mode !== "auto") return this.mode;
    if (this.abilitiesOf(peer)?.grpcPeer === false) return "http";
    return this.reportedVia.get(peer) ?? "grpc";
  }

  /** Prometheus lines: 1 for the transport each peer uses, 0 for the other. */
  metricsText(peers: readonly string[]): string {
    const lines = [
      "# HELP nacos_peer_transport Transport used to reach each peer (1 = in use)",
      "# TYPE nacos_peer_transport gauge",
    ];
    for (const peer of peers) {
      const inUse = this.transportOf(peer);
      const label = peer.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
      for (const kind of ["grpc", "http"] as const) {
        lines.push(`nacos_peer_transport{peer="${label}",transport="${kind}"} ${inUse === kind ? 1 : 0}`);
      }
    }
    return lines.join("\n") + "\n";
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
    if (this.abilitiesOf(peer)?.grpcPeer === false) return this.reportVia("http", peer, self);
    try {
      return await this.reportVia("grpc", peer, self);
    } catch {
      // The HTTP outcome decides: it tells a node without gRPC from one that is down (refused on both).
      return this.reportVia("http", peer, self);
    }
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
