/**
 * `cluster-writes`: how many registrations a 3-node cluster absorbs with the load spread over all three nodes'
 * HTTP ports (two writes in three land on a node that does not own the service and are forwarded to the owner
 * over gRPC), against one standalone node taking the same load in the same run. Also the latency of forwarded
 * writes against the cluster's local ones.
 */
import { alternate, side, throughputPlan, throughputRows } from "../lib/compare.js";
import { row, type Figure, type Row } from "../lib/figure.js";
import { instanceRequest, ownerOf, waitMembers, waitSynced } from "../lib/http.js";
import { type Answer, percentile } from "../lib/load.js";
import type { Proc } from "../lib/procs.js";

const SERVICES = 300;
const CONNECTIONS = 16;

/** Latencies of the cluster's answers, split by whether the receiving node had to forward the write. */
class ForwardSplit {
  readonly forwarded: number[] = [];
  readonly local: number[] = [];

  constructor(
    private readonly owners: readonly string[],
    private readonly nodes: readonly Proc[],
  ) {}

  onAnswer(offset: number): (a: Answer) => void {
    return (a) => {
      const receiver = this.nodes.find((p) => p.port === a.port)?.address;
      (this.owners[(offset + a.n) % SERVICES] === receiver ? this.local : this.forwarded).push(a.ms);
    };
  }

  rows(): Row[] {
    const f = [...this.forwarded].sort((a, b) => a - b);
    const l = [...this.local].sort((a, b) => a - b);
    const note = `vs writes the receiving node owns; ${f.length} forwarded, ${l.length} local`;
    return [50, 99].map((p) => row(`forwarded write latency p${p}`, percentile(f, p), percentile(l, p), "ms", "lower", note));
  }
}

export const figure: Figure<{ cluster: Proc[]; standalone: Proc }> = {
  name: "cluster-writes",
  title: "registrations a 3-node cluster absorbs (load over all 3 HTTP ports) vs one standalone node, same run",
  setup: async (ctx) => ({ cluster: await ctx.scope.cluster(3), standalone: await ctx.scope.node({ label: "standalone" }) }),
  async run(ctx, { cluster, standalone }) {
    const bases = cluster.map((p) => p.url);
    await waitMembers(bases, 3);
    const owners: string[] = [];
    for (let k = 0; k < SERVICES; k++) owners.push(await ownerOf(cluster[0]!.url, `cw-${k}`));
    const split = new ForwardSplit(owners, cluster);
    const { maxMs, rounds, warmupMs } = throughputPlan(ctx);
    const sides = [side("3-node cluster", ...cluster), side("standalone", standalone)];
    const runs = await alternate(
      sides,
      rounds,
      (s, round, sent) => ({
        connections: CONNECTIONS,
        requests: 10_000_000,
        maxMs,
        request: (n) => instanceRequest("POST", `cw-${(sent + n) % SERVICES}`, sent + n),
        ...(s === 0 && round >= 0 ? { onAnswer: split.onAnswer(sent) } : {}),
      }),
      { warmupMs, between: async () => void (await waitSynced(bases)) },
    );
    const rows = [
      ...throughputRows("new instances over 300 services", runs[0]!, runs[1]!, "one standalone node", "higher"),
      ...split.rows(),
    ];
    const owned = Object.fromEntries(cluster.map((p) => [p.address, owners.filter((o) => o === p.address).length]));
    return { rows, raw: { runs, servicesOwned: owned, forwardedMs: split.forwarded.length, localMs: split.local.length } };
  },
};
