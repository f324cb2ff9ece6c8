/**
 * `join`: a new node joining a cluster that already holds many instances (the target: 1M in at most 60 s, with
 * the node serving the snapshot growing by at most 64 MB). Nodes A and B are filled fast by the bench acting as
 * a third member (BENCH, an address nothing listens on, so A and B see it DOWN) that pushes versioned datums to
 * their gRPC Sync RPC with the cluster secret. Then node C starts with A, B, BENCH and itself as members, and the
 * time from its spawn until it is ready and holds as many instances as A is taken, while A's and B's RSS are
 * sampled every 100 ms. A and B run with the health check switch (`check`) off: the bench sends no heartbeats, and
 * otherwise their owners would turn every instance unhealthy 15 s after the fill and replicate that (a change to
 * every key) while the join runs, which is a different load from the one measured. The default run joins 200k and gives the pro-rata time for 1M; --full joins 1M. The
 * reference is the target itself (a budget, not a measurement of this run); the output says so.
 */
import { randomBytes } from "node:crypto";
import { rssBytes } from "../lib/cpu.js";
import { row, type Figure, type FigureContext } from "../lib/figure.js";
import { call, get, metric, poll, qs, waitMembers } from "../lib/http.js";
import { BenchPeer, datums } from "../lib/peer.js";
import { freePort, type Proc } from "../lib/procs.js";

const PER_SERVICE = 10;
const SERVICES_PER_SYNC = 500;
const TARGET_INSTANCES = 1_000_000;
const TARGET_SECONDS = 60;
const TARGET_RSS_MB = 64;
const COUNT = "nacos_naming_instance_count";
/** What the joiner says about its snapshot load, for the raw numbers. */
const SNAPSHOT_FIGURES = ["nacos_snapshot_instances_loaded", "nacos_snapshot_keys_loaded", "nacos_snapshot_resumes_total"];
const MB = 1024 * 1024;

