/**
 * The Nacos 2.x client port (HTTP port + 1000): the unary `Request` service and the `BiRequestStream` of
 * nacos_grpc_service.proto, and the life of each client connection, as Nacos's GrpcRequestAcceptor,
 * GrpcBiStreamRequestAcceptor and ConnectionManager run it:
 *
 * - A connection is a TCP connection. It gets its id when it is accepted (`<ms>_<ip>_<port>`, Nacos's form), and
 *   `ServerCheckRequest` tells it. Requests are served once the client sent `ConnectionSetupRequest` on its
 *   bi-stream; before that they answer 301 (the clients reconnect), while the node is loading 300.
 * - The port owns its TCP listener and hands each socket to grpc-js, so it sees every connection arrive and go:
 *   connections are bounded per IP and in total before any byte is read, and a closed socket closes its
 *   connection at once (its instances and subscriptions go, through the handler).
 * - The server's own requests (pushes, detection, reset) travel on the bi-stream and are answered there,
 *   matched by `requestId`; a bounded number are in flight per connection.
 * - A connection silent for `idleMs` is sent `ClientDetectionRequest`, and closed when it does not answer; one
 *   that never sets up is closed after the same time.
 *
 * Bad input (not a Payload, not JSON, too large, an unknown type) gets Nacos's `ErrorResponse`, never a crash.
 */
import * as grpc from "@grpc/grpc-js";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { plainIp } from "../../core/address.js";
import type { Log } from "../../core/log.js";
import type { ServerTls } from "../grpc/server.js";
import { ClientConnection } from "./client-connection.js";
import type { ClientConnectionMeta, ClientRequestHandler } from "./client-handler.js";
import { DurationHistogram, type DurationSummary } from "./duration-histogram.js";
import { readPayload, writePayload, type ClientMessage } from "./payload.js";
import { ErrorCode, errorResponse, success, SUCCESS, type ResponseBody, type TypedResponse } from "./responses.js";

export interface ClientPortLimits {
  /** Largest gRPC message sent (`--max-message-bytes`): a push of a large service must fit. */
  readonly maxMessageBytes: number;
  /**
   * Largest request JSON; a larger body is answered 400 before it is parsed. A received message may be this
   * plus `PAYLOAD_OVERHEAD_BYTES` for its metadata; grpc-js refuses a larger one itself, before buffering it.
   */
  readonly maxRequestBytes: number;
  /** Client connections at once; more are closed on arrival. */
  readonly maxConnections: number;
  /** ... and from one IP. */
  readonly maxConnectionsPerIp: number;
  /** Calls one connection may have open at once (HTTP/2 streams, the bi-stream included). */
  readonly maxCallsPerConnection: number;
  /** Server requests (pushes, detection) one connection may have unanswered at once. */
  readonly maxServerRequestsPerConnection: number;
  /** How long a server request waits for its answer. */
  readonly serverRequestTimeoutMs: number;
  /**
   * How long a reset waits for the client's answer before it closes the connection (the Java client answers at
   * once; nacos-sdk-rust never answers, and simply reconnects when the connection closes).
   */
  readonly resetTimeoutMs: number;
  /** A connection silent this long is probed (Nacos's KEEP_ALIVE_TIME, 20 s); one not set up by then is closed. */
  readonly idleMs: number;
  /** How long the probe's answer may take (Nacos: 5 s). */
  readonly detectionTimeoutMs: number;
  /** How often connections are checked (Nacos: 3 s). */
  readonly sweepMs: number;
}

export interface ClientPortOptions {
  /** Address to bind (IPv6 without brackets). */
  readonly host: string;
  /** 0 picks a free port; `port` then tells which. */
  readonly port: number;
  readonly tls?: ServerTls | undefined;
  readonly limits: ClientPortLimits;
  readonly log: Log;
  /** Milliseconds for connection ids and idle times; the real clock unless a test says otherwise. */
  readonly clock?: () => number;
}

/** Where a reset sends the client (a member's `ip:port`); none: the client picks another server itself. */
export interface Redirect {
  readonly ip: string;
  readonly port: number;
}

