/**
 * Serves DistroService and MemberService (and server reflection) by calling a PeerHandler. Every call is
 * admitted from its metadata and connection before grpc-js reads a byte of its message (admission.ts),
 * then decoded completely and checked before the handler sees it, so a refused or invalid call changes
 * nothing; a handler failure answers INTERNAL and never takes the server down. What one call may cost is
 * bounded: message sizes, repeated-field counts, the size of answers, and how long a snapshot stream may wait
 * for a reader that stopped reading.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { joinAddress } from "../../core/address.js";
import { estimateBytes } from "../../core/datum-size.js";
import type { Log } from "../../core/log.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import { BusyError, NotReadyError, type PeerHandler, type SnapshotChunk } from "../../node/ports.js";
import { PeerIdentity } from "../peer-identity.js";
import {
  DistroService,
  ForwardBatchRequestSchema,
  ForwardBatchResponseSchema,
  PipeResponseSchema,
  ForwardResponseSchema,
  QueryResponseSchema,
  SyncResponseSchema,
  VerifyResponseSchema,
  type SnapshotRequest,
  type SyncResponse,
  type ForwardBatchRequest,
  type ForwardBatchResponse,
  type PipeResponse,
} from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { MemberService, ReportResponseSchema } from "../../../gen/nacos/cluster/v1/member_pb.js";
import { ServerReflection } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { channelOptions, DEFAULT_CONNECTION_SETTINGS, MESSAGE_OVERHEAD_BYTES, type ConnectionSettings } from "./connection-settings.js";
import { decodeDatums, encodeDatum } from "./codecs/datum.js";
import { decodeVerify, encodeVerifyReply } from "./codecs/distro.js";
import { readSyncRequest } from "./codecs/datum-reader.js";
import { PIPE_FORWARD_BATCH, PIPE_SYNC, readPipeRequest } from "./pipe.js";
import { writeSnapshotChunk } from "./codecs/datum-writer.js";
import { InvalidMessageError, LIMITS, atMost } from "./codecs/invalid.js";
import { decodeMember, encodeMember } from "./codecs/member.js";
import { admissionInterceptor, admittedSource } from "./admission.js";
import { CallRefused, SOURCE_KEY } from "./metadata.js";
import { reflectionImpl } from "./reflection.js";
import { ReaderStalled, StreamProgress } from "./stream-progress.js";
import { isUndecodable, toGrpcServiceDefinition, type ServiceImpl } from "./service-adapter.js";
import { decodeWrite, encodeOutcome } from "./codecs/write.js";

export interface ServerTls {
  /** PEM certificate chain and private key of this server. */
  readonly cert: Buffer;
  readonly key: Buffer;
  /**
   * When set, callers must present a certificate signed by this CA (mutual TLS), and the certificate must name
   * the member the caller claims to be.
   */
  readonly clientCa?: Buffer | undefined;
}

export interface GrpcPeerServerOptions {
  /** Address to bind (IPv6 without brackets). */
  readonly host: string;
  /** 0 picks a free port; `port` then tells which. */
  readonly port: number;
  /** The cluster secret callers must present; without it the server admits everyone. */
  readonly secret?: string | undefined;
  readonly tls?: ServerTls | undefined;
  /** The message limit (`--max-message-bytes`), and any connection setting to change. */
  readonly connection: Pick<ConnectionSettings, "maxMessageBytes"> & Partial<ConnectionSettings>;
  /** Serve gRPC reflection (default true): the schema is public, so it is open even in a secured cluster. */
  readonly reflection?: boolean;
  /** Checks callers against the member they name; the system resolver unless a test says otherwise. */
  readonly identity?: PeerIdentity;
  /** A snapshot stream whose reader takes no chunk for this long is cut (default 30 s). */
  readonly snapshotStallMs?: number;
  /** A call from a member's address, naming it, was refused for a missing or wrong secret. */
  readonly onSecretRefused?: (member: string) => void;
  readonly log?: Log;
}

type DistroImpl = ServiceImpl<typeof DistroService.method>;

type PipeCall = grpc.ServerDuplexStream<Buffer, Buffer>;

/**
 * Snapshot chunks are encoded by the handler, which must know each one's size before sending it (grpc-js
 * would otherwise end an oversized stream message with its own RESOURCE_EXHAUSTED and the handler would
 * never learn); the definition then passes the bytes through.
 */
