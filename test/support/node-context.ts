/** The HTTP layer's view of a node in tests: what the runtime wires, with any part replaced. */
import type { NodeContext } from "../../src/api/context.js";
import type { NamingNode } from "../../src/node/naming-node.js";

export function nodeContext(node: NamingNode, overrides: Partial<NodeContext> = {}): NodeContext {
  return {
    registry: node.registry,
    switches: node.switches,
    writer: node.router,
    push: { subscribe: () => false, subscribersOf: () => [] },
    cluster: node.clusterView(),
    status: node.nodeStatus(),
    clock: () => node.scheduler.now(),
    version: "test",
    peerSecret: undefined,
    ...overrides,
  };
}
