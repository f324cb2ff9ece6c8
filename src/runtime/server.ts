/**
 * One ts-nacos node as a process: the node (runtime/assemble.ts) on the real clock with its real adapters —
 * the fastify client API (and the 1.4 peer endpoints), the gRPC peer server and transport, UDP push, and the
 * 2.x client port with push over its streams.
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createHttpApp } from "../api/app.js";
import { authServicesOf } from "../api/auth/auth.js";
import { apiContext, type NodeContext } from "../api/context.js";
import { ClientRequests } from "../api/nacos2/client-requests.js";
import type { Log } from "../core/log.js";
import type { NamingNode } from "../node/naming-node.js";
import { PushService } from "../push/push-service.js";
import { UdpPushChannel } from "../push/udp-push-channel.js";
import { GrpcPeerTransport } from "../transport/grpc/client.js";
import { DirLockError } from "../store/dir-lock.js";
import { DataFileError, RecordLog } from "../store/record-log.js";
import { GrpcPeerServer, type ServerTls } from "../transport/grpc/server.js";
import { ClientPort } from "../transport/nacos2/client-port.js";
import { ClientStreamPushChannel } from "../transport/nacos2/stream-push-channel.js";
import { assemble } from "./assemble.js";
import { finishInFlightOnClose } from "./http-drain.js";
import { LoopDelay } from "./loop-delay.js";
import { pinoLog } from "./logging.js";
import {
  ConfigError,
  clientPortLimits,
  effectivePeerTransport,
  nodeConfigOf,
  optionNames,
  PUSH_CONFIG,
  type RuntimeConfig,
  type TlsFiles,
} from "./options.js";
import { RealScheduler } from "./real-scheduler.js";
import { nodeUrls, summaryText } from "./start-summary.js";
import { dataDirFailure, fileFailure, hostFailure, portFailure } from "./start-errors.js";

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

/**
 * A start-up step whose failure an option fixes: `explain` turns the failure into the sentence naming it, thrown as
 * a ConfigError (main.ts prints it alone and exits 2); a failure it does not explain goes on as it is.
 */
async function step<T>(run: () => T | Promise<T>, explain: (err: unknown) => string | undefined): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const sentence = explain(err);
    throw sentence === undefined ? err : new ConfigError(sentence);
  }
}

/** Why a listener could not bind `--host` and its port (`option`), when the operator can fix it. */
const bindProblem =
  (config: RuntimeConfig, what: string, port: number, option: "port" | "grpc-port" | "client-grpc-port") =>
  (err: unknown): string | undefined =>
    portFailure(err, what, port, optionNames(option)) ?? hostFailure(err, config.host, optionNames("host"));

/** The PEM files of a TLS port; `flag` names its options (`grpc-tls` or `client-grpc-tls`). */
async function readTls(
  tls: TlsFiles | undefined,
  flag: "grpc-tls" | "client-grpc-tls",
): Promise<{ cert: Buffer; key: Buffer; ca: Buffer | undefined } | undefined> {
  if (tls === undefined) return undefined;
  const read = (file: string, part: "cert" | "key" | "ca"): Promise<Buffer> =>
    step(
      () => readFileSync(file),
      (err) => fileFailure(err, file, optionNames(`${flag}-${part}`)),
    );
  return {
    cert: await read(tls.cert, "cert"),
    key: await read(tls.key, "key"),
    ca: tls.ca === undefined ? undefined : await read(tls.ca, "ca"),
  };
}

/** The 2.x client port over the node's API context; none when `--client-grpc-port off`. */
async function startClientPort(
  config: RuntimeConfig,
  context: NodeContext,
  node: NamingNode,
  push: PushService,
  log: Log,
): Promise<ClientPort | undefined> {
  if (config.clientGrpcPort === undefined) return undefined;
  const requests = new ClientRequests({
    ctx: context,
    self: node.selfAddress,
    connections: node.connections,
    subscriptions: push,
    auth: authServicesOf(context, log),
    log,
  });
  const files = await readTls(config.clientTls, "client-grpc-tls");
  const tls: ServerTls | undefined = files && { cert: files.cert, key: files.key, clientCa: files.ca };
  const port = config.clientGrpcPort;
  return step(
    () => ClientPort.start(requests, { host: config.host, port, tls, limits: clientPortLimits(config), log }),
    bindProblem(config, "2.x client port", port, "client-grpc-port"),
  );
}

/** Why the data directory could not be opened, when the operator can fix it. */
function dataDirProblem(err: unknown, dir: string): string | undefined {
  // Both already say what to do (another --data-dir, or move the file away).
  if (err instanceof DirLockError || err instanceof DataFileError) return err.message;
  return dataDirFailure(err, dir, optionNames("data-dir"));
}