export interface ClientPortStats {
  readonly connections: number;
  /** Connections that sent ConnectionSetupRequest. */
  readonly setUp: number;
  /** Connections closed on arrival: over the per-IP or total limit, or the port is stopping. */
  readonly refusedConnections: number;
  /** Connections closed for not answering ClientDetectionRequest (or never setting up). */
  readonly detectionDrops: number;
  /** Requests answered, by `type` (an unknown type counts as `unknown`) and error code (0: success). */
  readonly requests: ReadonlyMap<string, ReadonlyMap<number, number>>;
  /** How long requests took to answer, by the same `type`. */
  readonly requestSeconds: ReadonlyMap<string, DurationSummary>;
}

/** Room in a received message beside its JSON body: the type, the client IP and the headers (a token or two). */
export const PAYLOAD_OVERHEAD_BYTES = 64 * 1024;

const SERVER_CHECK = "ServerCheckRequest";
const HEALTH_CHECK = "HealthCheckRequest";
const SETUP = "ConnectionSetupRequest";
/** Served by the port itself, whatever the handler knows. */
const INTERNAL = new Set([SERVER_CHECK, HEALTH_CHECK]);
/** Nacos's `Constants.APPNAME` label, and the app a connection without it has. */
const APP_LABEL = "AppName";
const NO_APP = "-";
/** Bounds of what ConnectionSetupRequest may say (the whole message is bounded by the body limit too). */
const MAX_SETUP_TEXT = 256;
const MAX_LABELS = 64;
const MAX_TENANT = 128;

type UnaryCall = grpc.ServerUnaryCall<Buffer, Buffer>;
type StreamCall = grpc.ServerDuplexStream<Buffer, Buffer>;

const keepBytes = (bytes: Buffer): Buffer => bytes;

/** The two services of nacos_grpc_service.proto (no package: paths are `/Request/request`, `/BiRequestStream/...`). */
const REQUEST_SERVICE: grpc.ServiceDefinition = {
  request: {
    path: "/Request/request",
    requestStream: false,
    responseStream: false,
    requestSerialize: keepBytes,
    requestDeserialize: keepBytes,
    responseSerialize: keepBytes,
    responseDeserialize: keepBytes,
  },
};
const STREAM_SERVICE: grpc.ServiceDefinition = {
  requestBiStream: {
    path: "/BiRequestStream/requestBiStream",
    requestStream: true,
    responseStream: true,
    requestSerialize: keepBytes,
    requestDeserialize: keepBytes,
    responseSerialize: keepBytes,
    responseDeserialize: keepBytes,
  },
};

function credentialsOf(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  const keyCert = [{ cert_chain: tls.cert, private_key: tls.key }];
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, keyCert, tls.clientCa !== undefined);
}

const requestIdOf = (body: ClientMessage["body"]): string | undefined =>
  typeof body?.requestId === "string" && body.requestId.length <= MAX_SETUP_TEXT ? body.requestId : undefined;

const isText = (v: unknown, max: number): v is string => typeof v === "string" && v.length <= max;

/** ConnectionSetupRequest's labels, when they are a small map of short strings. */
function labelsOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) return undefined;
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > MAX_LABELS) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, value] of entries) {
    if (k.length > MAX_SETUP_TEXT || !isText(value, MAX_SETUP_TEXT)) return undefined;
    labels[k] = value;
  }
  return labels;
}

export class ClientPort {
  private readonly byPeer = new Map<string, ClientConnection>();
  private readonly byId = new Map<string, ClientConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly requestCounts = new Map<string, Map<number, number>>();
  private readonly requestDurations = new Map<string, DurationHistogram>();
  private refusedConnections = 0;
  private detectionDrops = 0;
  private stopping = false;
  private readonly sweeper: NodeJS.Timeout;
  private readonly clock: () => number;

  private constructor(
    private readonly handler: ClientRequestHandler,
    private readonly options: ClientPortOptions,
    private readonly listener: Server,
    private readonly grpcServer: grpc.Server,
    private readonly injector: grpc.ConnectionInjector,
  ) {
    this.clock = options.clock ?? Date.now;
    listener.maxConnections = options.limits.maxConnections;
    listener.on("connection", (socket: Socket) => this.accept(socket));
    listener.on("drop", () => this.refusedConnections++);
    this.sweeper = setInterval(() => this.sweep(), options.limits.sweepMs);
    this.sweeper.unref();
  }

