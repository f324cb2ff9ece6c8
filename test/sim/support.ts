/** What one simulated node believes about the others, read through its public view. */
import type { MemberState } from "../../src/node/cluster/member.js";
import type { SimCluster } from "../../src/sim/sim-cluster.js";
import { memberState } from "../support/node-context.js";

export function stateSeenBy(cluster: SimCluster, observer: string, target: string): MemberState | undefined {
  return memberState(cluster.node(observer), target);
}

/** The members `observer` counts as healthy (UP or SUSPICIOUS): the list responsibility is hashed over. */
export function healthySeenBy(cluster: SimCluster, observer: string): string[] {
  return cluster
    .node(observer)
    .cluster()
    .members.filter((m) => m.state === "UP" || m.state === "SUSPICIOUS")
    .map((m) => m.address);
}
