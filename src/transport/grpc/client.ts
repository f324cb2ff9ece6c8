/**
 * PeerTransport over gRPC: one channel per peer, the caller's identity in every call's metadata, a deadline
 * on every unary call and an idle deadline on the snapshot stream, and every failure as a PeerError.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { splitAddress } from "../../core/address.js";
import type { MemberInfo } from "../../node/cluster/member.js";
import type { ClientWrite } from "../../core/ops.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import {
  PeerError,
  type ForwardOutcome,
  type PeerDirectory,
  type PeerTransport,
  type SnapshotChunk,
  type SyncOutcome,
  type VerifyDigest,
  type VerifyReply,
} from "../../node/ports.js";
import {
  DistroService,
  ForwardBatchRequestSchema,
  ForwardRequestSchema,
  QueryRequestSchema,
  SnapshotRequestSchema,
  SyncResponseSchema,
  VerifyRequestSchema,
  type SyncResponse,
  type ForwardBatchResponse,
  type PipeResponse,
} from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { MemberService, ReportRequestSchema } from "../../../gen/nacos/cluster/v1/member_pb.js";
import { channelOptions, DEFAULT_CONNECTION_SETTINGS, MESSAGE_OVERHEAD_BYTES, type ConnectionSettings } from "./connection-settings.js";
import { decodeDatums } from "./codecs/datum.js";
import { decodeChunk, decodeVerifyReply, encodeVerify } from "./codecs/distro.js";
import { InvalidMessageError } from "./codecs/invalid.js";
import { decodeMember, encodeMember } from "./codecs/member.js";
import { callMetadata } from "./metadata.js";
import { makeClientConstructor, unary, unaryEncoded, type ServiceClient } from "./service-adapter.js";
import { decodeOutcome, encodeWrite } from "./codecs/write.js";
import { withIdleTimeout } from "../idle-timeout.js";
import { readSnapshotChunk } from "./codecs/datum-reader.js";
import { writeSyncRequest } from "./codecs/datum-writer.js";
import { ForwardBatcher } from "./forward-batcher.js";
import { PIPE_FORWARD_BATCH, PIPE_SYNC, Pipe, PipeFailure, PipeUnsupported } from "./pipe.js";

const SYNC_PATH = `/${DistroService.typeName}/${DistroService.method.sync.name}`;
const SNAPSHOT_PATH = `/${DistroService.typeName}/${DistroService.method.snapshot.name}`;
const PIPE_PATH = `/${DistroService.typeName}/${DistroService.method.pipe.name}`;
const encodeSnapshotRequest = (r: { resumeAfter: string }): Buffer =>
  Buffer.from(toBinary(SnapshotRequestSchema, create(SnapshotRequestSchema, r)));
const passBytes = (bytes: Buffer): Buffer => bytes;

/** Writes per ForwardBatch call: enough to carry a busy member's round trip, few enough to answer quickly. */
const FORWARD_BATCH_WRITES = 256;

/** An upper bound on a write's encoded size: its JSON, which is longer than its protobuf. */
const estimateWriteBytes = (write: ClientWrite): number => Buffer.byteLength(JSON.stringify(write)) + 16;

export interface ClientTls {
  /** PEM CA that signed the peers' server certificates. */
  readonly ca: Buffer;
  /** This node's PEM certificate chain and key, for peers that require mutual TLS. */
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
}

export interface GrpcPeerTransportOptions {
  /** This node's member address, sent as the caller of every call. */
  readonly self: string;
  readonly secret?: string | undefined;
  /** Where peers' gRPC servers listen: the member directory. */
  readonly directory: Pick<PeerDirectory, "grpcAddressOf">;
  /** Deadline of sync, verify, query and report. */
  readonly timeoutMs?: number;
  /** Deadline of a forwarded write (it runs on the responsible node before answering). */
  readonly forwardTimeoutMs?: number;
  /** The longest a snapshot stream may stay silent (first chunk included); there is no total deadline. */
  readonly snapshotIdleMs?: number;
  readonly tls?: ClientTls | undefined;
  /** The message limit (`--max-message-bytes`), and any connection setting to change. */
  readonly connection: Pick<ConnectionSettings, "maxMessageBytes"> & Partial<ConnectionSettings>;
}