  static async start(handler: ClientRequestHandler, options: ClientPortOptions): Promise<ClientPort> {
    const { limits } = options;
    const grpcServer = new grpc.Server({
      "grpc.max_receive_message_length": limits.maxRequestBytes + PAYLOAD_OVERHEAD_BYTES,
      "grpc.max_send_message_length": limits.maxMessageBytes,
      "grpc.max_concurrent_streams": limits.maxCallsPerConnection,
      "grpc.keepalive_time_ms": 30_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.keepalive_permit_without_calls": 1,
      // channelz's per-call bookkeeping is a tenth of a unary call's CPU here, and nothing reads it
      "grpc.enable_channelz": 0,
    });
    const listener = createServer();
    const port: { current?: ClientPort } = {};
    grpcServer.addService(REQUEST_SERVICE, {
      request: (call: UnaryCall, callback: grpc.sendUnaryData<Buffer>) => port.current?.unary(call, callback),
    });
    grpcServer.addService(STREAM_SERVICE, { requestBiStream: (call: StreamCall) => port.current?.stream(call) });
    const injector = grpcServer.createConnectionInjector(credentialsOf(options.tls));
    port.current = new ClientPort(handler, options, listener, grpcServer, injector);
    listener.listen(options.port, options.host);
    await once(listener, "listening");
    return port.current;
  }

