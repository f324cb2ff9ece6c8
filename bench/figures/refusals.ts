/**
 * `refusals`: a 2-node cluster under a sustained write load (64 requests in flight, registrations spread over
 * both nodes, so half are forwarded): how many answers are not 200 (a forward that times out is a 503 to the
 * client), and the longest event-loop stall of each node during the run, read from the
 * `nacos_event_loop_delay_max_ms` gauge (scraped once before to reset it). Reference: one standalone node under
 * the same load in the same run, where nothing is forwarded.
 */
import { row, type Figure, type FigureContext, type Row } from "../lib/figure.js";
import { instanceRequest, metric, waitMembers, waitSynced } from "../lib/http.js";
import { type LoadResult, runLoad } from "../lib/load.js";
import type { Proc } from "../lib/procs.js";

const IN_FLIGHT = 64;
const SERVICES = 1_000;
const LOOP_DELAY = "nacos_event_loop_delay_max_ms";

interface Outcome {
  readonly load: LoadResult;
  /** Max event-loop delay of each node during the run, ms. */
  readonly loopDelayMs: readonly number[];
}

/** `count` registrations at IN_FLIGHT over `nodes` (connections round-robin), with each node's max loop delay. */
async function hammer(nodes: readonly Proc[], count: number, offset: number, maxMs: number): Promise<Outcome> {
  await Promise.all(nodes.map((n) => metric(n.url, LOOP_DELAY))); // resets the since-last-scrape maximum
  const load = await runLoad({
    ports: nodes.map((n) => n.port),
    connections: IN_FLIGHT,
    requests: count,
    maxMs,
    request: (n) => instanceRequest("POST", `refuse-${(offset + n) % SERVICES}`, offset + n),
  });
  return { load, loopDelayMs: await Promise.all(nodes.map((n) => metric(n.url, LOOP_DELAY))) };
}

const ok = (l: LoadResult): number => l.statuses["200"] ?? 0;

function rowsFor(count: number, cluster: Outcome, alone: Outcome, labels: readonly string[]): Row[] {
  const refused = cluster.load.requests - ok(cluster.load);
  const codes = Object.entries(cluster.load.statuses)
    .filter(([k]) => k !== "200")
    .map(([k, v]) => `${k === "0" ? "dropped" : k} ×${v}`)
    .join(", ");
  const sample = cluster.load.errorSamples[0];
  const pct = (l: LoadResult): number => (ok(l) / Math.max(1, l.requests)) * 100;
  const n = count.toLocaleString("en-US");
  const incomplete = cluster.load.requests < count ? `; only ${cluster.load.requests} answered in time` : "";
  return [
    row(
      `${n} registrations, ${IN_FLIGHT} in flight: answered 200`,
      pct(cluster.load),
      pct(alone.load),
      "%",
      "1.00 (0 refused)",
      `${refused} not 200${codes === "" ? "" : ` (${codes})`}${sample === undefined ? "" : `, e.g. "${sample.slice(0, 120)}"`}; cluster ${cluster.load.perSecond.toFixed(0)} req/s, standalone ${alone.load.perSecond.toFixed(0)} req/s${incomplete}`,
    ),
    ...labels.map((label, i) =>
      row(
        `${n}: max event-loop delay, ${label}`,
        cluster.loopDelayMs[i]!,
        alone.loopDelayMs[0]!,
        "ms",
        "lower",
        "vs the standalone node under the same load",
      ),
    ),
  ];
}

export const figure: Figure<{ cluster: Proc[]; standalone: Proc }> = {
  name: "refusals",
  title: "non-200 answers and event-loop stalls of a 2-node cluster under 64 writes in flight vs one standalone node",
  setup: async (ctx) => {
    const [cluster, standalone] = await Promise.all([ctx.scope.cluster(2), ctx.scope.node({ label: "standalone" })]);
    return { cluster, standalone };
  },
  async run(ctx: FigureContext, { cluster, standalone }) {
    const bases = cluster.map((p) => p.url);
    await waitMembers(bases, 2);
    const counts = ctx.pick({ smoke: [2_000], quick: [10_000], default: [50_000], full: [50_000, 200_000] });
    const maxMs = ctx.pick({ smoke: 15_000, quick: 60_000, default: 240_000, full: 900_000 });
    const rows: Row[] = [];
    const raw: Record<string, unknown> = {};
    let offset = 0;
    for (const count of counts) {
      ctx.log(`refusals: ${count} registrations`);
      const inCluster = await hammer(cluster, count, offset, maxMs);
      await waitSynced(bases, 30_000);
      const alone = await hammer([standalone], count, offset, maxMs);
      offset += count;
      rows.push(...rowsFor(count, inCluster, alone, ["node A", "node B"]));
      raw[String(count)] = { cluster: inCluster, standalone: alone };
    }
    return { rows, raw };
  },
};
