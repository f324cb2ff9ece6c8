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
import { joinAddress, splitAddress } from "../cluster/member.js";
import type { Log } from "../core/log.js";
import { gauge } from "../core/prometheus.js";
import { DEFAULT_PUSH_CONFIG, PushService } from "../push/push-service.js";
import { UdpPushChannel } from "../push/udp-push-channel.js";
import { GrpcPeerServer } from "../transport/grpc/grpc-peer-server.js";
import { defaultGrpcAddress, GrpcPeerTransport } from "../transport/grpc/grpc-peer-transport.js";
import type { RuntimeConfig } from "./config.js";
import { pinoLog } from "./logging.js";
import { PeerLayer } from "./peer-layer.js";
import { defaultNodeConfig, NamingNode, type NodeConfig } from "./naming-node.js";
import { RealScheduler } from "./real-scheduler.js";

export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export interface RunningServer {
  readonly node: NamingNode;
  readonly app: FastifyInstance;
  /** Stops every timer, socket and connection; the process can then exit on its own. */
  close(): Promise<void>;
}

function nodeConfig(config: RuntimeConfig): NodeConfig {
  const base = defaultNodeConfig(joinAddress(config.ip, config.port), config.members);
  return {
    ...base,
    version: VERSION,
    grpcPort: config.grpcPort,
    abilities: { grpcPeer: config.peerTransport !== "http", httpPeer: true },
    distro: {
      ...base.distro,
      sync: {
        ...base.distro.sync,
        delayMs: config.syncDelayMs,
        retryBaseMs: config.syncRetryMs,
        retryMaxMs: Math.max(base.distro.sync.retryMaxMs, config.syncRetryMs),
      },
      verify: { ...base.distro.verify, intervalMs: config.verifyIntervalMs },
      snapshot: { ...base.distro.snapshot, chunkBytes: config.snapshotChunkBytes },
    },
    membership: {
      reportIntervalMs: config.reportIntervalMs,
      failThreshold: config.failThreshold,
      suspicionTimeoutMs: config.suspicionTimeoutMs,
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
  const grpc = config.standalone ? undefined : grpcTransport(config, settings, tls, () => node);
  const peers =
    grpc === undefined
      ? undefined
      : new PeerLayer({
          mode: config.peerTransport,
          self: settings.self,
          version: VERSION,
          timeoutMs: config.peerTimeoutMs,
          secret: config.clusterSecret,
          snapshotChunkBytes: config.snapshotChunkBytes,
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
  };
  const app = createHttpApp(context, { logger, bodyLimit: config.bodyLimitBytes });
  await peers?.attach(node, app);
  await app.listen({ port: config.port, host: config.host });
  const grpcServer =
    peers === undefined || config.peerTransport === "http"
      ? undefined
      : await GrpcPeerServer.start(node, {
          host: config.host,
          port: config.grpcPort,
          secret: config.clusterSecret,
          tls: tls && { cert: tls.cert, key: tls.key, clientCa: tls.ca },
          connection: { maxMessageBytes: config.maxMessageBytes },
          log,
        });
  announce(config, log);
  peers?.start();
  void node.start().catch((err: unknown) => log.error("node failed to start", { error: String(err) }));
  return {
    node,
    app,
    async close() {
      node.close();
      peers?.close();
      push.close();
      await channel.close();
      await grpcServer?.close(1000);
      grpc?.close();
      await app.close();
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
  log.info("ts-nacos started", {
    ...shown,
    clusterSecret: clusterSecret === undefined ? "none" : "set",
    grpcTls: tls === undefined ? "off" : "on",
  });
  if (!config.standalone && clusterSecret === undefined) {
    log.warn("no cluster secret configured: any host that can reach the peer ports can act as a member (set --cluster-secret)");
  }
}
