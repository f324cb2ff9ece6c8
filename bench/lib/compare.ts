/**
 * Side-by-side throughput: the same load against ours and one or more references, in rounds, the side that goes
 * first rotating every round, so slow drifts of a shared machine (another job, a CPU frequency change) fall on
 * every side alike. Each run also reads the servers' CPU time from /proc: req/s says what a client gets, CPU µs
 * per request what a request costs the server, and the latter is the steadier of the two on a busy machine.
 */
import { cpuMs } from "./cpu.js";
import { type FigureContext, row, type Row } from "./figure.js";
import { type LoadOptions, type LoadResult, runLoad } from "./load.js";
import type { Proc } from "./procs.js";

export interface Side {
  readonly label: string;
  readonly procs: readonly Proc[];
}

export type LoadSpec = Omit<LoadOptions, "port" | "ports">;

export interface Measured {
  readonly load: LoadResult;
  /** CPU time all of the side's processes used during the run. */
  readonly cpuMs: number;
}

export const side = (label: string, ...procs: Proc[]): Side => ({ label, procs });

const totalCpu = (procs: readonly Proc[]): number => procs.reduce((sum, p) => sum + cpuMs(p.pid), 0);

/** Runs `load` and reads the CPU `procs` spent meanwhile (any load: HTTP here, the 2.x client port elsewhere). */
export async function withCpu(procs: readonly Proc[], load: () => Promise<LoadResult>): Promise<Measured> {
  const before = totalCpu(procs);
  const result = await load();
  return { load: result, cpuMs: totalCpu(procs) - before };
}

export const measure = (s: Side, spec: LoadSpec): Promise<Measured> =>
  withCpu(s.procs, () => runLoad({ ...spec, ports: s.procs.map((p) => p.port) }));

export interface AlternateOptions {
  /** Before the rounds, each side runs the load this long unmeasured (JIT warm-up; 0: none). */
  readonly warmupMs?: number;
  /** Runs after every measured run (waiting for a cluster to go quiet, say). */
  readonly between?: () => Promise<void>;
}

/**
 * `rounds` runs of every side; `spec(side, round, sent)` gives the load, `sent` being how many requests that
 * side has been sent so far (so a stream of new instances continues where it stopped). Returns [side][round].
 */
export async function alternate(
  sides: readonly Side[],
  rounds: number,
  spec: (side: number, round: number, sent: number) => LoadSpec,
  options: AlternateOptions = {},
): Promise<Measured[][]> {
  const out: Measured[][] = sides.map(() => []);
  const sent = sides.map(() => 0);
  const between = options.between ?? (async () => {});
  for (let i = 0; i < sides.length && (options.warmupMs ?? 0) > 0; i++) {
    const warm = await measure(sides[i]!, { ...spec(i, -1, 0), maxMs: options.warmupMs! });
    sent[i]! += warm.load.requests;
    await between();
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (round + k) % sides.length;
      const m = await measure(sides[i]!, spec(i, round, sent[i]!));
      sent[i]! += m.load.requests;
      out[i]!.push(m);
      await between();
    }
  }
  return out;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface SideSummary {
  readonly label: string;
  /** Median over rounds. */
  readonly perSecond: number;
  /** All rounds' CPU over all rounds' requests. */
  readonly cpuUsPerRequest: number;
  readonly rounds: readonly { readonly perSecond: number; readonly cpuMs: number; readonly requests: number; readonly p99: number }[];
  readonly statuses: Readonly<Record<string, number>>;
}

