/**
 * `reregister`: re-registering an instance that is already there (what every 1.x client does again and again,
 * and an idempotent no-op for the registry), standalone node vs the fastify reference in the same run.
 */
import { alternate, populate, type Side, side, throughputPlan, throughputRows } from "../lib/compare.js";
import type { Figure } from "../lib/figure.js";
import { instanceRequest } from "../lib/http.js";

const SERVICES = 100;
const INSTANCES = 1_000;

export const figure: Figure<Side[]> = {
  name: "reregister",
  title: "re-register of an existing instance (idempotent), standalone node vs a minimal fastify route",
  setup: async (ctx) => [side("ours", await ctx.scope.node({ label: "standalone" })), side("fastify", await ctx.scope.reference())],
  async run(ctx, sides) {
    const request = (n: number) => instanceRequest("POST", `rereg-${n % SERVICES}`, n % INSTANCES);
    await populate(
      sides.flatMap((s) => s.procs),
      INSTANCES,
      request,
    );
    const { maxMs, rounds, warmupMs } = throughputPlan(ctx);
    const runs = await alternate(
      sides,
      rounds,
      (_s, _r, sent) => ({ connections: 16, requests: 10_000_000, maxMs, request: (n) => request(sent + n) }),
      { warmupMs },
    );
    const rows = throughputRows(
      `${INSTANCES.toLocaleString("en-US")} instances in ${SERVICES} services`,
      runs[0]!,
      runs[1]!,
      "fastify",
      "higher",
    );
    return { rows, raw: { runs } };
  },
};
