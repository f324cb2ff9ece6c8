/**
 * A lean HTTP/1.1 load generator for 127.0.0.1: `connections` keep-alive sockets, each sending the next request
 * as soon as the previous answer is complete. Requests are pre-rendered bytes, answers are parsed just enough to
 * find their end (Content-Length or chunked), so the generator costs far less CPU than the server it drives and
 * the figure measured is the server's. Bounded by a request count and a time limit, whichever comes first.
 *
 * Connections are spread round-robin over `ports` (several nodes of a cluster); `ratePerSecond` holds request
 * `n` back until its slot on a fixed schedule (a rate-limited writer that catches up when the server lags, so the
 * achieved rate is what the server absorbs); a dropped connection is counted and replaced (at most
 * MAX_RECONNECTS per run).
 */
import { connect, type Socket } from "node:net";

export interface LoadOptions {
  /** One port, or ... */
  readonly port?: number;
  /** ... several: connection `c` goes to `ports[c % ports.length]`. */
  readonly ports?: readonly number[];
  readonly connections: number;
  /** Stop after this many requests in total ... */
  readonly requests: number;
  /** ... or after this long. */
  readonly maxMs: number;
  /** The request with sequence number `n` (0-based). */
  readonly request: (n: number) => Request;
  /** Send request `n` no earlier than `n / ratePerSecond` seconds after the start. */
  readonly ratePerSecond?: number;
  /** Called for every answer (status 0: the connection failed before the answer). */
  readonly onAnswer?: (answer: Answer) => void;
}

export interface Request {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Answer {
  readonly n: number;
  readonly port: number;
  readonly status: number;
  readonly ms: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly ms: number;
  readonly perSecond: number;
  /** Answers by status code ("0": the connection failed while the request was in flight). */
  readonly statuses: Readonly<Record<string, number>>;
  /** Latency percentiles in ms. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** The first few non-2xx answers: status and the start of the body. */
  readonly errorSamples: readonly string[];
  readonly reconnects: number;
}

const MAX_RECONNECTS = 200;
const MAX_ERROR_SAMPLES = 5;

export function render(r: Request): Buffer {
  // the common shape (parameters in the query, no body) without building a header object
  if (r.body === undefined && r.headers === undefined)
    return Buffer.from(`${r.method} ${r.path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n`, "latin1");
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

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The shared state of one run: what every connection draws from and reports to. */
class Run {
  next = 0;
  done = 0;
  reconnects = 0;
  readonly statuses: Record<string, number> = {};
  readonly latencies: number[] = [];
  readonly errorSamples: string[] = [];
  readonly sockets = new Set<Socket>();
  readonly started = performance.now();
  readonly deadline: number;

  constructor(readonly options: LoadOptions) {
    this.deadline = this.started + options.maxMs;
  }

  /** The next sequence number to send, or undefined when the run is over. */
  claim(): number | undefined {
    if (this.next >= this.options.requests || performance.now() > this.deadline) return undefined;
    return this.next++;
  }

  /** How long request `n` must still wait for its slot (0 without a rate). */
  waitFor(n: number): number {
    const rate = this.options.ratePerSecond;
    return rate === undefined ? 0 : Math.max(0, this.started + (n * 1000) / rate - performance.now());
  }

  record(n: number, port: number, status: number, ms: number, body: () => string): void {
    this.latencies.push(ms);
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.done++;
    if ((status < 200 || status > 299) && this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push(`${status} ${body()}`);
    this.options.onAnswer?.({ n, port, status, ms });
  }
}

/** One keep-alive connection sending requests one after another until the run is over; resolves then. */
function connection(run: Run, port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    run.sockets.add(socket);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let inFlight: { n: number; sentAt: number } | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      socket.end();
      resolve();
    };
    const send = (): void => {
      const n = run.claim();
      if (n === undefined) {
        finish();
        return;
      }
      const write = (): void => {
        if (finished || socket.destroyed) return;
        inFlight = { n, sentAt: performance.now() };
        socket.write(render(run.options.request(n)));
      };
      const wait = run.waitFor(n);
      if (wait > 0) setTimeout(write, wait);
      else write();
    };
    socket.on("connect", send);
    socket.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const found = answerEnd(pending, 0);
      if (found === undefined || inFlight === undefined) return;
      const [end, status] = found;
      const answered = pending;
      pending = pending.subarray(end);
      const { n, sentAt } = inFlight;
      inFlight = undefined;
      run.record(n, port, status, performance.now() - sentAt, () => bodyText(answered, end));
      send();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      run.sockets.delete(socket);
      if (finished) return;
      finished = true;
      if (inFlight !== undefined) run.record(inFlight.n, port, 0, performance.now() - inFlight.sentAt, () => "connection closed");
      // a connection the server dropped is replaced while there is work left
      if (run.reconnects < MAX_RECONNECTS && run.next < run.options.requests && performance.now() < run.deadline) {
        run.reconnects++;
        void connection(run, port).then(resolve);
      } else resolve();
    });
  });
}

function bodyText(answer: Buffer, end: number): string {
  const headEnd = answer.indexOf("\r\n\r\n");
  return answer.toString("utf8", headEnd + 4, Math.min(end, headEnd + 4 + 200)).replace(/\s+/g, " ");
}

/** Runs the load; every socket is closed when it resolves. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const ports = options.ports ?? (options.port === undefined ? [] : [options.port]);
  if (ports.length === 0) throw new Error("runLoad: no port given");
  const run = new Run(options);
  try {
    await Promise.all(Array.from({ length: options.connections }, (_, c) => connection(run, ports[c % ports.length]!)));
  } finally {
    for (const s of run.sockets) s.destroy();
  }
  const ms = performance.now() - run.started;
  const latencies = run.latencies.sort((a, b) => a - b);
  return {
    requests: run.done,
    ms,
    perSecond: (run.done / ms) * 1000,
    statuses: run.statuses,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    errorSamples: run.errorSamples,
    reconnects: run.reconnects,
  };
}
