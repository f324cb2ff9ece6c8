/**
 * The HTTP client of the legacy transport: one keep-alive agent, 1.4's peer headers on every call, a deadline
 * on every call, and transport failures as PeerErrors.
 *
 * It uses node:http, not the global fetch: 1.4's datum query is a GET with a JSON body, which fetch refuses
 * by specification ("Request with GET/HEAD method cannot have body"); one client keeps one error mapping.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { splitAddress } from "../../core/address.js";
import { PeerError } from "../../node/ports.js";
import { CLUSTER_SECRET_HEADER } from "../peer-secret.js";
import { withIdleTimeout } from "../idle-timeout.js";

export interface Nacos14HttpOptions {
  /** Our version, sent as `User-Agent: Nacos-Server:<version>` (so no peer ever forwards our requests again). */
  readonly version: string;
  /** Deadline of a call; for a streamed answer, of its start and of every silence after. */
  readonly timeoutMs: number;
  readonly secret?: string | undefined;
  /** The largest whole answer `call` reads; a longer one fails the call instead of filling memory. */
  readonly maxAnswerBytes: number;
  /** Where a member is reached now (its host name resolved); the member address itself when not given. */
  readonly addressOf?: ((peer: string) => string) | undefined;
}

export interface PeerCall {
  readonly method: "GET" | "PUT" | "POST" | "PATCH" | "DELETE";
  /** Absolute path, e.g. `/nacos/v1/ns/distro/datum`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal | undefined;
}

export interface PeerStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as text pieces, read once. */
  text(): AsyncGenerator<string>;
}

export interface PeerAnswer {
  readonly status: number;
  readonly body: string;
}

/** What the legacy transport needs of HTTP; the real client below, or a simulated network's. */
export interface Nacos14Http {
  call(peer: string, call: PeerCall): Promise<PeerAnswer>;
  open(peer: string, call: PeerCall): Promise<PeerStream>;
  close(): void;
}

/** The headers of every peer call: 1.4's identification, our secret, and explicit framing of any body. */
export function peerRequestHeaders(options: Nacos14HttpOptions, call: PeerCall): Record<string, string> {
  const { version, secret } = options;
  const headers: Record<string, string> = {
    "User-Agent": `Nacos-Server:${version}`,
    "Client-Version": version,
    // What 1.4's member report sends instead of a User-Agent.
    "Nacos-Server": version,
  };
  if (secret !== undefined) headers[CLUSTER_SECRET_HEADER] = secret;
  if (call.body !== undefined) {
    headers["Content-Type"] = "application/json;charset=UTF-8";
    // Always explicit: node sends GET bodies unframed otherwise, and the peer would misread them.
    headers["Content-Length"] = String(Buffer.byteLength(call.body));
  }
  return headers;
}

export class Nacos14HttpClient implements Nacos14Http {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

  constructor(private readonly options: Nacos14HttpOptions) {}

  /** One call and its whole answer. Rejects (with a PeerError) only when no complete answer came. */
  async call(peer: string, call: PeerCall): Promise<PeerAnswer> {
    const deadline = AbortSignal.timeout(this.options.timeoutMs);
    const signal = call.signal === undefined ? deadline : AbortSignal.any([call.signal, deadline]);
    try {
      const res = await this.start(peer, call, signal);
      const pieces: Buffer[] = [];
      let size = 0;
      for await (const piece of res as AsyncIterable<Buffer>) {
        size += piece.length;
        if (size > this.options.maxAnswerBytes) {
          res.destroy();
          throw new PeerError("unavailable", peer, `answer larger than ${this.options.maxAnswerBytes} bytes`);
        }
        pieces.push(piece);
      }
      return { status: res.statusCode ?? 0, body: Buffer.concat(pieces).toString("utf8") };
    } catch (err) {
      throw this.failure(peer, err, deadline.aborted);
    }
  }

  /**
   * Opens a streamed answer. The deadline covers the wait for the answer to start and, afterwards, every wait
   * for more of it: a peer silent for that long breaks the stream with a timeout PeerError.
   */
  async open(peer: string, call: PeerCall): Promise<PeerStream> {
    const starting = new AbortController();
    const timer = setTimeout(() => starting.abort(), this.options.timeoutMs);
    const signal = call.signal === undefined ? starting.signal : AbortSignal.any([call.signal, starting.signal]);
    try {
      const res = await this.start(peer, call, signal);
      return { status: res.statusCode ?? 0, headers: res.headers, text: () => this.pieces(peer, res) };
    } catch (err) {
      throw this.failure(peer, err, starting.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /** A transport failure as a PeerError. */
  private failure(peer: string, err: unknown, timedOut: boolean): PeerError {
    if (err instanceof PeerError) return err;
    if (timedOut) return new PeerError("timeout", peer, `no answer within ${this.options.timeoutMs} ms`);
    if ((err as NodeJS.ErrnoException).code === "ECONNREFUSED") return new PeerError("refused", peer, "connection refused");
    return new PeerError("unavailable", peer, err instanceof Error ? err.message : String(err));
  }

  /** The body as text; only the time spent waiting for the peer counts against the deadline, not the reader's. */
  private async *pieces(peer: string, res: IncomingMessage): AsyncGenerator<string> {
    res.setEncoding("utf8");
    const body: AsyncIterator<string> = res[Symbol.asyncIterator]();
    const silence = (): void => void res.destroy(new PeerError("timeout", peer, `stream silent for ${this.options.timeoutMs} ms`));
    try {
      yield* withIdleTimeout(body, this.options.timeoutMs, silence);
    } catch (err) {
      throw err instanceof PeerError ? err : this.failure(peer, err, false);
    } finally {
      // A reader that stops early (or fails) releases the connection.
      if (!res.complete) res.destroy();
    }
  }

  private start(peer: string, call: PeerCall, signal: AbortSignal): Promise<IncomingMessage> {
    const { host, port } = splitAddress(this.options.addressOf?.(peer) ?? peer);
    const headers = peerRequestHeaders(this.options, call);
    const search = new URLSearchParams(call.query).toString();
    const query = search === "" ? "" : `?${search}`;
    return new Promise((resolve, reject) => {
      const options = { host, port, method: call.method, path: call.path + query, headers, agent: this.agent, signal };
      const req = http.request(options, resolve);
      req.on("error", reject);
      req.end(call.body);
    });
  }
}

/** An answer that is not a success: a 4xx is the peer refusing the call, anything else the peer failing. */
export function statusError(peer: string, answer: PeerAnswer, what: string): PeerError {
  const secret = answer.status === 403 && answer.body.includes(CLUSTER_SECRET_HEADER);
  const kind = secret ? "unauthenticated" : answer.status >= 400 && answer.status < 500 ? "rejected" : "unavailable";
  return new PeerError(kind, peer, `${what}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
}

/** The body of a 2xx (or 304, which 1.4 counts as success) answer; any other status as a PeerError. */
export function expectSuccess(peer: string, answer: PeerAnswer, what: string): string {
  if ((answer.status >= 200 && answer.status < 300) || answer.status === 304) return answer.body;
  throw statusError(peer, answer, what);
}