const DistroClient = makeClientConstructor(DistroService);
const MemberClient = makeClientConstructor(MemberService);

interface PeerClients {
  /** The `ip:port` the channel connects to: a member named by host name gets a new channel when it moves. */
  readonly target: string;
  readonly channel: grpc.Channel;
  readonly distro: ServiceClient<typeof DistroService.method>;
  readonly member: ServiceClient<typeof MemberService.method>;
}

const REFUSED = /ECONNREFUSED|connection refused/i;

/** A failed call as the PeerError the core expects. */
function toPeerError(peer: string, err: unknown): PeerError {
  if (err instanceof PeerError) return err;
  if (err instanceof InvalidMessageError) return new PeerError("unavailable", peer, `invalid answer: ${err.message}`);
  const { code, details } = err as Partial<grpc.ServiceError>;
  const text = `${code === undefined ? "" : `${grpc.status[code]}: `}${details ?? String(err)}`;
  switch (code) {
    case grpc.status.DEADLINE_EXCEEDED:
      return new PeerError("timeout", peer, text);
    case grpc.status.UNAUTHENTICATED:
      return new PeerError("unauthenticated", peer, text);
    case grpc.status.PERMISSION_DENIED:
    case grpc.status.INVALID_ARGUMENT:
      return new PeerError("rejected", peer, text);
    case grpc.status.UNAVAILABLE:
      return new PeerError(REFUSED.test(details ?? "") ? "refused" : "unavailable", peer, text);
    default:
      return new PeerError("unavailable", peer, text);
  }
}

export class GrpcPeerTransport implements PeerTransport {
  private readonly clients = new Map<string, PeerClients>();
  private readonly batchers = new Map<string, ForwardBatcher>();
  private readonly pipes = new Map<string, Pipe>();
  private readonly unbatched = new Set<string>();
  private readonly credentials: grpc.ChannelCredentials;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly timeoutMs: number;
  private readonly forwardTimeoutMs: number;
  private readonly snapshotIdleMs: number;
  private readonly messageBudget: number;
  private closed = false;

  constructor(private readonly options: GrpcPeerTransportOptions) {
    const { tls } = options;
    this.credentials =
      tls === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
    this.channelOptions = {
      ...channelOptions({ ...DEFAULT_CONNECTION_SETTINGS, ...options.connection }),
      // grpc-js backs off up to 120 s between reconnects by default; a restarted peer must be reachable sooner.
      "grpc.max_reconnect_backoff_ms": 5_000,
    };
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.forwardTimeoutMs = options.forwardTimeoutMs ?? this.timeoutMs;
    this.snapshotIdleMs = options.snapshotIdleMs ?? 10_000;
    this.messageBudget = options.connection.maxMessageBytes - MESSAGE_OVERHEAD_BYTES;
  }

  async sync(peer: string, datums: readonly ServiceDatum[]): Promise<SyncOutcome> {
    const request = writeSyncRequest(datums);
    const piped = await this.piped(peer, PIPE_SYNC, request, this.timeoutMs);
    const response =
      piped?.case === "sync"
        ? piped.value
        : await this.call(peer, this.timeoutMs, ({ distro }, metadata, options) =>
            unaryEncoded<SyncResponse>(distro, SYNC_PATH, request, SyncResponseSchema, metadata, options),
          );
    return { refused: response.refused.map(({ key, reason }) => ({ key, reason })) };
  }

  /**
   * A request over the peer's Pipe; undefined when the peer has no Pipe (the caller goes unary). An answer of
   * the wrong kind is refused as an invalid answer.
   */
  private async piped(peer: string, field: number, request: Uint8Array, timeoutMs: number): Promise<PipeResponse["body"] | undefined> {
    const pipe = this.pipeOf(peer);
    if (pipe.unsupported) return undefined;
    let body: PipeResponse["body"];
    try {
      body = await pipe.request(field, request, timeoutMs);
    } catch (err) {
      if (err instanceof PipeUnsupported) return undefined;
      throw toPeerError(peer, err instanceof PipeFailure ? { code: err.code, details: err.details } : err);
    }
    const expected = field === PIPE_SYNC ? "sync" : "forwardBatch";
    if (body.case !== expected)
      throw toPeerError(peer, new InvalidMessageError("pipe answer", `is a ${body.case ?? "nothing"}, not a ${expected}`));
    return body;
  }

