/**
 * `memory` (in-process, in child processes): bytes per instance held by a standalone node, registered through
 * its write path (10 instances per service, two metadata entries each), vs plain nested JS maps holding the same
 * instances as objects: heap, and resident memory (what a container limit sees). Each side runs in its own
 * `node --expose-gc` process, measured after full GCs. Then what an operator sees: a real node process
 * (dist/src/main.js, its health check switched off, since the bench sends no beats) registered the same instances
 * over HTTP, its RSS growth from before the first registration
 * to after the load, once it has been idle long enough for V8 to give back what the load's garbage took.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { rssBytes } from "../lib/cpu.js";
import { row, type Figure } from "../lib/figure.js";
import { call, instanceRequest, qs, sleep } from "../lib/http.js";
import { runLoad } from "../lib/load.js";
import type { Proc } from "../lib/procs.js";

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL("../lib/memory-child.ts", import.meta.url));

interface PerInstance {
  readonly bytesPerInstance: number;
  readonly rssPerInstance: number;
}

async function bytesPerInstance(mode: "node" | "maps", instances: number): Promise<PerInstance> {
  const { stdout } = await run(process.execPath, ["--expose-gc", "--import", "tsx", CHILD, mode, String(instances)], {
    maxBuffer: 1 << 20,
    timeout: 600_000,
  });
  return JSON.parse(stdout) as PerInstance;
}

/** RSS growth per instance of a node process registered `instances` instances over HTTP (10 per service), read `idleMs` after. */
async function realNodeRss(node: Proc, instances: number, idleMs: number): Promise<number> {
  const before = rssBytes(node.pid);
  const request = (n: number) => instanceRequest("POST", `mem-${Math.floor(n / 10)}`, n);
  const load = await runLoad({ port: node.port, connections: 32, requests: instances, maxMs: 900_000, request });
  if ((load.statuses["200"] ?? 0) !== instances)
    throw new Error(`registering: ${JSON.stringify(load.statuses)} ${load.errorSamples.join(" | ")}`);
  await sleep(idleMs);
  return Math.round((rssBytes(node.pid) - before) / instances);
}

export const figure: Figure<Proc> = {
  name: "memory",
  title: "heap and resident bytes per instance: a standalone node vs plain JS maps holding the same instances",
  inProcess: true,
  setup: async (ctx) => {
    const node = await ctx.scope.node({ label: "standalone" });
    // the bench sends no beats: without this the idle wait would see every instance turn unhealthy (a write each)
    const off = await call("PUT", `${node.url}/nacos/v1/ns/operator/switches?${qs({ entry: "check", value: "false" })}`);
    if (off.status !== 200) throw new Error(`switching the health check off: ${off.status} ${off.text}`);
    return node;
  },
  async run(ctx, node) {
    const instances = ctx.pick({ smoke: 20_000, quick: 100_000, default: 300_000, full: 1_000_000 });
    ctx.log(`registering ${instances.toLocaleString("en-US")} instances in each of two processes`);
    const ours = await bytesPerInstance("node", instances);
    const maps = await bytesPerInstance("maps", instances);
    ctx.log(`registering ${instances.toLocaleString("en-US")} instances over HTTP in a node process`);
    // V8 may shrink its heap a while after the last allocation; an idle node's RSS is read after that
    const idleMs = ctx.pick({ smoke: 500, quick: 5_000, default: 15_000, full: 15_000 });
    const real = await realNodeRss(node, instances, idleMs);
    const note = `${instances.toLocaleString("en-US")} instances, 10 per service; target ≤ 600 B at 1M`;
    const n = instances.toLocaleString("en-US");
    return {
      rows: [
        row(`${n} instances, heap`, ours.bytesPerInstance, maps.bytesPerInstance, "B", "≤ 600 B", note),
        row(`${n} instances, resident (RSS)`, ours.rssPerInstance, maps.rssPerInstance, "B", "≤ 600 B", note),
        row(
          `${n} instances, node process over HTTP, RSS`,
          real,
          maps.rssPerInstance,
          "B",
          "≤ 600 B",
          `${note}; idle ${idleMs / 1000} s first`,
        ),
      ],
      raw: { instances, ours, maps, realNodeRssPerInstance: real, idleMs },
    };
  },
};
