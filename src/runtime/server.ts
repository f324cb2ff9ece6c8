/**
 * One ts-nacos node as a process: the deterministic core (NamingNode) on the real clock, wired to its
 * adapters — the fastify client API (and the legacy 1.4 peer endpoints), the gRPC peer server, the peer
 * transports, and UDP push. This is the only module that knows every concrete adapter.
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createHttpApp } from "../api/app.js";
import type { NodeContext } from "../api/context.js";
import { joinAddress, splitAddress } from "../node/cluster/member.js";
import type { Log } from "../core/log.js";
import { gauge } from "../api/metrics.js";
import { DEFAULT_PUSH_CONFIG, PushService } from "../push/push-service.js";
import { UdpPushChannel } from "../push/udp-push-channel.js";
import { MESSAGE_OVERHEAD_BYTES } from "../transport/grpc/connection-settings.js";
import { GrpcPeerServer } from "../transport/grpc/server.js";
import { defaultGrpcAddress, GrpcPeerTransport } from "../transport/grpc/client.js";
import { effectivePeerTransport, type RuntimeConfig } from "./options.js";
import { pinoLog } from "./logging.js";
import { PeerLayer } from "./assemble.js";
import { defaultNodeConfig, NamingNode, type NodeConfig } from "../node/naming-node.js";
import { RealScheduler } from "./real-scheduler.js";

export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export interface RunningServer {
  readonly node: NamingNode;
  readonly app: FastifyInstance;
  /**
   * A graceful stop: readiness turns 503, the HTTP and gRPC ports stop taking new requests and finish the
   * ones in flight, replication still pending is sent to reachable peers (within `--shutdown-timeout-ms`),
   * then every timer, socket and connection is released and the process can exit on its own.
   */
  close(): Promise<void>;
}

function nodeConfig(config: RuntimeConfig): NodeConfig {
  const base = defaultNodeConfig(joinAddress(config.ip, config.port), config.members);
  // What one peer message may carry, and so one sync batch, one verify detail and one service.
  const messageBudget = config.maxMessageBytes - MESSAGE_OVERHEAD_BYTES;
  return {
    ...base,
    version: VERSION,
    grpcPort: config.grpcPort,
    abilities: { grpcPeer: effectivePeerTransport(config) !== "http", httpPeer: effectivePeerTransport(config) !== "grpc" },
    maxServiceBytes: messageBudget,
    distro: {
      ...base.distro,
      sync: {
        ...base.distro.sync,
        delayMs: config.syncDelayMs,
        retryBaseMs: config.syncRetryMs,
        retryMaxMs: Math.max(base.distro.sync.retryMaxMs, config.syncRetryMs),
        maxBytes: messageBudget,
      },
      verify: { ...base.distro.verify, intervalMs: config.verifyIntervalMs, maxDetailBytes: messageBudget },
      snapshot: { ...base.distro.snapshot, chunkBytes: config.snapshotChunkBytes, maxStreams: config.maxSnapshotStreams },
    },
    membership: {
      reportIntervalMs: config.reportIntervalMs,
      failThreshold: config.failThreshold,
      suspicionTimeoutMs: config.suspicionTimeoutMs,
      maxClockSkewMs: config.maxClockSkewMs,
    },
    heartbeat: { ...base.heartbeat, expireInstances: config.expireInstances },
  };
}

function readTls(config: RuntimeConfig): { cert: Buffer; key: Buffer; ca: Buffer | undefined } | undefined {
  const { tls } = config;
  if (tls === undefined) return undefined;
  return { cert: readFileSync(tls.cert), key: readFileSync(tls.key), ca: tls.ca === undefined ? undefined : readFileSync(tls.ca) };
}