type ServedDistro = Omit<DistroImpl, "snapshot" | "sync" | "pipe"> & {
  snapshot: grpc.handleServerStreamingCall<SnapshotRequest, Uint8Array>;
  /** Sync requests come as bytes, parsed by the hand-written reader (replication's largest cost here). */
  sync: grpc.handleUnaryCall<Buffer, SyncResponse>;
  /** Pipe messages come and go as bytes: the envelope is read and written here. */
  pipe: grpc.handleBidiStreamingCall<Buffer, Buffer>;
};

function distroDefinition(): grpc.ServiceDefinition<ServedDistro> {
  const base = toGrpcServiceDefinition(DistroService, { tolerateUndecodable: true });
  const passBytes = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keepBytes = (bytes: Buffer): Buffer => bytes;
  return {
    ...base,
    snapshot: { ...base.snapshot, responseSerialize: passBytes },
    sync: { ...base.sync, requestDeserialize: keepBytes },
    pipe: { ...base.pipe, requestDeserialize: keepBytes, responseSerialize: keepBytes },
  } as grpc.ServiceDefinition<ServedDistro>;
}

/** The handler produced a snapshot chunk that cannot be sent as one message. */
class ChunkTooLarge extends Error {
  override name = "ChunkTooLarge";
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err === null ? resolve(port) : reject(err)));
  });
}

function serverCredentials(tls: ServerTls | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  const keyCert = [{ cert_chain: tls.cert, private_key: tls.key }];
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, keyCert, tls.clientCa !== undefined);
}

const REFLECTION_PREFIX = `/${ServerReflection.typeName}/`;

export class GrpcPeerServer {
  /** Times a snapshot stream paused until its reader caught up (backpressure at work). */
  drainWaits = 0;
  private readonly server: grpc.Server;
  private readonly settings: ConnectionSettings;
  private readonly stallMs: number;
  private boundPort = 0;
  /** Open Pipe streams and the requests each is answering. */
  private readonly pipes = new Map<PipeCall, number>();
  private stopping = false;

  private constructor(
    private readonly handler: PeerHandler,
    private readonly options: GrpcPeerServerOptions,
  ) {
    this.settings = { ...DEFAULT_CONNECTION_SETTINGS, ...options.connection };
    this.stallMs = options.snapshotStallMs ?? 30_000;
    const admission = admissionInterceptor({
      secret: options.secret,
      isMember: (address) => handler.isMember(address),
      identity: options.identity ?? new PeerIdentity(),
      checkCertificate: options.tls?.clientCa !== undefined,
      isOpen: (path) => path.startsWith(REFLECTION_PREFIX),
      onSecretRefused: options.onSecretRefused,
      log: options.log,
    });
    this.server = new grpc.Server({ ...channelOptions(this.settings), interceptors: [admission] });
    this.server.addService(distroDefinition(), this.distroImpl());
    this.server.addService(toGrpcServiceDefinition(MemberService, { tolerateUndecodable: true }), {
      report: this.unary("report", async (request, source) => {
        const caller = required(source);
        const reporter = decodeMember(request.member, "member");
        // A member speaks only for itself: the report must describe the member the call was admitted as.
        if (reporter.address !== caller) {
          const problem = `member.address '${reporter.address}' is not the caller '${caller}'`;
          throw new CallRefused(grpc.status.PERMISSION_DENIED, problem);
        }
        return create(ReportResponseSchema, { member: encodeMember(this.handler.onReport(reporter)) });
      }),
    });
    if (options.reflection !== false) {
      this.server.addService(toGrpcServiceDefinition(ServerReflection), reflectionImpl([DistroService, MemberService]));
    }
  }

  static async start(handler: PeerHandler, options: GrpcPeerServerOptions): Promise<GrpcPeerServer> {
    const peerServer = new GrpcPeerServer(handler, options);
    const address = joinAddress(options.host, options.port);
    peerServer.boundPort = await bind(peerServer.server, address, serverCredentials(options.tls));
    return peerServer;
  }

  get port(): number {
    return this.boundPort;
  }

