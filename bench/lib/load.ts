/**
 * A lean HTTP/1.1 load generator for 127.0.0.1: `connections` keep-alive sockets, each sending the next request
 * as soon as the previous answer is complete. Requests are pre-rendered bytes, answers are parsed just enough to
 * find their end (Content-Length or chunked), so the generator costs far less CPU than the server it drives and
 * the figure measured is the server's. Bounded by a request count and a time limit, whichever comes first.
 */
import { connect, type Socket } from "node:net";

export interface LoadOptions {
  readonly port: number;
  readonly connections: number;
  /** Stop after this many requests in total ... */
  readonly requests: number;
  /** ... or after this long. */
  readonly maxMs: number;
  /** The request with sequence number `n` (0-based). */
  readonly request: (n: number) => Request;
}

export interface Request {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadResult {
  readonly requests: number;
  readonly ms: number;
  readonly perSecond: number;
  /** Answers by status code. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Latency percentiles in ms. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function render(r: Request): Buffer {
  const body = r.body ?? "";
  const headers: Record<string, string> = { host: "127.0.0.1", "content-length": String(Buffer.byteLength(body)), ...r.headers };
  if (body !== "" && headers["content-type"] === undefined) headers["content-type"] = "application/x-www-form-urlencoded";
  const head = `${r.method} ${r.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
  return Buffer.from(head + body);
}

/** Finds the end of one HTTP answer in `buf` from `start`; returns [end, status] or undefined when incomplete. */
export function answerEnd(buf: Buffer, start: number): [number, number] | undefined {
  const headEnd = buf.indexOf("\r\n\r\n", start);
  if (headEnd < 0) return undefined;
  const head = buf.toString("latin1", start, headEnd);
  const status = Number(head.slice(9, 12));
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length !== null) {
    const end = headEnd + 4 + Number(length[1]);
    return end <= buf.length ? [end, status] : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    let at = headEnd + 4;
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd < 0) return undefined;
      const size = Number.parseInt(buf.toString("latin1", at, lineEnd), 16);
      at = lineEnd + 2 + size + 2;
      if (at > buf.length) return undefined;
      if (size === 0) return [at, status];
    }
  }
  return [headEnd + 4, status];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs the load; every socket is closed when it resolves. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  let done = 0;
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + options.maxMs;
  const sockets: Socket[] = [];
  const worker = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = connect(options.port, "127.0.0.1");
      sockets.push(socket);
      socket.setNoDelay(true);
      let pending: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = (): void => {
        if (next >= options.requests || performance.now() > deadline) {
          socket.end();
          resolve();
          return;
        }
        const bytes = render(options.request(next++));
        sentAt = performance.now();
        socket.write(bytes);
      };
      socket.on("connect", send);
      socket.on("data", (chunk: Buffer) => {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const found = answerEnd(pending, 0);
        if (found === undefined) return;
        const [end, status] = found;
        pending = pending.subarray(end);
        latencies.push(performance.now() - sentAt);
        statuses[status] = (statuses[status] ?? 0) + 1;
        done++;
        send();
      });
      socket.on("error", reject);
      socket.on("close", () => resolve());
    });
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    for (const s of sockets) s.destroy();
  }
  const ms = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: done,
    ms,
    perSecond: (done / ms) * 1000,
    statuses,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
  };
}
