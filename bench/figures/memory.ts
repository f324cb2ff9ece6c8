/**
 * `memory` (in-process, in child processes): bytes per instance held by a standalone node, registered through
 * its write path (10 instances per service, two metadata entries each), vs plain nested JS maps holding the same
 * instances as objects: heap, and resident memory (what a container limit sees). Each side runs in its own
 * `node --expose-gc` process, measured after full GCs.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { row, type Figure } from "../lib/figure.js";

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

export const figure: Figure = {
  name: "memory",
  title: "heap and resident bytes per instance: a standalone node vs plain JS maps holding the same instances",
  inProcess: true,
  async run(ctx) {
    const instances = ctx.pick({ smoke: 20_000, quick: 100_000, default: 300_000, full: 1_000_000 });
    ctx.log(`registering ${instances.toLocaleString("en-US")} instances in each of two processes`);
    const ours = await bytesPerInstance("node", instances);
    const maps = await bytesPerInstance("maps", instances);
    const note = `${instances.toLocaleString("en-US")} instances, 10 per service; target ≤ 600 B at 1M`;
    const n = instances.toLocaleString("en-US");
    return {
      rows: [
        row(`${n} instances, heap`, ours.bytesPerInstance, maps.bytesPerInstance, "B", "≤ 600 B", note),
        row(`${n} instances, resident (RSS)`, ours.rssPerInstance, maps.rssPerInstance, "B", "≤ 600 B", note),
      ],
      raw: { instances, ours, maps },
    };
  },
};