export async function startServer(config: RuntimeConfig, logger: Logger): Promise<RunningServer> {
  const log: Log = pinoLog(logger);
  const scheduler = new RealScheduler((err) => log.error("timer task failed", { error: String(err) }));
  const tls = readTls(config);
  const settings = nodeConfig(config);
  const mode = effectivePeerTransport(config);
  const grpc = config.standalone ? undefined : grpcTransport(config, settings, tls, () => node);
  const peers =
    grpc === undefined
      ? undefined
      : new PeerLayer({
          mode,
          self: settings.self,
          version: VERSION,
          timeoutMs: config.peerTimeoutMs,
          secret: config.clusterSecret,
          snapshotChunkBytes: config.snapshotChunkBytes,
          bodyLimitBytes: config.bodyLimitBytes,
          snapshotStallMs: config.snapshotStallMs,
          grpc,
          scheduler,
          log,
        });
  const node: NamingNode = new NamingNode(settings, scheduler, peers?.transport, log);
  const channel = await UdpPushChannel.open(log, { host: config.host });
  const push = new PushService(scheduler, node.registry, node.switches, channel, DEFAULT_PUSH_CONFIG, log);
  const context: NodeContext = {
    registry: node.registry,
    switches: node.switches,
    writer: node.router,
    push,
    cluster: node.clusterView((address) => peers?.transport.transportOf(address)),
    status: node.nodeStatus(() => pushMetrics(push) + (peers?.transport.metricsText(node.members.peers()) ?? "")),
    clock: () => scheduler.now(),
    version: VERSION,
    peerSecret: config.clusterSecret,
  };
  const app = createHttpApp(context, {
    logger,
    bodyLimit: config.bodyLimitBytes,
    limits: config.http,
    trustedProxies: config.trustedProxies,
  });
  await peers?.attach(node, app);
  await app.listen({ port: config.port, host: config.host });
  const grpcServer =
    peers === undefined || mode === "http"
      ? undefined
      : await GrpcPeerServer.start(node, {
          host: config.host,
          port: config.grpcPort,
          secret: config.clusterSecret,
          tls: tls && { cert: tls.cert, key: tls.key, clientCa: tls.ca },
          connection: { maxMessageBytes: config.maxMessageBytes },
          snapshotStallMs: config.snapshotStallMs,
          log,
        });
  announce(config, log);
  peers?.start();
  void node.start().catch((err: unknown) => log.error("node failed to start", { error: String(err) }));
  return {
    node,
    app,
    async close() {
      node.beginStop();
      await Promise.all([app.close(), grpcServer?.close(config.shutdownTimeoutMs)]);
      const flushed = await node.flush(config.shutdownTimeoutMs);
      if (!flushed) log.warn("stopping with replication still pending: some peers were unreachable", { timeoutMs: config.shutdownTimeoutMs });
      node.close();
      peers?.close();
      push.close();
      await channel.close();
      grpc?.close();
      scheduler.cancelAll();
    },
  };
}

/** The gRPC peer transport; it reaches the node (made after it) lazily for peers' advertised gRPC ports. */
function grpcTransport(config: RuntimeConfig, settings: NodeConfig, tls: ReturnType<typeof readTls>, node: () => NamingNode): GrpcPeerTransport {
  return new GrpcPeerTransport({
    self: settings.self,
    secret: config.clusterSecret,
    timeoutMs: config.peerTimeoutMs,
    connection: { maxMessageBytes: config.maxMessageBytes },
    tls: tls && { ca: tls.ca ?? tls.cert, cert: tls.cert, key: tls.key },
    // A peer may have been started with --grpc-port; its member report says where it listens.
    grpcAddressOf: (peer) => {
      const port = node().members.get(peer)?.info?.grpcPort;
      if (port === undefined || port === 0) return defaultGrpcAddress(peer);
      return joinAddress(splitAddress(peer).host, port);
    },
  });
}

function pushMetrics(push: PushService): string {
  return Object.entries(push.stats())
    .map(([name, value]) => gauge(`nacos_push_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`, `UDP push: ${name}`, value))
    .join("");
}

function announce(config: RuntimeConfig, log: Log): void {
  const { clusterSecret, tls, ...shown } = config;
  const mode = effectivePeerTransport(config);
  log.info("ts-nacos started", {
    ...shown,
    clusterSecret: clusterSecret === undefined ? "none" : `set (${config.clusterSecretSource})`,
    grpcTls: tls === undefined ? "off" : "on",
    effectivePeerTransport: mode,
  });
  if (config.clusterSecretSource === "flag") {
    log.warn("the cluster secret was given as --cluster-secret: every local user can read it in the process list; prefer --cluster-secret-file or NACOS_CLUSTER_SECRET");
  }
  if (config.peerTransport === "auto" && mode === "grpc") {
    log.info("TLS is configured: peers are reached over gRPC only, never over the plaintext 1.4 HTTP peer API");
  }
  if (!config.standalone && clusterSecret === undefined) {
    const ports = mode === "grpc" ? `the gRPC peer port ${config.grpcPort}` : `the client port ${config.port} (1.4 peer API)${mode === "auto" ? ` and the gRPC peer port ${config.grpcPort}` : ""}`;
    log.warn(`no cluster secret configured: any host that can reach ${ports} can act as a member (set --cluster-secret-file)`);
  }
}
