/** Whole-registry comparisons for simulations and end-to-end checks. */
import type { Registry } from "../core/registry.js";
import { formatVersion } from "../core/version.js";

/** One line per key: version and content, sorted; equal strings mean identical registries. */
export function registryLines(registry: Registry): string[] {
  return registry.sortedKeys().map((key) => {
    const d = registry.get(key)!;
    const instances = d.instances.map((i) => JSON.stringify(i)).join(",");
    return `${key} ${formatVersion(d.version)} deleted=${d.deleted} meta=${JSON.stringify(d.meta)} [${instances}]`;
  });
}

/** The first line where two registries differ, or undefined when identical. */
export function firstDifference(a: Registry, b: Registry): string | undefined {
  const la = registryLines(a);
  const lb = registryLines(b);
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `${la[i] ?? "<none>"}\n  vs\n${lb[i] ?? "<none>"}`;
  }
  return undefined;
}
