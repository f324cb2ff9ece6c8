/**
 * Serves DistroService and MemberService (and server reflection) by calling a PeerHandler. Every call is
 * admitted by its metadata and decoded completely before the handler sees it, so a refused or invalid call
 * changes nothing; a handler failure answers INTERNAL and never takes the server down.
 */
import { once } from "node:events";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { joinAddress } from "../../cluster/member.js";
import type { Log } from "../../core/log.js";
import { NotReadyError, type PeerHandler, type SnapshotChunk } from "../peer-transport.js";
import {
  DistroService,
  ForwardResponseSchema,
  QueryResponseSchema,
  SnapshotResponseSchema,
  SyncResponseSchema,
  VerifyResponseSchema,
  type SnapshotRequest,
} from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { MemberService, ReportResponseSchema } from "../../../gen/nacos/cluster/v1/member_pb.js";
import { ServerReflection } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { channelOptions, DEFAULT_CONNECTION_SETTINGS, type ConnectionSettings } from "./connection-settings.js";
import { decodeDatums, encodeDatum } from "./datum-codec.js";
import { decodeVerify, encodeChunk, encodeVerifyReply } from "./distro-codec.js";
import { InvalidMessageError } from "./invalid-message.js";
import { decodeMember, encodeMember } from "./member-codec.js";
import { admit, CallRefused, SOURCE_KEY } from "./peer-metadata.js";
import { reflectionImpl } from "./reflection.js";
import { isUndecodable, toGrpcServiceDefinition, type ServiceImpl } from "./service-adapter.js";
import { decodeWrite, encodeOutcome } from "./write-codec.js";

export interface ServerTls {
  /** PEM certificate chain and private key of this server. */
  readonly cert: Buffer;
  readonly key: Buffer;
  /** When set, callers must present a certificate signed by this CA (mutual TLS). */
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
  readonly connection?: Partial<ConnectionSettings>;
  /** Serve gRPC reflection (default true): the schema is public, so it is open even in a secured cluster. */
  readonly reflection?: boolean;
  readonly log?: Log;
}

type DistroImpl = ServiceImpl<typeof DistroService.method>;

/**
 * Snapshot chunks are encoded by the handler, which must know each one's size before sending it (grpc-js
 * would otherwise end an oversized stream message with its own RESOURCE_EXHAUSTED and the handler would
 * never learn); the definition then passes the bytes through.
 */
type ServedDistro = Omit<DistroImpl, "snapshot"> & {
  snapshot: grpc.handleServerStreamingCall<SnapshotRequest, Uint8Array>;
};

function distroDefinition(): grpc.ServiceDefinition<ServedDistro> {
  const base = toGrpcServiceDefinition(DistroService, { tolerateUndecodable: true });
  const passBytes = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { ...base, snapshot: { ...base.snapshot, responseSerialize: passBytes } };
}

/** The handler produced a snapshot chunk that cannot be sent as one message. */
class ChunkTooLarge extends Error {
  override name = "ChunkTooLarge";
}

