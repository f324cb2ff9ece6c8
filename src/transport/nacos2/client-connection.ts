/**
 * One TCP connection of a 2.x client on the client port: its id, whether it has set up (ConnectionSetupRequest on
 * its bi-stream), the stream the server's requests travel on, and those requests awaiting their answers. The
 * requests in flight are bounded, so a client that stops answering holds a fixed amount of memory.
 */
import type * as grpc from "@grpc/grpc-js";
import type { Socket } from "node:net";
import type { ClientConnectionMeta } from "./client-handler.js";
import { writePayload } from "./payload.js";
import type { ResponseBody } from "./responses.js";

interface Pending {
  readonly resolve: (answer: ResponseBody | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

export class ClientConnection {
  /** Set once the client sent ConnectionSetupRequest: from then on its requests are served. */
  meta: ClientConnectionMeta | undefined;
  stream: grpc.ServerDuplexStream<Buffer, Buffer> | undefined;
  /** Last request or answer from the client (ms). */
  lastActiveAt: number;
  /** A ClientDetectionRequest is out. */
  detecting = false;
  closed = false;
  private readonly pending = new Map<string, Pending>();
  private nextRequestId = 0;

  constructor(
    readonly id: string,
    /** grpc-js's name of its calls' peer: `address:port` of the socket. */
    readonly peer: string,
    readonly remoteIp: string,
    readonly remotePort: number,
    readonly socket: Socket,
    readonly openedAt: number,
  ) {
    this.lastActiveAt = openedAt;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends a server request (a Java `ServerRequest`: `headers`, `requestId` and the fields in `body`) on the stream
   * and resolves with the client's answer, or undefined when the stream is gone, `limit` requests are already in
   * flight, or no answer came within `timeoutMs`. Never rejects.
   */
  request(type: string, body: Readonly<Record<string, unknown>>, timeoutMs: number, limit: number): Promise<ResponseBody | undefined> {
    const stream = this.stream;
    if (this.closed || stream === undefined || this.pending.size >= limit) return Promise.resolve(undefined);
    const requestId = String(++this.nextRequestId);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(requestId, undefined), timeoutMs);
      this.pending.set(requestId, { resolve, timer });
      try {
        stream.write(writePayload(type, { headers: {}, requestId, ...body }));
      } catch {
        this.settle(requestId, undefined);
      }
    });
  }

  /** The client's answer to a server request (matched by its `requestId`); false when none awaits it. */
  settle(requestId: string, answer: ResponseBody | undefined): boolean {
    const pending = this.pending.get(requestId);
    if (pending === undefined) return false;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.resolve(answer);
    return true;
  }

  /** Gives up every request in flight (the connection is gone). */
  abandon(): void {
    for (const requestId of [...this.pending.keys()]) this.settle(requestId, undefined);
  }
}