  private pipeOf(peer: string): Pipe {
    let pipe = this.pipes.get(peer);
    if (pipe === undefined) {
      pipe = new Pipe(() => this.clientsFor(peer).distro.makeBidiStreamRequest(PIPE_PATH, passBytes, passBytes, this.metadata()));
      this.pipes.set(peer, pipe);
    }
    return pipe;
  }

  async verify(peer: string, digest: VerifyDigest): Promise<VerifyReply> {
    const request = create(VerifyRequestSchema, encodeVerify(digest));
    return this.call(peer, this.timeoutMs, async ({ distro }, metadata, options) =>
      decodeVerifyReply(await unary(distro.verify, distro, request, metadata, options)),
    );
  }

  /** Asks again for what an answer left out to stay within the message limit, as long as each answer brings some. */
  async query(peer: string, keys: readonly string[]): Promise<ServiceDatum[]> {
    const out: ServiceDatum[] = [];
    for (let asked = [...keys]; asked.length > 0; ) {
      const request = create(QueryRequestSchema, { keys: asked });
      const { datums, unsentKeys } = await this.call(peer, this.timeoutMs, async ({ distro }, metadata, options) => {
        const response = await unary(distro.query, distro, request, metadata, options);
        return { datums: decodeDatums(response.datums, "datums"), unsentKeys: response.unsentKeys };
      });
      out.push(...datums);
      const unsent = new Set(unsentKeys);
      if (unsent.size > 0 && datums.length === 0) throw new PeerError("unavailable", peer, "query answer held no datum and left keys out");
      asked = asked.filter((k) => unsent.has(k));
    }
    return out;
  }

  async report(peer: string, self: MemberInfo): Promise<MemberInfo> {
    const request = create(ReportRequestSchema, { member: encodeMember(self) });
    return this.call(peer, this.timeoutMs, async ({ member }, metadata, options) =>
      decodeMember((await unary(member.report, member, request, metadata, options)).member, "member"),
    );
  }

  /** Forwards go in batches per member (ForwardBatch); to a member without it, one call per write. */
  forward(peer: string, write: ClientWrite): Promise<ForwardOutcome> {
    if (this.unbatched.has(peer)) return this.forwardOne(peer, write);
    let batcher = this.batchers.get(peer);
    if (batcher === undefined) {
      const limits = { maxWrites: FORWARD_BATCH_WRITES, maxInFlight: 1, maxBytes: this.messageBudget / 2 };
      batcher = new ForwardBatcher((writes) => this.forwardBatch(peer, writes), limits, estimateWriteBytes);
      this.batchers.set(peer, batcher);
    }
    return batcher.submit(write);
  }

  private async forwardBatch(peer: string, writes: readonly ClientWrite[]): Promise<ForwardOutcome[]> {
    const request = create(ForwardBatchRequestSchema, { writes: writes.map((w) => ({ write: encodeWrite(w) })) });
    const outcomesOf = (response: ForwardBatchResponse): ForwardOutcome[] => {
      if (response.outcomes.length !== writes.length) {
        throw new InvalidMessageError("outcomes", `holds ${response.outcomes.length} answers for ${writes.length} writes`);
      }
      return response.outcomes.map((o, i) => decodeOutcome(o, `outcomes[${i}]`));
    };
    const piped = await this.piped(peer, PIPE_FORWARD_BATCH, toBinary(ForwardBatchRequestSchema, request), this.forwardTimeoutMs);
    if (piped?.case === "forwardBatch") {
      try {
        return outcomesOf(piped.value);
      } catch (err) {
        throw toPeerError(peer, err);
      }
    }
    const outcomes = await this.call(peer, this.forwardTimeoutMs, async ({ distro }, metadata, options) => {
      const response = await unary(distro.forwardBatch, distro, request, metadata, options).catch((err: unknown) => {
        if ((err as Partial<grpc.ServiceError>).code === grpc.status.UNIMPLEMENTED) return undefined;
        throw err;
      });
      return response === undefined ? undefined : outcomesOf(response);
    });
    if (outcomes !== undefined) return outcomes;
    // A member running an older ts-nacos: one Forward per write from now on.
    this.unbatched.add(peer);
    return Promise.all(writes.map((w) => this.forwardOne(peer, w)));
  }

