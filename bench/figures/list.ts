/**
 * `list`: GET instance/list of a 5-host service on a standalone node, against two fastify references in the same
 * run: one that builds and JSON.stringify's an equivalent answer per request, one that sends a string cached
 * until the service changes (what a server that caches its serialized answers could reach).
 */
import { alternate, populate, side, throughputPlan, throughputRows } from "../lib/compare.js";
import type { Figure } from "../lib/figure.js";
import { instanceRequest, listRequest } from "../lib/http.js";
import type { Proc } from "../lib/procs.js";

const SERVICE = "list-5";
const HOSTS = 5;

export const figure: Figure<{ node: Proc; ref: Proc }> = {
  name: "list",
  title: "instance/list of a 5-host service, standalone node vs fastify (stringify per request; cached string)",
  setup: async (ctx) => ({ node: await ctx.scope.node({ label: "standalone" }), ref: await ctx.scope.reference() }),
  async run(ctx, { node, ref }) {
    const sides = [side("ours", node), side("fastify stringify", ref), side("fastify cached", ref)];
    await populate([node, ref], HOSTS, (n) => instanceRequest("POST", SERVICE, n), 30_000, 1);
    const list = listRequest(SERVICE);
    const cached = { ...list, path: list.path.replace("/nacos/v1/ns/instance/list", "/bench/cached/instance/list") };
    const { maxMs, rounds, warmupMs } = throughputPlan(ctx);
    const runs = await alternate(
      sides,
      rounds,
      (s) => ({ connections: 16, requests: 10_000_000, maxMs, request: () => (s === 2 ? cached : list) }),
      { warmupMs },
    );
    const rows = [
      ...throughputRows(`${HOSTS} hosts`, runs[0]!, runs[1]!, "fastify + JSON.stringify per request", "higher"),
      ...throughputRows(`${HOSTS} hosts, cached body`, runs[0]!, runs[2]!, "fastify sending a cached string", "higher"),
    ];
    return { rows, raw: { runs } };
  },
};
