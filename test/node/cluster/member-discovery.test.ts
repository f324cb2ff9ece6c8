/**
 * The member list from a DNS name (`--members-dns`, node/cluster/member-discovery.ts) with a fake resolver: it
 * grows and shrinks with the records, a failed or empty answer changes nothing, a huge one is capped, and a node
 * built on it reports to the members the name lists and stops reporting to those it no longer does.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLog } from "../../../src/core/log.js";
import { MAX_DISCOVERED_MEMBERS, MemberDiscovery } from "../../../src/node/cluster/member-discovery.js";
import { MemberManager } from "../../../src/node/cluster/member-manager.js";
import { MemberTable } from "../../../src/node/cluster/member-table.js";
import type { MemberInfo } from "../../../src/node/cluster/member.js";
import type { PeerTransport } from "../../../src/node/ports.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { TEST_MEMBERSHIP, testMemberInfo } from "../../support/fixtures.js";

const NAME = { name: "nacos-headless.default.svc", port: 8848, refreshMs: 5000 };

function fakeDns(records: string[] | undefined) {
  const state = { records, lookups: 0 };
  const resolve = async (): Promise<string[]> => {
    state.lookups++;
    if (state.records === undefined) throw new Error("ENOTFOUND");
    return state.records;
  };
  return { state, resolve };
}

test("the members follow the name's records: growing, shrinking; failed or empty answers change nothing; huge ones are capped", async () => {
  const scheduler = new VirtualScheduler();
  const dns = fakeDns(["192.0.2.2", "192.0.2.1"]);
  const seen: string[][] = [];
  const discovery = new MemberDiscovery(NAME, dns.resolve, scheduler, (m) => seen.push([...m]), silentLog);
  await discovery.start();
  assert.deepEqual(seen, [["192.0.2.1:8848", "192.0.2.2:8848"]]);
  dns.state.records = ["192.0.2.1", "192.0.2.2", "192.0.2.3"];
  await scheduler.advance(NAME.refreshMs);
  assert.deepEqual(seen.at(-1), ["192.0.2.1:8848", "192.0.2.2:8848", "192.0.2.3:8848"], "scaled up");
  dns.state.records = ["192.0.2.3", "192.0.2.1"];
  await scheduler.advance(NAME.refreshMs);
  assert.deepEqual(seen.at(-1), ["192.0.2.1:8848", "192.0.2.3:8848"], "scaled down");
  const changes = seen.length;
  await scheduler.advance(NAME.refreshMs);
  dns.state.records = undefined;
  await scheduler.advance(NAME.refreshMs);
  dns.state.records = [];
  await scheduler.advance(NAME.refreshMs);
  assert.equal(seen.length, changes, "the same answer, a failed one and an empty one change nothing");
  dns.state.records = Array.from({ length: 10_000 }, (_, i) => `10.${Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`);
  await scheduler.advance(NAME.refreshMs);
  assert.equal(seen.at(-1)?.length, MAX_DISCOVERED_MEMBERS);
  discovery.close();
});

test("a member table fed by discovery: new members are probed, gone ones forgotten (their channels too), this node always kept", async () => {
  const scheduler = new VirtualScheduler();
  const self = "192.0.2.1:8848";
  const table = new MemberTable(self, [self], scheduler.now());
  const reported: string[] = [];
  const forgotten: string[] = [];
  const transport = {
    forget: (peer: string) => forgotten.push(peer),
    async report(peer: string, me: MemberInfo): Promise<MemberInfo> {
      reported.push(peer);
      return { ...me, address: peer };
    },
  } as unknown as PeerTransport;
  const selfInfo = (): MemberInfo => testMemberInfo(self);
  const config = TEST_MEMBERSHIP;
  const manager = new MemberManager(table, selfInfo, scheduler, transport, config, silentLog);
  const changes: string[] = [];
  manager.onChange((reason) => changes.push(reason));
  manager.start();
  manager.setMembers(["192.0.2.1:8848", "192.0.2.2:8848", "192.0.2.3:8848"]);
  await scheduler.advance(10);
  assert.deepEqual(table.healthy(), ["192.0.2.1:8848", "192.0.2.2:8848", "192.0.2.3:8848"]);
  assert.deepEqual([...new Set(reported)].sort(), ["192.0.2.2:8848", "192.0.2.3:8848"]);
  const before = changes.length;
  manager.setMembers(["192.0.2.3:8848"]);
  assert.ok(changes.length > before, "listeners hear of the change");
  assert.deepEqual(
    table.all().map((m) => m.address),
    ["192.0.2.1:8848", "192.0.2.3:8848"],
    "192.0.2.2 left; this node stays though the records no longer list it",
  );
  assert.equal(table.isMember("192.0.2.2:8848"), false, "its calls are no longer accepted");
  assert.deepEqual(forgotten, ["192.0.2.2:8848"], "its channels are released");
  reported.length = 0;
  await scheduler.advance(config.reportIntervalMs * 4);
  assert.deepEqual([...new Set(reported)], ["192.0.2.3:8848"]);
  manager.close();
});