export function summarize(label: string, runs: readonly Measured[]): SideSummary {
  const requests = runs.reduce((n, m) => n + m.load.requests, 0);
  const cpu = runs.reduce((n, m) => n + m.cpuMs, 0);
  const statuses: Record<string, number> = {};
  for (const m of runs) for (const [k, v] of Object.entries(m.load.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    label,
    perSecond: median(runs.map((m) => m.load.perSecond)),
    cpuUsPerRequest: requests === 0 ? Number.NaN : (cpu * 1000) / requests,
    rounds: runs.map((m) => ({ perSecond: m.load.perSecond, cpuMs: m.cpuMs, requests: m.load.requests, p99: m.load.p99 })),
    statuses,
  };
}

/** Per round ours ÷ reference of req/s; their median is the ratio reported (drift cancels within a round). */
export const pairRatios = (ours: readonly Measured[], ref: readonly Measured[]): number[] =>
  ours.map((m, r) => m.load.perSecond / ref[r]!.load.perSecond);

const non200 = (s: SideSummary): number => Object.entries(s.statuses).reduce((n, [k, v]) => (k === "200" ? n : n + v), 0);

export interface RowOptions {
  /** The req/s row alone, CPU per request in its note. */
  readonly compact?: boolean;
  /** Appended to the notes. */
  readonly note?: string;
}

const ratioText = (x: number): string => (x < 0.1 ? x.toPrecision(2) : x.toFixed(2));

/** The req/s row (median of per-round ratios) and the server CPU per request row of ours against one reference. */
export function throughputRows(
  variant: string,
  ours: readonly Measured[],
  ref: readonly Measured[],
  refLabel: string,
  target: string,
  options: RowOptions = {},
): Row[] {
  const o = summarize("ours", ours);
  const r = summarize(refLabel, ref);
  const ratios = pairRatios(ours, ref);
  const errors = non200(o) + non200(r);
  const tail = `${errors > 0 ? `; ${errors} non-200 answers` : ""}${options.note === undefined ? "" : `; ${options.note}`}`;
  const cpuNote = `CPU ${o.cpuUsPerRequest.toFixed(0)} vs ${r.cpuUsPerRequest.toFixed(0)} µs/req; `;
  const rounds = `rounds ${ratios.map(ratioText).join(" ")}`;
  const req: Row = {
    ...row(`${variant}${options.compact === true ? "" : ": req/s"}`, o.perSecond, r.perSecond, "req/s", target),
    ratio: median(ratios),
    note: `vs ${refLabel}; ${options.compact === true ? cpuNote : ""}${rounds}${tail}`,
  };
  if (options.compact === true) return [req];
  return [req, row(`${variant}: server CPU/request`, o.cpuUsPerRequest, r.cpuUsPerRequest, "µs", "lower", `vs ${refLabel}${tail}`)];
}

/**
 * Unmeasured set-up (pre-registered instances): sends `count` requests to the first of `procs`, or as many as it
 * answers within `maxMs`, then exactly as many to each of the others, so all hold the same. Returns that number;
 * every answer must be 200.
 */
export async function populate(
  procs: readonly Proc[],
  count: number,
  request: LoadSpec["request"],
  maxMs = 300_000,
  connections = 16,
): Promise<number> {
  let target = count;
  for (const [i, p] of procs.entries()) {
    const load = await runLoad({ port: p.port, connections, requests: target, maxMs: i === 0 ? maxMs : 600_000, request });
    const ok = load.statuses["200"] ?? 0;
    if (ok !== load.requests || (i > 0 && ok !== target))
      throw new Error(`populating ${p.label}: ${ok} of ${target} answered 200 (${load.errorSamples.join(" | ")})`);
    target = ok;
  }
  return target;
}

export interface Plan {
  /** Length of one measured run. */
  readonly maxMs: number;
  readonly rounds: number;
  readonly warmupMs: number;
}

/** Run length, rounds and warm-up of a throughput comparison, by the size of the run. */
export function throughputPlan(ctx: FigureContext): Plan {
  return {
    maxMs: ctx.pick({ smoke: 300, quick: 1_500, default: 3_000, full: 5_000 }),
    rounds: ctx.pick({ smoke: 1, quick: 3, default: 3, full: 5 }),
    warmupMs: ctx.pick({ smoke: 0, quick: 500, default: 1_000, full: 1_000 }),
  };
}
