/**
 * `aa-noise`: an A/A comparison, the fastify reference against an identical copy of itself, alternated in pairs
 * under the same register load as `register`. Any ratio but 1.00 here is noise of this machine and method, so
 * the spread of these pair ratios is how far any other ratio of the run can be trusted.
 */
import { alternate, type Measured, median, type Side, side, summarize, throughputPlan } from "../lib/compare.js";
import type { Figure, Row } from "../lib/figure.js";
import { instanceRequest } from "../lib/http.js";

/**
 * Median, min–max and the half-range as a share of the median of per-pair ratios. A pair in which one side
 * answered nothing (a stalled machine, in a short run) has no ratio and is left out, and said so.
 */
function spreadRow(variant: string, all: readonly number[], a: number, b: number, unit: string): Row {
  const ratios = all.filter((r) => Number.isFinite(r) && r > 0);
  const dropped = all.length - ratios.length;
  const mid = ratios.length === 0 ? Number.NaN : median(ratios);
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const half = ((hi - lo) / 2 / mid) * 100;
  return {
    variant,
    ours: a,
    reference: b,
    ratio: ratios.length === 0 ? null : mid,
    unit,
    target: "1.00",
    note: `${ratios.length} pairs: ${lo.toFixed(2)}–${hi.toFixed(2)} (±${half.toFixed(0)} %): ${ratios.map((r) => r.toFixed(2)).join(" ")}${
      dropped > 0 ? `; ${dropped} pair(s) left out: one side answered nothing` : ""
    }`,
  };
}

const cpuPerRequest = (m: Measured): number => (m.cpuMs * 1000) / m.load.requests;

export const figure: Figure<Side[]> = {
  name: "aa-noise",
  title: "A/A: the fastify reference against an identical copy of itself, alternated in pairs (the noise floor)",
  setup: async (ctx) => [
    side("fastify A", await ctx.scope.reference("reference-A")),
    side("fastify B", await ctx.scope.reference("reference-B")),
  ],
  async run(ctx, sides) {
    const pairs = ctx.pick({ smoke: 2, quick: 5, default: 5, full: 8 });
    const { maxMs, warmupMs } = throughputPlan(ctx);
    const runs = await alternate(
      sides,
      pairs,
      (_s, _r, sent) => ({
        connections: 16,
        requests: 10_000_000,
        maxMs,
        request: (n) => instanceRequest("POST", `aa-${(sent + n) % 1_000}`, sent + n),
      }),
      { warmupMs },
    );
    const [a, b] = [runs[0]!, runs[1]!];
    const sa = summarize("A", a);
    const sb = summarize("B", b);
    const rows = [
      spreadRow(
        "register req/s, A ÷ B",
        a.map((m, i) => m.load.perSecond / b[i]!.load.perSecond),
        sa.perSecond,
        sb.perSecond,
        "req/s",
      ),
      spreadRow(
        "server CPU/request, A ÷ B",
        a.map((m, i) => cpuPerRequest(m) / cpuPerRequest(b[i]!)),
        sa.cpuUsPerRequest,
        sb.cpuUsPerRequest,
        "µs",
      ),
    ];
    return { rows, raw: { runs } };
  },
};