interface Cluster {
  readonly nodes: readonly [Proc, Proc];
  readonly peer: BenchPeer;
  readonly joinerPort: number;
  readonly members: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Fills A and B with `instances` instances; returns the rate achieved (instances/s into both). */
async function fill(c: Cluster, instances: number): Promise<number> {
  const started = performance.now();
  const services = Math.ceil(instances / PER_SERVICE);
  for (let first = 0; first < services; first += SERVICES_PER_SYNC) {
    const batch = datums("join", first, Math.min(SERVICES_PER_SYNC, services - first), PER_SERVICE, c.peer.address);
    await Promise.all(c.nodes.map((n) => c.peer.sync(n.port + 1001, batch)));
  }
  for (const n of c.nodes) {
    const count = await metric(n.url, COUNT);
    if (count !== services * PER_SERVICE)
      throw new Error(`${n.label} holds ${count} instances after the fill, not ${services * PER_SERVICE}`);
  }
  return (services * PER_SERVICE) / ((performance.now() - started) / 1000);
}

/** Samples the RSS of `procs` every 100 ms until stopped; `growth()` is each one's peak above its first sample, MB. */
function sampleRss(procs: readonly Proc[]): { growth(): number[]; stop(): void } {
  const before = procs.map((p) => rssBytes(p.pid));
  const peaks = [...before];
  const timer = setInterval(() => {
    procs.forEach((p, i) => {
      try {
        peaks[i] = Math.max(peaks[i]!, rssBytes(p.pid));
      } catch {
        // the process is gone; the figure fails on its own
      }
    });
  }, 100);
  return { growth: () => peaks.map((peak, i) => (peak - before[i]!) / MB), stop: () => clearInterval(timer) };
}

/** Starts the joiner; resolves once it is ready and holds as many instances as A, with the time and RSS growths. */
async function timeJoin(
  ctx: FigureContext,
  c: Cluster,
  limitMs: number,
): Promise<{ seconds: number; growthMB: number[]; snapshot: object }> {
  const rss = sampleRss(c.nodes);
  const started = performance.now();
  try {
    const options = { "--members": c.members };
    const joiner = await ctx.scope.node({ label: "joiner", port: c.joinerPort, options, env: c.env, wait: "nothing" });
    const complete = async (): Promise<boolean> =>
      (await get(`${joiner.url}/nacos/v1/console/health/readiness`)).status === 200 &&
      (await metric(joiner.url, COUNT)) === (await metric(c.nodes[0].url, COUNT));
    if (!(await poll(complete, limitMs, 100)))
      throw new Error(`the joiner was not ready and complete within ${limitMs / 1000} s: ${joiner.output().slice(-500)}`);
    const seconds = (performance.now() - started) / 1000;
    const snapshot = Object.fromEntries(await Promise.all(SNAPSHOT_FIGURES.map(async (g) => [g, await metric(joiner.url, g)] as const)));
    return { seconds, growthMB: rss.growth(), snapshot };
  } finally {
    rss.stop();
  }
}

export const figure: Figure<Cluster> = {
  name: "join",
  title: "a node joining a cluster holding many instances: time to ready and complete, snapshot source RSS growth",
  async setup(ctx) {
    const bench = `127.0.0.1:${await freePort()}`;
    const joinerPort = await freePort();
    const secret = randomBytes(16).toString("hex");
    const env = { NACOS_CLUSTER_SECRET: secret };
    const joiner = `127.0.0.1:${joinerPort}`;
    const [a, b] = await ctx.scope.cluster(2, { env, extraMembers: [bench, joiner] });
    const members = [a!.address, b!.address, bench, joiner].join(",");
    return { nodes: [a!, b!], peer: new BenchPeer(bench, secret), joinerPort, members, env };
  },
  async run(ctx: FigureContext, c) {
    const instances = ctx.pick({ smoke: 5_000, quick: 50_000, default: 200_000, full: 1_000_000 });
    const limitMs = ctx.pick({ smoke: 20_000, quick: 120_000, default: 240_000, full: 900_000 });
    await waitMembers(
      c.nodes.map((n) => n.url),
      2,
    );
    for (const n of c.nodes) {
      const off = await call("PUT", `${n.url}/nacos/v1/ns/operator/switches?${qs({ entry: "check", value: "false" })}`);
      if (off.status !== 200) throw new Error(`${n.label}: turning health checks off answered ${off.status} ${off.text}`);
    }
    const fillRate = await fill(c, instances);
    ctx.log(`join: A and B hold ${instances} instances (filled at ${fillRate.toFixed(0)}/s)`);
    const { seconds, growthMB: growth, snapshot } = await timeJoin(ctx, c, limitMs);
    const rate = instances / seconds;
    const proRata = TARGET_INSTANCES / rate;
    const source = growth[0]! >= growth[1]! ? 0 : 1;
    const reference = "reference = the target (a budget, not measured)";
    const rows = [
      row(
        `${instances.toLocaleString("en-US")} instances: join rate`,
        rate,
        TARGET_INSTANCES / TARGET_SECONDS,
        "inst/s",
        "≥ 1.00 (1M ≤ 60 s)",
        `ready and complete ${seconds.toFixed(1)} s after spawn; pro-rata 1M: ${proRata.toFixed(0)} s; ${reference}`,
      ),
      row(
        "snapshot source RSS growth during the join",
        growth[source]!,
        TARGET_RSS_MB,
        "MB",
        "≤ 1.00 (≤ 64 MB)",
        `node ${"AB"[source]} (A +${growth[0]!.toFixed(0)} MB, B +${growth[1]!.toFixed(0)} MB, sampled every 100 ms); ${reference}`,
      ),
    ];
    return {
      rows,
      raw: {
        instances,
        perService: PER_SERVICE,
        fillRatePerSecond: fillRate,
        seconds,
        proRata1MSeconds: proRata,
        rssGrowthMB: growth,
        joinerSnapshot: snapshot,
      },
    };
  },
};