/** Resolves true once the stream can take more, false when the call ended first (cancelled or closed). */
async function drained(call: grpc.ServerWritableStream<unknown, unknown>): Promise<boolean> {
  const stop = new AbortController();
  const { signal } = stop;
  try {
    return await Promise.race([
      once(call, "drain", { signal }).then(() => true),
      once(call, "cancelled", { signal }).then(() => false),
      once(call, "close", { signal }).then(() => false),
    ]);
  } catch {
    return false; // the stream failed
  } finally {
    stop.abort();
  }
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

export class GrpcPeerServer {
  /** Times a snapshot stream paused until its reader caught up (backpressure at work). */
  drainWaits = 0;
  private readonly server: grpc.Server;
  private readonly settings: ConnectionSettings;
  private boundPort = 0;

  private constructor(
    private readonly handler: PeerHandler,
    private readonly options: GrpcPeerServerOptions,
  ) {
    this.settings = { ...DEFAULT_CONNECTION_SETTINGS, ...options.connection };
    this.server = new grpc.Server(channelOptions(this.settings));
    this.server.addService(distroDefinition(), this.distroImpl());
    this.server.addService(toGrpcServiceDefinition(MemberService, { tolerateUndecodable: true }), {
      report: this.unary("report", async (request, source) => {
        const reporter = decodeMember(request.member, "member");
        // Secured: a member may only speak for itself.
        if (options.secret !== undefined && reporter.address !== source) {
          const problem = `member.address '${reporter.address}' is not the caller '${source}'`;
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

  /** Lets running calls finish for up to `graceMs`, then cuts them (streams see CANCELLED). */
  close(graceMs = 1000): Promise<void> {
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }

  private distroImpl(): ServedDistro {
    const h = this.handler;
    return {
      sync: this.unary("sync", async (request, source) => {
        const datums = decodeDatums(request.datums, "datums");
        h.onSync(required(source), datums);
        return create(SyncResponseSchema);
      }),
      verify: this.unary("verify", async (request, source) => {
        const digest = decodeVerify(request, required(source), "request");
        return create(VerifyResponseSchema, encodeVerifyReply(h.onVerify(digest)));
      }),
      query: this.unary("query", async (request) => {
        const datums = h.onQuery(request.keys);
        return create(QueryResponseSchema, { datums: datums.map(encodeDatum) });
      }),
      forward: this.unary("forward", async (request) => {
        const write = decodeWrite(request.write, "write");
        return create(ForwardResponseSchema, encodeOutcome(await h.onForward(write)));
      }),
      snapshot: (call) => void this.streamSnapshot(call),
    };
  }

  /** Admits the call and checks it parsed; the caller's member address when known. */
  private check(call: { readonly metadata: grpc.Metadata; readonly request: object }): string | undefined {
    const source = admit(call.metadata, this.options.secret, (address) => this.handler.isMember(address));
    if (isUndecodable(call.request)) throw new InvalidMessageError("request", "is not a valid encoding of its message");
    return source;
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
    try {
      this.check(call);
      chunks = this.handler.onSnapshot(call.request.resumeAfter)[Symbol.asyncIterator]();
      for (;;) {
        const next = await chunks.next();
        if (next.done === true || call.cancelled) break;
        const bytes = this.encodeChunk(next.value);
        if (!call.write(bytes)) {
          this.drainWaits++;
          if (!(await drained(call))) return;
        }
      }
      if (!call.cancelled) call.end();
    } catch (err) {
      if (!call.cancelled) call.emit("error", this.status("snapshot", err));
    } finally {
      // Stops the producer (running its `finally`) when the stream ends early.
      await chunks?.return?.().catch(() => undefined);
    }
  }

  private encodeChunk(chunk: SnapshotChunk): Uint8Array {
    const bytes = toBinary(SnapshotResponseSchema, create(SnapshotResponseSchema, encodeChunk(chunk)));
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
    if (err instanceof CallRefused) {
      this.options.log?.warn("peer call refused", { rpc, code: grpc.status[err.code], reason: err.message });
      return { code: err.code, details: err.message };
    }
    if (err instanceof InvalidMessageError) {
      this.options.log?.warn("invalid peer message", { rpc, reason: err.message });
      return { code: grpc.status.INVALID_ARGUMENT, details: err.message };
    }
    if (err instanceof NotReadyError) {
      // Expected while this node loads: the caller tries another peer or again later.
      this.options.log?.debug("peer call deferred: not ready", { rpc });
      return { code: grpc.status.UNAVAILABLE, details: err.message };
    }
    if (err instanceof ChunkTooLarge) {
      this.options.log?.error("snapshot chunk too large", { reason: err.message });
      return { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message };
    }
    const message = err instanceof Error ? err.message : String(err);
    this.options.log?.error("peer call failed", { rpc, error: message });
    return { code: grpc.status.INTERNAL, details: `${rpc} failed: ${message}` };
  }
}

/** Sync and verify act on behalf of the caller, so they need to know who it is even in an open cluster. */
function required(source: string | undefined): string {
  if (source === undefined) throw new InvalidMessageError(`metadata ${SOURCE_KEY}`, "is required");
  return source;
}