  get port(): number {
    const address = this.listener.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /** Set-up connections, for the operator's view. */
  connections(): ClientConnectionMeta[] {
    return [...this.byId.values()].flatMap((c) => (c.meta === undefined ? [] : [c.meta]));
  }

  stats(): ClientPortStats {
    let setUp = 0;
    for (const c of this.byId.values()) if (c.meta !== undefined) setUp++;
    return {
      connections: this.byId.size,
      setUp,
      refusedConnections: this.refusedConnections,
      detectionDrops: this.detectionDrops,
      requests: this.requestCounts,
      requestSeconds: new Map([...this.requestDurations].map(([type, histogram]) => [type, histogram.summary()])),
    };
  }

  /**
   * Sends a server request of `type` (its fields in `body`) on a connection's stream; resolves with the answer,
   * or undefined when the connection is gone or not set up, too many requests are in flight on it, or no answer
   * came in time. Never rejects.
   */
  request(connectionId: string, type: string, body: Readonly<Record<string, unknown>>): Promise<ResponseBody | undefined> {
    const connection = this.byId.get(connectionId);
    if (connection?.meta === undefined) return Promise.resolve(undefined);
    const { serverRequestTimeoutMs, maxServerRequestsPerConnection } = this.options.limits;
    return connection.request(type, body, serverRequestTimeoutMs, maxServerRequestsPerConnection);
  }

  /**
   * Nacos's `loadSingle`: sends `ConnectResetRequest` (naming where to go, if anywhere), waits for the answer (at
   * most `resetTimeoutMs`), then closes the connection; the client reconnects, to `redirect` if given.
   * False when there is no such connection.
   */
  async reset(connectionId: string, redirect?: Redirect): Promise<boolean> {
    const connection = this.byId.get(connectionId);
    if (connection === undefined) return false;
    const target = redirect === undefined ? {} : { serverIp: redirect.ip, serverPort: String(redirect.port) };
    const { resetTimeoutMs, maxServerRequestsPerConnection } = this.options.limits;
    // One more than the push limit: a connection busy with pushes is still told.
    await connection.request(
      "ConnectResetRequest",
      { module: "internal", connectionId, ...target },
      resetTimeoutMs,
      maxServerRequestsPerConnection + 1,
    );
    this.drop(connection, "reset");
    return true;
  }

  /**
   * A graceful stop: no new connection is accepted, every client is sent `ConnectResetRequest` (so it moves to
   * another server at once instead of finding this one gone), and after their answers or `timeoutMs` every
   * connection is closed.
   */
  async close(timeoutMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweeper);
    this.listener.close();
    const resets = Promise.all([...this.byId.keys()].map((id) => this.reset(id)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([resets, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    for (const connection of [...this.byId.values()]) this.drop(connection, "server stopping");
    this.injector.destroy();
    this.grpcServer.forceShutdown();
  }

  private accept(socket: Socket): void {
    const ip = plainIp(socket.remoteAddress ?? "");
    const remotePort = socket.remotePort ?? 0;
    const fromIp = this.perIp.get(ip) ?? 0;
    if (this.stopping || ip === "" || fromIp >= this.options.limits.maxConnectionsPerIp) {
      this.refusedConnections++;
      socket.destroy();
      return;
    }
    const id = `${this.clock()}_${ip}_${remotePort}`;
    const connection = new ClientConnection(id, `${socket.remoteAddress}:${remotePort}`, ip, remotePort, socket, this.clock());
    this.byPeer.set(connection.peer, connection);
    this.byId.set(connection.id, connection);
    this.perIp.set(ip, fromIp + 1);
    // A socket error is followed by its close, which is what counts.
    socket.on("error", () => {});
    socket.once("close", () => this.closeConnection(connection, "connection closed"));
    this.injector.injectConnection(socket);
  }

  private unary(call: UnaryCall, callback: grpc.sendUnaryData<Buffer>): void {
    const started = performance.now();
    this.answer(call).then(
      ({ request, response }) => {
        this.count(request, response.body, (performance.now() - started) / 1000);
        callback(null, writePayload(response.type, response.body));
      },
      (err: unknown) => {
        this.options.log.error("client request failed", { error: String(err) });
        callback(null, writePayload("ErrorResponse", errorResponse(ErrorCode.SERVER_ERROR, "internal error").body));
      },
    );
  }

  /** What a unary request gets, in Nacos's order of checks. */
  private async answer(call: UnaryCall): Promise<{ request: string; response: TypedResponse }> {
    const message = readPayload(call.request, this.options.limits.maxRequestBytes);
    if (message === undefined)
      return { request: "unknown", response: errorResponse(ErrorCode.BAD_GATEWAY, "Invalid request: not a Payload") };
    const known = INTERNAL.has(message.type) || this.handler.handles(message.type);
    const request = known ? message.type : "unknown";
    const requestId = requestIdOf(message.body);
    const reply = (response: TypedResponse) => ({ request, response });
    if (!this.handler.accepting) return reply(errorResponse(ErrorCode.STARTING, "Server is starting,please try later.", requestId));
    const connection = this.byPeer.get(call.getPeer());
    if (message.type === SERVER_CHECK && connection !== undefined) {
      // No ability negotiation: the 2.2+ Java client then waits for no SetupAckRequest.
      const fields = { connectionId: connection.id, supportAbilityNegotiation: false };
      return reply({ type: "ServerCheckResponse", body: success(requestId, fields) });
    }
    if (!known) return reply(errorResponse(ErrorCode.NO_HANDLER, "RequestHandler Not Found", requestId));
    if (connection?.meta === undefined) return reply(errorResponse(ErrorCode.UNREGISTERED, "Connection is unregistered.", requestId));
    if (message.body === undefined) {
      const problem = message.problem!;
      return reply(errorResponse(problem.errorCode, problem.message, requestId));
    }
    connection.lastActiveAt = this.clock();
    if (message.type === HEALTH_CHECK) return reply({ type: "HealthCheckResponse", body: success(requestId) });
    const response = await this.handler.handle({
      type: message.type,
      requestId,
      body: message.body,
      headers: message.headers,
      connection: connection.meta,
    });
    return reply(response);
  }

  /** Counts an answered request by type and result, and how long it took (`request` is bounded: known types or `unknown`). */
  private count(request: string, body: ResponseBody, seconds: number): void {
    const code = body.resultCode === SUCCESS ? 0 : typeof body.errorCode === "number" ? body.errorCode : ErrorCode.SERVER_ERROR;
    const byCode = this.requestCounts.get(request) ?? new Map<number, number>();
    this.requestCounts.set(request, byCode);
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    let durations = this.requestDurations.get(request);
    if (durations === undefined) {
      durations = new DurationHistogram();
      this.requestDurations.set(request, durations);
    }
    durations.observe(seconds);
  }

  private stream(call: StreamCall): void {
    const connection = this.byPeer.get(call.getPeer());
    // One stream per connection (a second would split its pushes); none for a connection not accepted here.
    if (connection === undefined || connection.stream !== undefined || this.stopping) {
      call.end();
      return;
    }
    connection.stream = call;
    call.on("data", (bytes: Buffer) => this.streamMessage(connection, bytes));
    call.on("error", () => this.drop(connection, "stream failed"));
    call.on("end", () => this.drop(connection, "stream ended"));
    call.on("cancelled", () => this.drop(connection, "stream cancelled"));
  }

  private streamMessage(connection: ClientConnection, bytes: Buffer): void {
    const message = readPayload(bytes, this.options.limits.maxRequestBytes);
    if (message?.body === undefined) {
      this.options.log.debug("client stream: ignored a message that is no request or answer", { connection: connection.id });
      return;
    }
    if (message.type === SETUP) {
      this.setUp(connection, message.body);
      return;
    }
    // A client's answer to one of the server's requests (NotifySubscriberResponse, ClientDetectionResponse, ...).
    const requestId = requestIdOf(message.body);
    if (requestId !== undefined && connection.settle(requestId, message.body)) connection.lastActiveAt = this.clock();
  }

  private setUp(connection: ClientConnection, body: Readonly<Record<string, unknown>>): void {
    if (connection.meta !== undefined) return;
    const { clientVersion, tenant } = body;
    const labels = labelsOf(body.labels);
    const version = clientVersion ?? "";
    const namespace = tenant ?? "";
    if (!isText(version, MAX_SETUP_TEXT) || !isText(namespace, MAX_TENANT) || labels === undefined) {
      this.options.log.warn("client connection refused: a malformed ConnectionSetupRequest", { connection: connection.id });
      this.drop(connection, "malformed ConnectionSetupRequest");
      return;
    }
    // As Nacos: a starting server takes no SDK connection (the client tries another server).
    if (!this.handler.accepting || this.stopping) {
      this.drop(connection, "server not accepting clients");
      return;
    }
    connection.meta = {
      id: connection.id,
      remoteIp: connection.remoteIp,
      remotePort: connection.remotePort,
      clientVersion: version,
      tenant: namespace,
      labels,
      appName: labels[APP_LABEL] ?? NO_APP,
      connectedAt: connection.openedAt,
    };
    connection.lastActiveAt = this.clock();
    this.handler.opened(connection.meta);
  }

  /** Probes silent connections, and closes those that never set up or did not answer the last probe. */
  private sweep(): void {
    const now = this.clock();
    const { idleMs, detectionTimeoutMs, maxServerRequestsPerConnection } = this.options.limits;
    for (const connection of [...this.byId.values()]) {
      if (connection.meta === undefined) {
        if (now - connection.openedAt >= idleMs) {
          this.detectionDrops++;
          this.drop(connection, "no ConnectionSetupRequest");
        }
        continue;
      }
      if (connection.detecting || now - connection.lastActiveAt < idleMs) continue;
      connection.detecting = true;
      void connection
        .request("ClientDetectionRequest", { module: "internal" }, detectionTimeoutMs, maxServerRequestsPerConnection + 1)
        .then((answer) => {
          connection.detecting = false;
          if (answer?.resultCode === SUCCESS) {
            connection.lastActiveAt = this.clock();
            return;
          }
          if (connection.closed) return;
          this.detectionDrops++;
          this.options.log.info("client connection closed: no answer to ClientDetectionRequest", { connection: connection.id });
          this.drop(connection, "no answer to ClientDetectionRequest");
        });
    }
  }

  /** Closes a connection now: its socket is destroyed and the handler told. */
  private drop(connection: ClientConnection, reason: string): void {
    this.closeConnection(connection, reason);
    connection.socket.destroy();
  }

  private closeConnection(connection: ClientConnection, reason: string): void {
    if (connection.closed) return;
    connection.closed = true;
    this.byPeer.delete(connection.peer);
    this.byId.delete(connection.id);
    const left = (this.perIp.get(connection.remoteIp) ?? 1) - 1;
    if (left > 0) this.perIp.set(connection.remoteIp, left);
    else this.perIp.delete(connection.remoteIp);
    connection.abandon();
    if (connection.meta === undefined) return;
    try {
      this.handler.closed(connection.id, reason);
    } catch (err) {
      this.options.log.error("closing a client connection failed", { connection: connection.id, error: String(err) });
    }
  }
}
