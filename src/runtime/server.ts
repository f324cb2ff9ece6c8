/**
 * One ts-nacos node as a process: the node (runtime/assemble.ts) on the real clock with its real adapters —
 * the fastify client API (and the 1.4 peer endpoints), the gRPC peer server and transport, UDP push.
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createHttpApp } from "../api/app.js";
import { apiContext } from "../api/context.js";
import type { Log } from "../core/log.js";
import type { NamingNode } from "../node/naming-node.js";
import { PushService } from "../push/push-service.js";
import { UdpPushChannel } from "../push/udp-push-channel.js";
import { GrpcPeerTransport } from "../transport/grpc/client.js";
import { RecordLog } from "../store/record-log.js";
import { GrpcPeerServer } from "../transport/grpc/server.js";
import { assemble } from "./assemble.js";
import { finishInFlightOnClose } from "./http-drain.js";
import { LoopDelay } from "./loop-delay.js";
import { pinoLog } from "./logging.js";
import { effectivePeerTransport, nodeConfigOf, PUSH_CONFIG, type RuntimeConfig } from "./options.js";
import { RealScheduler } from "./real-scheduler.js";

export const VERSION: string = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

export interface RunningServer {
  readonly node: NamingNode;
  readonly app: FastifyInstance;
  /**
   * A graceful stop: readiness and every new request answer 503 at once, the requests in flight on the HTTP
   * and gRPC ports are finished (the HTTP port listens until then), replication still pending is sent to
   * reachable peers (each step within `--shutdown-timeout-ms`), then every timer, socket and connection is
   * released and the process can exit on its own.
   */
  close(): Promise<void>;
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
  const mode = effectivePeerTransport(config);
  let grpc: GrpcPeerTransport | undefined;
  const nodeConfig = nodeConfigOf(config, VERSION);
  const store = await RecordLog.open(config.dataDir, log);
  const assembled = assemble({
    store,
    config: nodeConfig,
    mode,
    scheduler,
    log,
    secret: config.clusterSecret,
    peerTimeoutMs: config.peerTimeoutMs,
    bodyLimitBytes: config.bodyLimitBytes,
    snapshotStallMs: config.snapshotStallMs,
    healthCheck: config.healthCheck,
    grpc: config.standalone
      ? undefined
      : (directory) =>
          (grpc = new GrpcPeerTransport({
            self: nodeConfig.self,
            secret: config.clusterSecret,
            timeoutMs: config.peerTimeoutMs,
            connection: { maxMessageBytes: config.maxMessageBytes },
            tls: tls && { ca: tls.ca ?? tls.cert, cert: tls.cert, key: tls.key },
            directory,
          })),
  });
  const { node } = assembled;
  const channel = await UdpPushChannel.open(log, { host: config.host });
  const push = new PushService(scheduler, node, channel, PUSH_CONFIG, log);
  const loopDelay = new LoopDelay();
  const context = apiContext(node, {
    push,
    version: VERSION,
    peerSecret: config.clusterSecret,
    auth: config.auth,
    processStats: () => {
      const transports = peerTransports(node, assembled.transportOf);
      return {
        push: { ...push.stats(), unsolicitedDatagrams: channel.unsolicited },
        eventLoop: loopDelay.take(),
        ...(transports === undefined ? {} : { peerTransports: transports }),
      };
    },
  });
  const app = createHttpApp(context, {
    logger,
    bodyLimit: config.bodyLimitBytes,
    limits: config.http,
    trustedProxies: config.trustedProxies,
  });
  await assembled.servePeerRoutes(app);
  finishInFlightOnClose(app, config.shutdownTimeoutMs);
  await app.listen({ port: config.port, host: config.host });
  const grpcServer =
    grpc === undefined || mode === "http"
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
  void node.start().catch((err: unknown) => log.error("node failed to start", { error: String(err) }));
  return {
    node,
    app,
    async close() {
      node.beginStop();
      await Promise.all([app.close(), grpcServer?.close(config.shutdownTimeoutMs)]);
      const flushed = await node.flush(config.shutdownTimeoutMs);
      if (!flushed)
        log.warn("stopping with replication still pending: some peers were unreachable", { timeoutMs: config.shutdownTimeoutMs });
      node.close();
      await store.close();
      assembled.closeTransports();
      grpc?.close();
      push.close();
      loopDelay.close();
      await channel.close();
      scheduler.cancelAll();
    },
  };
}

function peerTransports(
  node: NamingNode,
  transportOf: ((peer: string) => "grpc" | "http") | undefined,
): ReadonlyMap<string, "grpc" | "http"> | undefined {
  if (transportOf === undefined) return undefined;
  const { members, selfAddress } = node.cluster();
  return new Map(members.filter((m) => m.address !== selfAddress).map((m) => [m.address, transportOf(m.address)]));
}

function announce(config: RuntimeConfig, log: Log): void {
  const { clusterSecret, tls, auth, ...shown } = config;
  const mode = effectivePeerTransport(config);
  log.info("ts-nacos started", {
    ...shown,
    clusterSecret: clusterSecret === undefined ? "none" : `set (${config.clusterSecretSource})`,
    // Never the token key or the admin password.
    auth: auth === undefined ? "off" : { tokenTtlSeconds: auth.tokenTtlSeconds },
    grpcTls: tls === undefined ? "off" : "on",
    effectivePeerTransport: mode,
  });
  if (config.clusterSecretSource === "flag") {
    log.warn(
      "the cluster secret was given as --cluster-secret: every local user can read it in the process list; prefer --cluster-secret-file or NACOS_CLUSTER_SECRET",
    );
  }
  if (config.peerTransport === "auto" && mode === "grpc") {
    log.info("TLS is configured: peers are reached over gRPC only, never over the plaintext 1.4 HTTP peer API");
  }
  if (!config.standalone && clusterSecret === undefined) {
    const ports =
      mode === "grpc"
        ? `the gRPC peer port ${config.grpcPort}`
        : `the client port ${config.port} (1.4 peer API)${mode === "auto" ? ` and the gRPC peer port ${config.grpcPort}` : ""}`;
    log.warn(`no cluster secret configured: any host that can reach ${ports} can act as a member (set --cluster-secret-file)`);
  }
}