  private async forwardOne(peer: string, write: ClientWrite): Promise<ForwardOutcome> {
    const request = create(ForwardRequestSchema, { write: encodeWrite(write) });
    return this.call(peer, this.forwardTimeoutMs, async ({ distro }, metadata, options) =>
      decodeOutcome(await unary(distro.forward, distro, request, metadata, options), "response"),
    );
  }

  /**
   * Chunks as they arrive. Only time spent waiting for the peer counts against `snapshotIdleMs`, not time the
   * reader spends between chunks; a reader that stops early, or aborts `signal`, cancels the call.
   */
  async *snapshot(peer: string, resumeAfter: string, signal?: AbortSignal): AsyncGenerator<SnapshotChunk> {
    const { distro } = this.clientsFor(peer);
    // Chunks come as bytes, parsed by the hand-written reader (a join's largest cost on this side).
    const call = distro.makeServerStreamRequest(SNAPSHOT_PATH, encodeSnapshotRequest, passBytes, { resumeAfter }, this.metadata());
    // Errors are read through the iterator; this keeps a late status (after the reader left) from being unhandled.
    call.on("error", () => {});
    const cancel = (): void => call.cancel();
    signal?.addEventListener("abort", cancel, { once: true });
    if (signal?.aborted === true) cancel();
    const messages: AsyncIterator<Buffer> = call[Symbol.asyncIterator]();
    let stalled = false;
    const silence = (): void => {
      stalled = true;
      call.cancel();
    };
    try {
      for await (const bytes of withIdleTimeout(messages, this.snapshotIdleMs, silence))
        yield decodeChunk(readSnapshotChunk(bytes), "chunk");
    } catch (err) {
      if (stalled) throw new PeerError("timeout", peer, `snapshot stream silent for ${this.snapshotIdleMs} ms`);
      throw toPeerError(peer, err);
    } finally {
      signal?.removeEventListener("abort", cancel);
      call.cancel();
    }
  }

  /** Closes the channel to a peer that left the cluster; a later call to it opens a new one. */
  forget(peer: string): void {
    this.pipes.get(peer)?.close();
    this.pipes.delete(peer);
    this.clients.get(peer)?.channel.close();
    this.clients.delete(peer);
    this.unbatched.delete(peer);
  }

  close(): void {
    this.closed = true;
    for (const peer of [...this.clients.keys()]) this.forget(peer);
  }

  private metadata(): grpc.Metadata {
    return callMetadata(this.options.self, this.options.secret);
  }

  private async call<T>(
    peer: string,
    timeoutMs: number,
    invoke: (clients: PeerClients, metadata: grpc.Metadata, options: Partial<grpc.CallOptions>) => Promise<T>,
  ): Promise<T> {
    try {
      return await invoke(this.clientsFor(peer), this.metadata(), { deadline: Date.now() + timeoutMs });
    } catch (err) {
      throw toPeerError(peer, err);
    }
  }

  private clientsFor(peer: string): PeerClients {
    if (this.closed) throw new PeerError("unavailable", peer, "transport closed");
    const target = this.options.directory.grpcAddressOf(peer);
    let clients = this.clients.get(peer);
    if (clients !== undefined && clients.target !== target) {
      this.forget(peer);
      clients = undefined;
    }
    if (clients === undefined) {
      // Dialled at the address its name resolves to, a member named by host name is still that name to TLS.
      const { host } = splitAddress(peer);
      const named = host !== splitAddress(target).host ? { "grpc.ssl_target_name_override": host, "grpc.default_authority": host } : {};
      const channel = new grpc.Channel(target, this.credentials, { ...this.channelOptions, ...named });
      const shared = { channelOverride: channel };
      clients = {
        target,
        channel,
        distro: new DistroClient(target, this.credentials, shared),
        member: new MemberClient(target, this.credentials, shared),
      };
      this.clients.set(peer, clients);
    }
    return clients;
  }
}
