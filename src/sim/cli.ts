/**
 * `npm run sim -- --seeds N [--seed S] [--nodes K] [--transports grpc|http|auto|mixed]`: runs seeds S, S+1, …
 * S+N-1 (mixed transports by default) and prints each failing
 * seed with its problems and the trace that led there. Exit status 1 when any seed fails.
 */
import { parseArgs } from "node:util";
import { runSimulation } from "./simulation.js";

const { values } = parseArgs({
  options: {
    seeds: { type: "string", default: "1" },
    seed: { type: "string", default: "1" },
    nodes: { type: "string" },
    transports: { type: "string", default: "mixed" },
    verbose: { type: "boolean", default: false },
  },
});

const count = Number(values.seeds);
const first = Number(values.seed);
const nodes = values.nodes === undefined ? undefined : Number(values.nodes);
const transports = values.transports as "grpc" | "http" | "auto" | "mixed";
if (!["grpc", "http", "auto", "mixed"].includes(transports)) throw new Error("--transports must be grpc, http, auto or mixed");
let failed = 0;
const started = Date.now();
for (let seed = first; seed < first + count; seed++) {
  const result = await runSimulation(nodes === undefined ? { seed, transports } : { seed, nodes, transports });
  if (result.ok) {
    if (values.verbose)
      console.log(
        `seed ${seed}: ok (${result.nodes} nodes, ${Object.values(result.transports).join("/")}) ${JSON.stringify(result.stats)}`,
      );
    continue;
  }
  failed++;
  console.log(
    `seed ${seed}: FAILED (${result.nodes} nodes, ${Object.values(result.transports).join("/")}) ${JSON.stringify(result.stats)}`,
  );
  for (const p of result.problems.slice(0, 10)) console.log(`  problem: ${p}`);
  console.log("  trace (last events):");
  for (const line of result.trace) console.log(`    ${line}`);
  console.log(
    `  replay: npm run sim -- --seeds 1 --seed ${seed} --transports ${transports}${nodes === undefined ? "" : ` --nodes ${nodes}`}`,
  );
}
console.log(`${count - failed}/${count} seeds passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = failed === 0 ? 0 : 1;
