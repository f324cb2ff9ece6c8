/** Whole-registry comparisons for simulations and end-to-end checks. */
import type { RegistryView } from "../core/registry.js";
import { formatVersion } from "../core/version.js";

/** One line per key: version and content, sorted; equal strings mean identical registries. */
export function registryLines(registry: RegistryView): string[] {
  return registry.sortedKeys().map((key) => {
    const d = registry.get(key)!;
    const entries = d.entries.map((e) => `${e.id}@${formatVersion(e.version)}=${JSON.stringify(e.instance ?? null)}`).join(",");
    return `${key} meta@${formatVersion(d.metaVersion)} deleted=${d.deleted} ${JSON.stringify(d.meta)} [${entries}]`;
  });
}

/** The first line where two registries differ, or undefined when identical. */
export function firstDifference(a: RegistryView, b: RegistryView): string | undefined {
  const la = registryLines(a);
  const lb = registryLines(b);
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `${la[i] ?? "<none>"}\n  vs\n${lb[i] ?? "<none>"}`;
  }
  return undefined;
}
