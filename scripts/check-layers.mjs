#!/usr/bin/env node
/**
 * The layering of src/, checked over the import graph (run by `npm test`). The layers, lowest first — a module
 * may import its own layer and the layers below it, nothing above:
 *
 *   core       domain: instances, datums, registry, clock, names and addresses, errors, scheduler
 *   node       the Distro node, its ports (node/ports.ts) and what it is made of: distro, cluster, health
 *   push       UDP push to 1.x subscribers
 *   store      the data directory: a durable key-value log behind the node's DurableStore port
 *   transport  wire only: gRPC and Nacos 1.4 HTTP peer protocols; reaches the node only through its ports
 *   api        the fastify client API
 *   runtime    options, assembly, the process
 *   sim        the simulator
 *
 * Besides: `transport/` and `store/` may import from `node/` only the ports (node/ports.ts) and the member types
 * (node/cluster/member.ts); protobuf-generated code (`gen/`) is imported by transport only; core and node use no
 * network, HTTP or gRPC library; and there is no import cycle.
 *
 * `node scripts/check-layers.mjs` prints every violation and exits 1 when there is one.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const LAYERS = ["core", "node", "push", "store", "transport", "api", "runtime", "sim"];
const TRANSPORT_MAY_USE = ["src/node/ports.ts", "src/node/cluster/member.ts"];
const WIRE_PACKAGES = /^(fastify|@fastify\/|@grpc\/|@bufbuild\/|pino|node:(http|https|http2|net|dgram|tls|dns)$|node:dns\/)/;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** `src/<layer>/...` → layer; `src/main.ts` belongs to the runtime. */
function layerOf(file) {
  const rel = relative(ROOT, file).split("\\").join("/");
  if (rel === "src/main.ts") return "runtime";
  const match = /^src\/([^/]+)\//.exec(rel);
  return match !== null && LAYERS.includes(match[1]) ? match[1] : undefined;
}

/** Import specifiers of a module: static imports and exports, and dynamic imports. */
function importsOf(text) {
  const out = [];
  const patterns = [/^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"/gms, /^\s*import\s+"([^"]+)"/gm, /\bimport\(\s*"([^"]+)"\s*\)/g];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) out.push(m[1]);
  return out;
}

const resolve = (from, spec) => normalize(join(dirname(from), spec.replace(/\.js$/, ".ts")));
const rel = (file) => relative(ROOT, file).split("\\").join("/");

const problems = [];
const graph = new Map();
const sources = files(join(ROOT, "src"));
for (const file of sources) {
  const layer = layerOf(file);
  if (layer === undefined) {
    problems.push(`${rel(file)}: not in any layer (${LAYERS.join(", ")})`);
    continue;
  }
  const edges = [];
  for (const spec of importsOf(readFileSync(file, "utf8"))) {
    if (!spec.startsWith(".")) {
      if ((layer === "core" || layer === "node") && WIRE_PACKAGES.test(spec))
        problems.push(`${rel(file)}: the ${layer} layer uses ${spec}`);
      continue;
    }
    const target = resolve(file, spec);
    const targetRel = rel(target);
    if (targetRel.startsWith("gen/")) {
      if (layer !== "transport") problems.push(`${rel(file)}: imports generated code ${targetRel} (only transport may)`);
      continue;
    }
    const targetLayer = layerOf(target);
    if (targetLayer === undefined) continue;
    edges.push(target);
    if (LAYERS.indexOf(targetLayer) > LAYERS.indexOf(layer))
      problems.push(`${rel(file)} (${layer}) imports ${targetRel} (${targetLayer}), a layer above`);
    if ((layer === "transport" || layer === "store") && targetLayer === "node" && !TRANSPORT_MAY_USE.includes(targetRel)) {
      problems.push(`${rel(file)} imports ${targetRel}: ${layer} reaches the node only through ${TRANSPORT_MAY_USE.join(" and ")}`);
    }
  }
  graph.set(file, edges);
}

// Import cycles, each reported once by its smallest member.
const state = new Map();
const stack = [];
const cycles = new Set();
function visit(file) {
  state.set(file, "open");
  stack.push(file);
  for (const next of graph.get(file) ?? []) {
    if (state.get(next) === "open") {
      const cycle = stack.slice(stack.indexOf(next)).map(rel);
      const start = cycle.indexOf([...cycle].sort()[0]);
      cycles.add([...cycle.slice(start), ...cycle.slice(0, start)].join(" → "));
    } else if (!state.has(next) && graph.has(next)) visit(next);
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of graph.keys()) if (!state.has(file)) visit(file);
for (const cycle of cycles) problems.push(`import cycle: ${cycle}`);

if (problems.length > 0) {
  console.error(`layering: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`);
  process.exit(1);
}
console.log(
  `layering: ${sources.length} modules, ${[...graph.values()].reduce((n, e) => n + e.length, 0)} imports, no violation, no cycle`,
);