/**
 * Starts the node. `format` is the log's: on a terminal the start-up summary is a short block, in JSON one record
 * with the effective configuration as fields.
 */
export async function startServer(config: RuntimeConfig, logger: Logger, format: "json" | "pretty"): Promise<RunningServer> {
  const log: Log = pinoLog(logger);
  const scheduler = new RealScheduler((err) => log.error("timer task failed", { error: String(err) }));
  const tls = await readTls(config.tls, "grpc-tls");
  const mode = effectivePeerTransport(config);
  let grpc: GrpcPeerTransport | undefined;
  const nodeConfig = nodeConfigOf(config, VERSION);
  const store = await step(
    () => RecordLog.open(config.dataDir, log),
    (err) => dataDirProblem(err, config.dataDir),
  );
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
    membersRefreshMs: config.membersRefreshMs,
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
  // The first socket bound to --host (on a port of the system's choosing).
  const channel = await step(
    () => UdpPushChannel.open(log, { host: config.host }),
    (err) => hostFailure(err, config.host, optionNames("host")),
  );
  const streams = new ClientStreamPushChannel();
  const push = new PushService(scheduler, node, channel, PUSH_CONFIG, log, streams);
  // However a connection ends (closed, silent, or its node's doing), its subscriptions go with it.
  node.connections.onClosed((id) => push.connectionClosed(id));
  const loopDelay = new LoopDelay();
  let clientPort: ClientPort | undefined;
  const context = apiContext(node, {
    push,
    version: VERSION,
    peerSecret: config.clusterSecret,
    auth: config.auth,
    clientPort:
      config.clientGrpcPort === undefined
        ? undefined
        : {
            connections: () => node.connections.list(),
            reset: async (id, redirect) => (await clientPort?.reset(id, redirect)) ?? false,
          },
    processStats: () => {
      const transports = peerTransports(node, assembled.transportOf);
      return {
        push: { ...push.stats(), unsolicitedDatagrams: channel.unsolicited },
        eventLoop: loopDelay.take(),
        ...(transports === undefined ? {} : { peerTransports: transports }),
        ...(clientPort === undefined ? {} : { clientPort: clientPort.stats() }),
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
  await step(() => app.listen({ port: config.port, host: config.host }), bindProblem(config, "port", config.port, "port"));
  const grpcServer =
    grpc === undefined || mode === "http"
      ? undefined
      : await step(
          () =>
            GrpcPeerServer.start(node, {
              host: config.host,
              port: config.grpcPort,
              secret: config.clusterSecret,
              tls: tls && { cert: tls.cert, key: tls.key, clientCa: tls.ca },
              connection: { maxMessageBytes: config.maxMessageBytes },
              snapshotStallMs: config.snapshotStallMs,
              identity: assembled.identity,
              onSecretRefused: (member) => node.secretRefusedFrom(member),
              log,
            }),
          bindProblem(config, "gRPC peer port", config.grpcPort, "grpc-port"),
        );
  clientPort = await startClientPort(config, context, node, push, log);
  if (clientPort !== undefined) streams.attach(clientPort);
  announce(config, log, format);
  void node.start().catch((err: unknown) => log.error("node failed to start", { error: String(err) }));
  return {
    node,
    app,
    async close() {
      node.beginStop();
      // 2.x clients are told to move (ConnectResetRequest) before their connections close; their instances' removal
      // is then flushed to the peers with the rest.
      await Promise.all([app.close(), grpcServer?.close(config.shutdownTimeoutMs), clientPort?.close(config.shutdownTimeoutMs)]);
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

/** The start-up summary (runtime/start-summary.ts), then the warnings a configuration deserves. */
function announce(config: RuntimeConfig, log: Log, format: "json" | "pretty"): void {
  const { clusterSecret, tls, clientTls, auth, ...shown } = config;
  const mode = effectivePeerTransport(config);
  if (format === "pretty") {
    log.info(summaryText(`ts-nacos ${VERSION} started`, config));
  } else {
    // The same facts, and the whole effective configuration, as fields a program reads.
    log.info("ts-nacos started", {
      version: VERSION,
      ...nodeUrls(config),
      ...shown,
      clusterSecret: clusterSecret === undefined ? "none" : `set (${config.clusterSecretSource})`,
      // Never the token key or the admin password.
      auth: auth === undefined ? "off" : { tokenTtlSeconds: auth.tokenTtlSeconds },
      grpcTls: tls === undefined ? "off" : "on",
      clientGrpcTls: clientTls === undefined ? "off" : "on",
      clientGrpcPort: config.clientGrpcPort ?? "off",
      effectivePeerTransport: mode,
    });
  }
  if (config.ignoredImageVariables.length > 0) {
    log.warn("the nacos-server image's variables set here mean nothing to ts-nacos and are ignored", {
      variables: config.ignoredImageVariables,
    });
  }
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