  /**
   * Lets running calls finish for up to `graceMs`, then cuts them (streams see CANCELLED). A peer's Pipe never
   * ends on its own, so each is ended as soon as it has answered the requests it holds: the stop then takes
   * as long as the work in flight, not the whole grace.
   */
  close(graceMs = 1000): Promise<void> {
    this.stopping = true;
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
      for (const call of this.pipes.keys()) this.endPipeIfIdle(call);
    });
  }

  /** What one answer may hold: the message limit less the room its framing takes. */
  private get answerBudget(): number {
    return this.settings.maxMessageBytes - MESSAGE_OVERHEAD_BYTES;
  }

  private distroImpl(): ServedDistro {
    const h = this.handler;
    return {
      sync: this.unary("sync", async (bytes: Buffer, source) => this.sync(bytes, required(source))),
      pipe: (call) => this.servePipe(call),
      verify: this.unary("verify", async (request, source) => {
        const digest = decodeVerify(request, required(source), "request");
        return create(VerifyResponseSchema, encodeVerifyReply(h.onVerify(digest)));
      }),
      query: this.unary("query", async (request) => {
        const keys = atMost(request.keys, LIMITS.keysPerQuery, "keys");
        const { sent, unsentKeys } = withinBudget(h.onQuery(keys), this.answerBudget);
        return create(QueryResponseSchema, { datums: sent.map(encodeDatum), unsentKeys });
      }),
      forward: this.unary("forward", async (request) => {
        const write = decodeWrite(request.write, "write");
        return create(ForwardResponseSchema, encodeOutcome(await h.onForward(write)));
      }),
      forwardBatch: this.unary("forwardBatch", async (request) => this.forwardBatch(request)),
      snapshot: (call) => void this.streamSnapshot(call),
    };
  }

  private sync(bytes: Buffer, source: string): SyncResponse {
    const datums = decodeDatums(readSyncRequest(bytes).datums, "datums");
    return create(SyncResponseSchema, { refused: [...this.handler.onSync(source, datums).refused] });
  }

  private async forwardBatch(request: ForwardBatchRequest): Promise<ForwardBatchResponse> {
    // Every write is decoded before any runs: an invalid one refuses the whole call and changes nothing.
    const writes = atMost(request.writes, LIMITS.writesPerForwardBatch, "writes").map((w, n) => decodeWrite(w.write, `writes[${n}].write`));
    const outcomes = [];
    for (const write of writes) outcomes.push(encodeOutcome(await this.handler.onForward(write)));
    return create(ForwardBatchResponseSchema, { outcomes });
  }

  /**
   * One caller's Pipe: each request is answered as its unary call would be, under the id it came with. The
   * stream was admitted once, by its metadata; a request that does not decode gets INVALID_ARGUMENT and the
   * stream goes on.
   */
  private servePipe(call: PipeCall): void {
    const source = admittedSource(call.metadata);
    this.pipes.set(call, 0);
    call.on("data", (bytes: Buffer) => {
      const inFlight = this.pipes.get(call);
      if (inFlight === undefined) return; // ended by a stop: the caller's request fails with the stream and is retried elsewhere
      this.pipes.set(call, inFlight + 1);
      void this.pipeRequest(bytes, source).then((answer) => {
        if (!call.cancelled && !call.destroyed) call.write(Buffer.from(toBinary(PipeResponseSchema, answer)));
        const left = this.pipes.get(call);
        if (left === undefined) return;
        this.pipes.set(call, left - 1);
        this.endPipeIfIdle(call);
      });
    });
    const forget = (): void => void this.pipes.delete(call);
    call.on("end", () => {
      forget();
      call.end();
    });
    call.on("cancelled", forget);
    call.on("error", forget);
  }

  /** A stopping server ends a Pipe once it holds no request. */
  private endPipeIfIdle(call: PipeCall): void {
    if (!this.stopping || this.pipes.get(call) !== 0) return;
    this.pipes.delete(call);
    call.end();
  }

  private async pipeRequest(bytes: Buffer, source: string | undefined): Promise<PipeResponse> {
    let id = 0n;
    let rpc = "pipe";
    try {
      const envelope = readPipeRequest(bytes);
      id = envelope.id;
      rpc = envelope.field === PIPE_SYNC ? "sync" : envelope.field === PIPE_FORWARD_BATCH ? "forwardBatch" : rpc;
      if (envelope.field === PIPE_SYNC) {
        return create(PipeResponseSchema, { id, body: { case: "sync", value: this.sync(envelope.body, required(source)) } });
      }
      if (envelope.field === PIPE_FORWARD_BATCH) {
        const request = fromBinary(ForwardBatchRequestSchema, envelope.body);
        return create(PipeResponseSchema, { id, body: { case: "forwardBatch", value: await this.forwardBatch(request) } });
      }
      throw new InvalidMessageError("body", "is not set, or is a kind this node does not know");
    } catch (err) {
      const { code, details } = this.status(rpc, err);
      return create(PipeResponseSchema, {
        id,
        body: { case: "error", value: { code: code ?? grpc.status.INTERNAL, message: details ?? "" } },
      });
    }
  }

  /** The admitted caller, once its message is known to have parsed. */
  private check(call: { readonly metadata: grpc.Metadata; readonly request: object }): string | undefined {
    if (isUndecodable(call.request)) throw new InvalidMessageError("request", "is not a valid encoding of its message");
    return admittedSource(call.metadata);
  }

  private unary<Req extends object, Res>(
    rpc: string,
    run: (request: Req, source: string | undefined) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const answer = (async () => run(call.request, this.check(call)))();
      answer.then(
        (response) => callback(null, response),
        (err: unknown) => callback(this.status(rpc, err)),
      );
    };
  }

  private async streamSnapshot(call: grpc.ServerWritableStream<SnapshotRequest, Uint8Array>): Promise<void> {
    let chunks: AsyncIterator<SnapshotChunk> | undefined;
    const progress = new StreamProgress(call, this.stallMs);
    try {
      this.check(call);
      chunks = this.handler.onSnapshot(call.request.resumeAfter)[Symbol.asyncIterator]();
      for (;;) {
        const next = await chunks.next();
        if (next.done === true || call.cancelled) break;
        const bytes = this.encodeChunk(next.value);
        if (!progress.write(bytes)) {
          this.drainWaits++;
          if (!(await progress.drained())) return;
        }
        // One chunk per turn of the event loop: streams in progress never hold up client requests for long.
        await yieldToEventLoop();
      }
      if (!call.cancelled) await progress.end();
    } catch (err) {
      if (err instanceof ReaderStalled) {
        this.options.log?.warn("snapshot stream cut: its reader stalled", { reason: err.message, peer: call.getPeer() });
        progress.cut();
      } else if (!call.cancelled) call.emit("error", this.status("snapshot", err));
    } finally {
      progress.close();
      // Stops the producer (and frees its stream slot) when the stream ends early.
      await chunks?.return?.().catch(() => undefined);
    }
  }

  private encodeChunk(chunk: SnapshotChunk): Uint8Array {
    const bytes = writeSnapshotChunk(chunk);
    const max = this.settings.maxMessageBytes;
    if (bytes.length > max) {
      throw new ChunkTooLarge(
        `snapshot chunk of ${chunk.datums.length} datums ending at '${chunk.resumeToken}' encodes to ${bytes.length} bytes, ` +
          `over the ${max}-byte message limit: lower the snapshot chunk budget or raise the limit`,
      );
    }
    return bytes;
  }

  private status(rpc: string, err: unknown): Partial<grpc.StatusObject> {
    const log = this.options.log;
    if (err instanceof CallRefused) {
      log?.warn("peer call refused", { rpc, code: grpc.status[err.code], reason: err.message });
      return { code: err.code, details: err.message };
    }
    if (err instanceof InvalidMessageError) {
      log?.warn("invalid peer message", { rpc, reason: err.message });
      return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
    }
    if (err instanceof NotReadyError) {
      // Expected while this node loads: the caller tries another peer or again later.
      log?.debug("peer call deferred: not ready", { rpc });
      return { code: grpc.status.UNAVAILABLE, details: err.message };
    }
    if (err instanceof BusyError) {
      log?.warn("peer call deferred: busy", { rpc, reason: err.message });
      return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message };
    }
    if (err instanceof ChunkTooLarge) {
      log?.error("snapshot chunk too large", { reason: err.message });
      return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message };
    }
    const message = err instanceof Error ? err.message : String(err);
    log?.error("peer call failed", { rpc, error: message });
    return { code: grpc.status.INTERNAL, details: `${rpc} failed: ${message}` };
  }
}

/** The leading datums that fit `budget` (at least one, which the size limit of one service guarantees fits). */
function withinBudget(datums: readonly ServiceDatum[], budget: number): { sent: ServiceDatum[]; unsentKeys: string[] } {
  let bytes = 0;
  let n = 0;
  for (; n < datums.length; n++) {
    bytes += estimateBytes(datums[n]!);
    if (n > 0 && bytes > budget) break;
  }
  return { sent: datums.slice(0, n), unsentKeys: datums.slice(n).map((d) => d.key) };
}

const missingSource = (): InvalidMessageError => new InvalidMessageError(`metadata ${SOURCE_KEY}`, "is required");

/** The caller of a method admission checked (every one but reflection): admitted calls always name one. */
function required(source: string | undefined): string {
  if (source === undefined) throw missingSource();
  return source;
}
