/**
 * The caller's end of a Pipe: one long-lived stream to a peer carrying its Sync and ForwardBatch requests and
 * their answers. grpc-js spends some 400 µs of CPU on each unary call (call objects, headers, trailers,
 * admission); a message on an open stream costs a tenth of that, which is what lets a busy pair of members
 * replicate and forward at the rate clients write.
 *
 * Requests carry ids; answers may come in any order. Each request has its own deadline. A broken stream
 * fails every request still waiting, and the next request opens a new stream. A peer that does not serve Pipe
 * (an older ts-nacos) is remembered, and its calls go unary.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type * as grpc from "@grpc/grpc-js";
import { PipeResponseSchema, type PipeResponse } from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { InvalidMessageError } from "./codecs/invalid.js";

/** The body fields of PipeRequest. */
export const PIPE_SYNC = 2;
export const PIPE_FORWARD_BATCH = 3;

/** The peer does not serve Pipe: use the unary call. */
export class PipeUnsupported extends Error {
  override name = "PipeUnsupported";
}

/** A request's failure as the unary call would have failed: a gRPC status and its details. */
export class PipeFailure extends Error {
  override name = "PipeFailure";
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(details);
  }
}

interface Waiting {
  readonly resolve: (answer: PipeResponse["body"]) => void;
  readonly reject: (err: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

const CANCELLED = 1;
const UNIMPLEMENTED = 12;
const DEADLINE_EXCEEDED = 4;

export class Pipe {
  private stream: grpc.ClientDuplexStream<Buffer, Buffer> | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  unsupported = false;

  constructor(private readonly open: () => grpc.ClientDuplexStream<Buffer, Buffer>) {}

  /** Sends one request (`field`: PIPE_SYNC or PIPE_FORWARD_BATCH, `message`: its encoded body) and waits for its answer. */
  request(field: number, message: Uint8Array, timeoutMs: number): Promise<PipeResponse["body"]> {
    if (this.unsupported) return Promise.reject(new PipeUnsupported());
    const stream = this.ensureOpen();
    const id = this.nextId++;
    const bytes = new BinaryWriter().tag(1, WireType.Varint).uint64(id).tag(field, WireType.LengthDelimited).bytes(message).finish();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new PipeFailure(DEADLINE_EXCEEDED, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      stream.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    });
  }

  /** Ends the stream; requests still waiting fail. */
  close(): void {
    const stream = this.stream;
    if (stream === undefined) return;
    this.broken(stream, new PipeFailure(CANCELLED, "pipe closed"));
    stream.cancel();
  }

  private ensureOpen(): grpc.ClientDuplexStream<Buffer, Buffer> {
    if (this.stream !== undefined) return this.stream;
    const stream = this.open();
    this.stream = stream;
    stream.on("data", (bytes: Buffer) => this.answer(bytes));
    stream.on("error", (err: grpc.ServiceError) => this.broken(stream, err));
    stream.on("end", () => this.broken(stream, new PipeFailure(14, "the peer ended the pipe")));
    return stream;
  }

  private answer(bytes: Buffer): void {
    let response: PipeResponse;
    try {
      response = fromBinary(PipeResponseSchema, bytes);
    } catch {
      return; // an answer that does not decode matches nothing: its request times out
    }
    const id = Number(response.id);
    const waiting = this.waiting.get(id);
    if (waiting === undefined) return;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    const body = response.body;
    if (body.case === "error") waiting.reject(new PipeFailure(body.value.code, body.value.message));
    else waiting.resolve(body);
  }

  /** The stream failed: every request still waiting fails with it (unary, when the peer has no Pipe). */
  private broken(stream: grpc.ClientDuplexStream<Buffer, Buffer>, err: { code?: number; details?: string; message?: string }): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    if (err.code === UNIMPLEMENTED) this.unsupported = true;
    const failure =
      err.code === UNIMPLEMENTED ? new PipeUnsupported() : new PipeFailure(err.code ?? 14, err.details ?? err.message ?? "pipe broken");
    for (const [id, waiting] of this.waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(failure);
      this.waiting.delete(id);
    }
  }
}

/**
 * The envelope of a PipeRequest as the receiver reads it: the id, and the body's field and bytes (decoded by
 * the call's own reader). Fields a newer schema adds are skipped.
 */
export function readPipeRequest(bytes: Buffer): { readonly id: bigint; readonly field: number; readonly body: Buffer } {
  let id = 0n;
  let field = 0;
  let body: Buffer = Buffer.alloc(0);
  try {
    const r = new BinaryReader(bytes);
    while (r.pos < r.len) {
      const [number, wireType] = r.tag();
      if (number === 1 && wireType === WireType.Varint) id = BigInt(r.uint64());
      else if ((number === PIPE_SYNC || number === PIPE_FORWARD_BATCH) && wireType === WireType.LengthDelimited) {
        field = number;
        const view = r.bytes();
        body = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      } else r.skip(wireType);
    }
  } catch (err) {
    throw new InvalidMessageError(
      "request",
      `is not a valid encoding of its message (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return { id, field, body };
}
