/**
 * Members as the API shows them (`/v1/core/cluster/nodes`, what the console's cluster view reads) carry the 2.x
 * client connections each holds: this node's own count, a peer's as its report said, none for a member that did
 * not say (a Nacos 1.4 one never does).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createHttpApp } from "../../src/api/app.js";
import { silentLog } from "../../src/core/log.js";
import { MemberTable } from "../../src/node/cluster/member-table.js";
import { NamingNode } from "../../src/node/naming-node.js";
import { defaultNodeConfig } from "../../src/runtime/options.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { testConnection } from "../support/fixtures.js";
import { nodeContext } from "../support/node-context.js";
import { call } from "./support.js";

const SELF = "127.0.0.1:8848";
const PEER = "127.0.0.2:8848";
const NACOS14 = "127.0.0.3:8848";

test("each member shows the 2.x connections it holds, or none when it does not say", async () => {
  const scheduler = new VirtualScheduler(1);
  const table = new MemberTable(SELF, [PEER, NACOS14], scheduler.now());
  const node = new NamingNode(defaultNodeConfig(SELF), scheduler, table, {}, silentLog);
  await node.start();
  const { connectionCount: _, ...described } = node.cluster().selfInfo;
  table.get(PEER)!.info = { ...described, address: PEER, connectionCount: 3 };
  table.get(NACOS14)!.info = { ...described, address: NACOS14 };
  const app = createHttpApp(nodeContext(node));
  const counts = async () => {
    const nodes = (await call(app, "GET", "/nacos/v1/core/cluster/nodes")).json().data as Array<{
      address: string;
      connectionCount?: number;
    }>;
    return Object.fromEntries(nodes.map((m) => [m.address, m.connectionCount]));
  };
  assert.deepEqual(await counts(), { [SELF]: 0, [PEER]: 3, [NACOS14]: undefined });
  node.connections.open(testConnection("1700000000000_127.0.0.1_50001", scheduler.now()));
  assert.deepEqual(await counts(), { [SELF]: 1, [PEER]: 3, [NACOS14]: undefined });
  assert.equal((await call(app, "GET", "/nacos/v1/core/cluster/self")).json().data.connectionCount, 1);
  node.close();
});
