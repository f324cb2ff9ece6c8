/**
 * The peer side of a cluster node, as both a real process and the simulator build it: the per-peer choice
 * between the gRPC transport and Nacos 1.4's HTTP peer protocol, the 1.4 peer endpoints on the node's HTTP
 * app, and the service-status reports 1.4 peers need. The transports exist before the node (the node is built
 * on them); `attach` completes the layer once the node and its HTTP app exist.
 */
import type { FastifyInstance } from "fastify";
import type { Log } from "../core/log.js";
import type { Scheduler } from "../core/scheduler.js";
import type { LegacyHttp } from "../transport/nacos14/http.js";
import { RegistryLegacyIngest } from "../node/distro/compat14/owner-lists.js";
import { legacyPeerRoutes } from "../transport/nacos14/routes.js";
import { LegacyPeerTransport } from "../transport/nacos14/client.js";
import { LegacyStatusReporter } from "../node/distro/compat14/status-reporter.js";
import type { PeerIdentity } from "../transport/peer-identity.js";
import type { PeerTransport } from "../node/ports.js";
import { PerPeerTransport, type PeerTransportMode } from "../transport/per-peer-transport.js";
import type { NamingNode } from "../node/naming-node.js";

export interface PeerLayerOptions {
  readonly mode: PeerTransportMode;
  readonly self: string;
  readonly version: string;
  readonly timeoutMs: number;
  readonly secret: string | undefined;
  readonly snapshotChunkBytes: number;
  /** The node's `--body-limit`: what its 1.4 peer endpoints accept, and what it sends to theirs. */
  readonly bodyLimitBytes: number;
  readonly snapshotStallMs?: number;
  /** Checks callers of the 1.4 peer endpoints against the member they name (tests may resolve names their way). */
  readonly identity?: PeerIdentity;
  readonly grpc: PeerTransport;
  /** The legacy transport's HTTP; the real client unless a simulated network carries it. */
  readonly http?: LegacyHttp;
  readonly scheduler: Scheduler;
  readonly log: Log;
}

export class PeerLayer {
  readonly legacy: LegacyPeerTransport;
  readonly transport: PerPeerTransport;
  private node: NamingNode | undefined;
  private ingest: RegistryLegacyIngest | undefined;
  private reporter: LegacyStatusReporter | undefined;

  constructor(private readonly options: PeerLayerOptions) {
    const { self, version, timeoutMs, secret, snapshotChunkBytes, scheduler } = options;
    this.legacy = new LegacyPeerTransport(
      { self, version, timeoutMs, secret, snapshotChunkBytes, maxBodyBytes: options.bodyLimitBytes, clock: () => scheduler.now() },
      { ownedDatums: () => this.ingest?.ownedDatums() ?? [] },
      ...(options.http === undefined ? [] : [options.http]),
    );
    this.transport = new PerPeerTransport(options.mode, options.grpc, this.legacy, (peer) => this.node?.members.get(peer)?.info?.abilities);
  }

  /**
   * Serves the 1.4 peer endpoints on the node's HTTP app and prepares the status reports to HTTP peers, unless
   * the node speaks gRPC only: then the client port serves no peer endpoint at all.
   */
  async attach(node: NamingNode, app: FastifyInstance): Promise<void> {
    const { scheduler, log, secret, bodyLimitBytes, identity, snapshotStallMs } = this.options;
    this.node = node;
    if (this.options.mode === "grpc") return;
    const ingest = new RegistryLegacyIngest(node.registry, node.mapper, node.members);
    this.ingest = ingest;
    await app.register(legacyPeerRoutes, {
      handler: node,
      ingest,
      client: this.legacy,
      scheduler,
      log,
      secret,
      bodyLimitBytes,
      ...(identity === undefined ? {} : { identity }),
      ...(snapshotStallMs === undefined ? {} : { snapshotStallMs }),
    });
    this.reporter = new LegacyStatusReporter({
      scheduler,
      owned: ingest,
      ready: () => node.ready,
      peers: () => node.members.peers().filter((p) => this.transport.transportOf(p) === "http"),
      send: (peer, checksums) => this.legacy.sendServiceStatus(peer, checksums),
      log,
    });
  }

  start(): void {
    this.reporter?.start();
  }

  close(): void {
    this.reporter?.close();
    this.legacy.close();
  }
}
