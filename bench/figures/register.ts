/**
 * `register`: what registering a new instance costs a standalone node, against the fastify reference serving the
 * same requests in the same run, both as req/s and as server CPU per request. Then flatness: new registrations
 * into services that already hold 1, 100, 1,000 and 10,000 instances, where a cost that grows with the service
 * shows as a ratio falling with its size.
 */
import { alternate, type Measured, populate, type Side, side, throughputPlan, throughputRows } from "../lib/compare.js";
import type { Figure, FigureContext, Row } from "../lib/figure.js";
import { instanceRequest } from "../lib/http.js";

const SERVICES = 1_000;
const sent = (runs: readonly Measured[]): number => runs.reduce((n, m) => n + m.load.requests, 0);
const CONNECTIONS = 16;
/** Each round grows every service by at most a tenth (at least one instance), so it keeps roughly its size. */
const GROWTH = 10;

async function newInstances(ctx: FigureContext, sides: Side[]): Promise<{ rows: Row[]; raw: unknown }> {
  const { maxMs, rounds, warmupMs } = throughputPlan(ctx);
  const runs = await alternate(
    sides,
    rounds,
    (_s, _r, sent) => ({
      connections: CONNECTIONS,
      requests: 10_000_000,
      maxMs,
      request: (n) => instanceRequest("POST", `reg-${(sent + n) % SERVICES}`, sent + n),
    }),
    { warmupMs },
  );
  return {
    rows: throughputRows(`new instance (${SERVICES.toLocaleString("en-US")} services)`, runs[0]!, runs[1]!, "fastify", "higher", {
      note: `ours' services grew to ~${Math.round(sent(runs[0]!) / SERVICES)} instances each during the run`,
    }),
    raw: runs,
  };
}

interface Flat {
  readonly rows: Row[];
  readonly raw: unknown;
  /** Populating hit its time cap: larger sizes would only take longer. */
  readonly capped: boolean;
}

/**
 * New registrations into `services` services of `size` instances each, at most `measured` per round (and at most
 * a round's time), each round growing a service by at most a tenth. Populating is capped in time too: a node
 * whose cost per write grows with the service may never get there, and the size it reached is then reported.
 */
async function intoServicesOf(ctx: FigureContext, sides: Side[], size: number): Promise<Flat> {
  const measured = ctx.pick({ smoke: 100, quick: 500, default: 1_000, full: 2_000 });
  const capMs = ctx.pick({ smoke: 5_000, quick: 20_000, default: 30_000, full: 120_000 });
  const { maxMs, rounds } = throughputPlan(ctx);
  const perService = Math.max(1, Math.floor(size / GROWTH));
  const services = Math.ceil(measured / perService);
  const name = (n: number): string => `flat${size}-${n % services}`;
  const procs = sides.flatMap((s) => s.procs);
  const base = await populate(procs, services * size, (n) => instanceRequest("POST", name(n), n), capMs);
  const runs = await alternate(sides, rounds, (_s, _r, sent) => ({
    connections: CONNECTIONS,
    requests: measured,
    maxMs,
    request: (n) => instanceRequest("POST", name(n), base + sent + n),
  }));
  const capped = base < services * size;
  const held = capped
    ? `~${Math.floor(base / services).toLocaleString("en-US")} (populating to ${size.toLocaleString("en-US")} stopped at ${capMs / 1000} s)`
    : size.toLocaleString("en-US");
  const rows = throughputRows(`into a service holding ${held}`, runs[0]!, runs[1]!, "fastify", "flat (≈ first)", { compact: true });
  return { rows, raw: { size, services, populated: base, perServicePerRound: perService, runs }, capped };
}

/** A size not measured because a smaller one could not even be populated in time. */
const notMeasured = (size: number): Row => ({
  variant: `into a service holding ${size.toLocaleString("en-US")}`,
  ours: Number.NaN,
  reference: Number.NaN,
  ratio: null,
  unit: "req/s",
  target: "flat (≈ first)",
  note: "not measured: populating a smaller size already hit its time cap",
});

export const figure: Figure<Side[]> = {
  name: "register",
  title: "register of a new instance, standalone node vs a minimal fastify route (same requests, same run)",
  setup: async (ctx) => [side("ours", await ctx.scope.node({ label: "standalone" })), side("fastify", await ctx.scope.reference())],
  async run(ctx, sides) {
    const main = await newInstances(ctx, sides);
    const rows = [...main.rows];
    const flat: unknown[] = [];
    let capped = false;
    for (const size of ctx.pick({
      smoke: [1, 100],
      quick: [1, 100, 1_000, 10_000],
      default: [1, 100, 1_000, 10_000],
      full: [1, 100, 1_000, 10_000],
    })) {
      if (capped) {
        rows.push(notMeasured(size));
        continue;
      }
      ctx.log(`register: services holding ${size}`);
      const r = await intoServicesOf(ctx, sides, size);
      rows.push(...r.rows);
      flat.push(r.raw);
      capped = r.capped;
    }
    return { rows, raw: { newInstances: main.raw, flatness: flat } };
  },
};
