/**
 * Whether the reader of a server stream still takes what is written to it. Under HTTP/2 flow control a write's
 * callback comes once the transport has taken its bytes, which for a reader that stopped reading is never;
 * meanwhile `write()` goes on returning true while grpc-js buffers messages up to its high-water mark, and after
 * the last write nothing waits on 'drain' at all. So progress is measured from the write callbacks: when a
 * write has been waiting and the stream has accepted nothing for `stallMs`, the reader stalled.
 */
import { once } from "node:events";
import { constants, type ServerHttp2Stream } from "node:http2";
import type * as grpc from "@grpc/grpc-js";

/** The reader of a stream took nothing for the stall deadline. */
export class ReaderStalled extends Error {
  override name = "ReaderStalled";
}

type ServerStream = grpc.ServerWritableStream<unknown, unknown>;

export class StreamProgress {
  /** Writes whose callback has not come yet. */
  private waiting = 0;
  /** When the stream last accepted a write, or when a write began to wait on a stream that had none waiting. */
  private since = 0;
  private timer: NodeJS.Timeout | undefined;
  private rejectStalled: (err: ReaderStalled) => void = () => {};
  private readonly stalled: Promise<never>;

  constructor(
    private readonly call: ServerStream,
    private readonly stallMs: number,
  ) {
    this.stalled = new Promise<never>((_, reject) => (this.rejectStalled = reject));
    this.stalled.catch(() => {}); // observed through drained() and flushed()
  }

  /** Writes one message; false when the stream's buffer is full (wait for `drained()`). */
  write(message: unknown): boolean {
    if (this.waiting++ === 0) this.since = Date.now();
    this.arm();
    return this.call.write(message, () => {
      this.waiting--;
      this.since = Date.now();
      if (this.waiting === 0) this.disarm();
    });
  }

  /** True once the stream can take more, false when the call ended first; rejects with ReaderStalled. */
  drained(): Promise<boolean> {
    return this.until("drain");
  }

  /** Ends the stream; resolves true once the reader has taken every message, false when the call ended first. */
  end(): Promise<boolean> {
    const finished = this.until("finish");
    this.call.end();
    return finished;
  }

  /**
   * Resets a stalled stream. Its status cannot reach the reader (trailers queue behind the data it does not
   * read), so the HTTP/2 stream is reset at once, which frees what it buffers; the caller logs why.
   */
  cut(): void {
    this.disarm();
    const stream = http2StreamOf(this.call);
    if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
  }

  close(): void {
    this.disarm();
  }

  private async until(event: "drain" | "finish"): Promise<boolean> {
    const stop = new AbortController();
    const { signal } = stop;
    try {
      return await Promise.race([
        once(this.call, event, { signal }).then(() => true),
        once(this.call, "cancelled", { signal }).then(() => false),
        once(this.call, "close", { signal }).then(() => false),
        this.stalled,
      ]);
    } catch (err) {
      if (err instanceof ReaderStalled) throw err;
      return false; // the stream failed
    } finally {
      stop.abort();
    }
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const check = (): void => {
      const waited = Date.now() - this.since;
      if (waited >= this.stallMs) {
        this.timer = undefined;
        this.rejectStalled(new ReaderStalled(`the reader took no chunk for ${this.stallMs} ms`));
      } else this.timer = setTimeout(check, this.stallMs - waited);
    };
    this.timer = setTimeout(check, this.stallMs);
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * The HTTP/2 stream under a grpc-js server call. grpc-js offers no way to reset one, and keeps it at the end
 * of the call's interceptor chain (`call.call.nextCall…stream`); undefined if a later grpc-js moves it.
 */
function http2StreamOf(call: ServerStream): ServerHttp2Stream | undefined {
  type Link = { readonly stream?: unknown; readonly nextCall?: Link } | undefined;
  let link = (call as unknown as { readonly call?: Link }).call;
  for (let depth = 0; link !== undefined && depth < 16; depth++, link = link.nextCall) {
    const stream = link.stream as Partial<ServerHttp2Stream> | undefined;
    if (typeof stream?.close === "function" && "rstCode" in stream) return stream as ServerHttp2Stream;
  }
  return undefined;
}
