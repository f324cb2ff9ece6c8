/**
 * `npm run bench [-- <figure>...] [--smoke|--quick|--full] [--root <checkout>] [--json <file>] [--allow-stale]`
 *
 * Every figure is measured side by side with a reference in the same run and reported as a ratio, because
 * absolute numbers on a shared 2-core machine swing by ±30 %. Server processes run from `<root>/dist/src/main.js`
 * (default: this checkout), so `--root` of an older checkout gives the before of a before/after. Prints one table
 * and writes every raw number to JSON (default bench/results/latest.json). Figures: bench/figures/index.ts.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { FIGURES, type Loader } from "./figures/index.js";
import { runMeta, staleSources } from "./lib/env.js";
import type { Figure, FigureContext, Mode } from "./lib/figure.js";
import { mainOf, Scope, THIS_ROOT } from "./lib/procs.js";
import { type FigureOutcome, type RunReport, table, writeJson } from "./lib/report.js";

interface Args {
  readonly names: string[];
  readonly mode: Mode;
  readonly root: string;
  readonly json: string;
  readonly allowStale: boolean;
}

const USAGE = `usage: npm run bench -- [figure...] [--smoke|--quick|--full] [--root <checkout>] [--json <file>] [--allow-stale]
figures: ${FIGURES.map(([n]) => n).join(", ")}`;

/** The longest one figure may take, by mode; past it, its processes are killed and it counts as failed. */
const FIGURE_LIMIT_MS: Readonly<Record<Mode, number>> = { smoke: 40_000, quick: 180_000, default: 360_000, full: 1_800_000 };

function parseArgs(argv: readonly string[]): Args {
  const names: string[] = [];
  let mode: Mode = "default";
  let root = THIS_ROOT;
  let json = path.join(THIS_ROOT, "bench", "results", "latest.json");
  let allowStale = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === "--smoke" || a === "--quick" || a === "--full") mode = a.slice(2) as Mode;
    else if (a === "--root") root = path.resolve(value());
    else if (a === "--json") json = path.resolve(value());
    else if (a === "--allow-stale") allowStale = true;
    else if (a === "--help" || a === "-h") throw new Error(USAGE);
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}\n${USAGE}`);
    else names.push(a);
  }
  const known = new Set(FIGURES.map(([n]) => n));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new Error(`unknown figure(s) ${unknown.join(", ")}\n${USAGE}`);
  return { names, mode, root, json, allowStale };
}

/** Refuses a root without a build, and this checkout with a build older than its sources (unless allowed). */
function checkBuild(args: Args, warnings: string[]): void {
  if (!existsSync(mainOf(args.root))) throw new Error(`${mainOf(args.root)} does not exist: run \`npm run -s build\` in ${args.root}`);
  const stale = staleSources(args.root);
  if (stale.length === 0) return;
  const what = `dist/ of ${args.root} is older than ${stale.length} source file(s) (${stale.slice(0, 3).join(", ")}${stale.length > 3 ? ", …" : ""})`;
  if (args.root === THIS_ROOT && !args.allowStale) throw new Error(`${what}: run \`npm run -s build\` first, or pass --allow-stale`);
  warnings.push(`${what}; measured as built`);
}

async function withLimit<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`figure took longer than ${ms / 1000} s; stopped`)), ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A selected figure, loaded, with its context; `setup` is started early in --smoke. */
interface Planned {
  readonly name: string;
  readonly figure?: Figure<unknown>;
  readonly loadError?: string;
  readonly ctx: FigureContext;
  setup?: Promise<unknown>;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function plan(name: string, load: Loader, args: Args, warnings: string[]): Promise<Planned> {
  const log = (line: string): void => console.error(`[${name}] ${line}`);
  const scope = new Scope(args.root, (w) => {
    warnings.push(w);
    log(`warning: ${w}`);
  });
  const ctx: FigureContext = {
    root: args.root,
    thisCheckout: args.root === THIS_ROOT,
    mode: args.mode,
    pick: (by) => by[args.mode],
    scope,
    log,
  };
  try {
    return { name, figure: (await load()).figure, ctx };
  } catch (err) {
    return { name, ctx, loadError: `cannot load bench/figures/${name}.ts: ${message(err)}` };
  }
}

const startSetup = (p: Planned): Promise<unknown> => {
  p.setup ??= withLimit(Promise.resolve(p.figure!.setup?.(p.ctx)), FIGURE_LIMIT_MS[p.ctx.mode]);
  p.setup.catch(() => {}); // awaited (and reported) when the figure runs
  return p.setup;
};

async function runFigure(p: Planned): Promise<FigureOutcome> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const { figure, ctx } = p;
  if (figure === undefined) return { name: p.name, title: p.name, ms: 0, rows: [], error: p.loadError ?? "not loaded" };
  if (figure.inProcess === true && !ctx.thisCheckout)
    return { name: p.name, title: figure.title, ms: 0, rows: [], skipped: "in-process figure: measures this checkout's src/ only" };
  try {
    ctx.log(`start: ${figure.title}`);
    const setup = await startSetup(p);
    const result = await withLimit(figure.run(ctx, setup), FIGURE_LIMIT_MS[ctx.mode]);
    ctx.log(`done in ${(elapsed() / 1000).toFixed(1)} s`);
    return { name: p.name, title: figure.title, ms: elapsed(), rows: result.rows, raw: result.raw };
  } catch (err) {
    ctx.log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return { name: p.name, title: figure.title, ms: elapsed(), rows: [], error: message(err) };
  } finally {
    await ctx.scope.close();
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const warnings: string[] = [];
  checkBuild(args, warnings);
  const started = Date.now();
  const meta = runMeta(args.root); // before the run: the checkout may move on while it runs
  const selected = FIGURES.filter(([name]) => args.names.length === 0 || args.names.includes(name));
  const planned = await Promise.all(selected.map(([name, load]) => plan(name, load, args, warnings)));
  const outcomes: FigureOutcome[] = [];
  try {
    if (args.mode === "smoke") {
      for (const p of planned) if (p.figure !== undefined && (p.figure.inProcess !== true || p.ctx.thisCheckout)) startSetup(p);
      // Nothing is measured while processes are still starting: on a loaded machine their start-up starved the
      // first figure's servers until a short run got no answer at all.
      await Promise.allSettled(planned.map((p) => p.setup));
    }
    for (const p of planned) outcomes.push(await runFigure(p));
  } finally {
    await Promise.all(planned.map((p) => p.ctx.scope.close()));
  }
  const report: RunReport = {
    meta: {
      ...meta,
      mode: args.mode,
      argv: process.argv.slice(2),
      startedAt: new Date(started).toISOString(),
      ms: Date.now() - started,
    },
    warnings,
    figures: outcomes,
  };
  writeJson(args.json, report);
  console.log(table(report));
  console.log(`\nJSON: ${args.json}`);
  return outcomes.some((o) => o.error !== undefined) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
