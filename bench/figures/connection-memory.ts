/**
 * `connection-memory`: what one idle 2.x client connection costs a standalone node in resident memory (what a
 * container limit sees), with 10,000 of them set up on it, against a bare grpc-js server holding the same
 * connections and bi-streams (bench/reference/grpc-server.mjs) in the same run. Each server's RSS is read after a
 * settle before the connections open and again after they have all set up; the difference over the count.
 */
import { rssBytes } from "../lib/cpu.js";
import { row, type Figure, type FigureContext } from "../lib/figure.js";
import { metric, poll, sleep } from "../lib/http.js";
import { idleConnections } from "../lib/nacos2-idle.js";
import type { Proc } from "../lib/procs.js";

interface Measured {
  readonly open: number;
  readonly before: number;
  readonly after: number;
  readonly perConnection: number;
}

async function measure(ctx: FigureContext, server: Proc, count: number, counted: () => Promise<number>): Promise<Measured> {
  // RSS settles a moment after the last allocation (a smoke run only checks that the figure works)
  const settleMs = ctx.pick({ smoke: 200, quick: 2_000, default: 3_000, full: 3_000 });
  await sleep(settleMs);
  const before = rssBytes(server.pid);
  const held = await idleConnections(server.port + 1000, count);
  try {
    await poll(async () => (await counted()) >= held.open, 60_000, 250);
    await sleep(settleMs);
    const after = rssBytes(server.pid);
    ctx.log(`${server.label}: ${held.open} connections, RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB`);
    return { open: held.open, before, after, perConnection: (after - before) / Math.max(1, held.open) };
  } finally {
    held.close();
  }
}

export const figure: Figure<{ node: Proc; reference: Proc }> = {
  name: "connection-memory",
  title: "resident memory per idle 2.x client connection: a standalone node vs a bare grpc-js server",
  setup: async (ctx) => ({
    node: await ctx.scope.node({ label: "standalone" }),
    reference: await ctx.scope.reference("grpc-js", "grpc"),
  }),
  async run(ctx, { node, reference }) {
    const count = ctx.pick({ smoke: 200, quick: 2_000, default: 10_000, full: 10_000 });
    const ours = await measure(ctx, node, count, () => metric(node.url, "nacos_client_connections_set_up"));
    const ref = await measure(ctx, reference, count, async () => metric(reference.url, "streams"));
    const note = `${ours.open} / ${ref.open} of ${count.toLocaleString("en-US")} connections set up; RSS growth over the count`;
    return {
      rows: [row(`${count.toLocaleString("en-US")} idle connections`, ours.perConnection, ref.perConnection, "B", "≤ 16 KiB", note)],
      raw: { count, ours, reference: ref },
    };
  },
};
