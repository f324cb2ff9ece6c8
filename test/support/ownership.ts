/** Which node of a real cluster is responsible for a service (1.4's hash over the sorted member list). */
import { distroHash } from "../../src/node/distro/distro-mapper.js";
import type { NodeProcess } from "./node-process.js";

/** A service name (`prefix` and a number) in DEFAULT_GROUP whose responsible node is `owner`. */
export function ownedBy(owner: NodeProcess, nodes: readonly NodeProcess[], prefix: string): string {
  const sorted = nodes.map((n) => n.address).sort();
  for (let i = 0; ; i++) if (sorted[distroHash(`DEFAULT_GROUP@@${prefix}${i}`) % sorted.length] === owner.address) return `${prefix}${i}`;
}
