/** A node and the HTTP layer's view of it in tests: what the runtime wires, with any part replaced. */
import { apiContext, type NodeContext } from "../../src/api/context.js";
import { silentLog } from "../../src/core/log.js";
import type { Registry } from "../../src/core/registry.js";
import type { Scheduler } from "../../src/core/scheduler.js";
import type { MemberState } from "../../src/node/cluster/member.js";
import { MemberTable } from "../../src/node/cluster/member-table.js";
import { NamingNode, type NodePorts } from "../../src/node/naming-node.js";
import { defaultNodeConfig } from "../../src/runtime/options.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";

/** A standalone node, on a virtual clock unless given a scheduler, with the ports given (not started). */
export function standaloneNode(scheduler: Scheduler = new VirtualScheduler(1), self = "127.0.0.1:8848", ports: NodePorts = {}): NamingNode {
  return new NamingNode(defaultNodeConfig(self), scheduler, new MemberTable(self, [], scheduler.now()), ports, silentLog);
}

export function nodeContext(node: NamingNode, overrides: Partial<NodeContext> = {}): NodeContext {
  const base = apiContext(node, {
    push: { subscribe: () => false, subscribersOf: () => [], subscriptionsOf: () => [] },
    version: "test",
    peerSecret: undefined,
  });
  return { ...base, ...overrides };
}

/** What `node` believes about member `address` (undefined: not a member). */
export function memberState(node: NamingNode, address: string): MemberState | undefined {
  return node.cluster().members.find((m) => m.address === address)?.state;
}

/**
 * The node's own store, writable: for tests that plant or lose state no message could (a datum in another
 * writer's name, a datum lost behind Distro's back). Everything else goes through the node.
 */
export function storeOf(node: NamingNode): Registry {
  return node.registry as Registry;
}
