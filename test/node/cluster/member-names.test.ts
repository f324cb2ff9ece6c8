/**
 * Members named by host name (node/cluster/member-names.ts) with a fake resolver: a member is its configured
 * `host:port` whatever the name resolves to; names are resolved again periodically, when a call to the member
 * fails, and when a call claiming to be it comes from elsewhere; a huge answer is capped.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLog } from "../../../src/core/log.js";
import { MAX_ADDRESSES_PER_NAME, MemberNames } from "../../../src/node/cluster/member-names.js";
import { MemberManager } from "../../../src/node/cluster/member-manager.js";
import { MemberTable } from "../../../src/node/cluster/member-table.js";
import type { MemberInfo } from "../../../src/node/cluster/member.js";
import { PeerError, type PeerTransport } from "../../../src/node/ports.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { TEST_MEMBERSHIP, testMemberInfo } from "../../support/fixtures.js";
import { PeerIdentity } from "../../../src/transport/peer-identity.js";

const CONFIG = { refreshMs: 5000, minRetryMs: 1000 };

/** A resolver whose answers the test sets, counting lookups per name. */
function fakeDns(initial: Record<string, string[]>) {
  const records = new Map(Object.entries(initial));
  const lookups = new Map<string, number>();
  const resolve = async (host: string): Promise<string[]> => {
    lookups.set(host, (lookups.get(host) ?? 0) + 1);
    const answer = records.get(host);
    if (answer === undefined) throw new Error(`ENOTFOUND ${host}`);
    return answer;
  };
  return { records, lookups, resolve };
}

test("a name is resolved at start and every refresh period; IP members are never looked up", async () => {
  const scheduler = new VirtualScheduler();
  const dns = fakeDns({ b: ["127.0.0.2"] });
  const names = new MemberNames(["127.0.0.1:8848", "b:8848"], dns.resolve, scheduler, CONFIG, silentLog);
  assert.equal(names.connectAddressOf("b:8848"), "b:8848", "dialled by name until resolved");
  await names.start();
  assert.equal(names.connectAddressOf("b:8848"), "127.0.0.2:8848");
  assert.equal(names.connectAddressOf("127.0.0.1:8848"), "127.0.0.1:8848");
  dns.records.set("b", ["127.0.0.7"]);
  await scheduler.advance(CONFIG.refreshMs);
  assert.equal(names.connectAddressOf("b:8848"), "127.0.0.7:8848", "the pod came back elsewhere: same member, new address");
  assert.deepEqual([...dns.lookups.keys()], ["b"]);
  names.close();
});

test("a failed or empty lookup keeps the addresses known; a huge answer is capped", async () => {
  const scheduler = new VirtualScheduler();
  const many = Array.from({ length: 5000 }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}`);
  const dns = fakeDns({ b: ["127.0.0.2"], huge: many });
  const names = new MemberNames(["b:8848", "huge:8848"], dns.resolve, scheduler, CONFIG, silentLog);
  await names.start();
  assert.equal(names.addressesOf("huge").length, MAX_ADDRESSES_PER_NAME);
  dns.records.delete("b");
  await scheduler.advance(CONFIG.refreshMs);
  assert.deepEqual(names.addressesOf("b"), ["127.0.0.2"], "a DNS hiccup does not lose the member");
  dns.records.set("b", []);
  await scheduler.advance(CONFIG.refreshMs);
  assert.deepEqual(names.addressesOf("b"), ["127.0.0.2"]);
  names.close();
});

test("a failing member's name is resolved again at once (at most once per minRetryMs), and it is UP at its new address", async () => {
  const scheduler = new VirtualScheduler();
  const dns = fakeDns({ a: ["127.0.0.1"], b: ["127.0.0.2"] });
  const names = new MemberNames(["a:8848", "b:8848"], dns.resolve, scheduler, { refreshMs: 600_000, minRetryMs: 1000 }, silentLog);
  const table = new MemberTable("a:8848", ["a:8848", "b:8848"], scheduler.now(), names);
  let live = "127.0.0.2:8848";
  const dialled: string[] = [];
  const transport = {
    async report(peer: string, self: MemberInfo): Promise<MemberInfo> {
      const at = table.httpAddressOf(peer);
      dialled.push(at);
      if (at !== live) throw new PeerError("refused", peer, `nothing listens at ${at}`);
      return { ...self, address: peer };
    },
  } as unknown as PeerTransport;
  const selfInfo = (): MemberInfo => testMemberInfo("a:8848");
  const config = TEST_MEMBERSHIP;
  const manager = new MemberManager(table, selfInfo, scheduler, transport, config, silentLog);
  manager.start();
  await scheduler.advance(10);
  assert.equal(table.get("b:8848")?.state, "UP");
  // b stops and comes back as the same member at another address.
  live = "127.0.0.9:8848";
  dns.records.set("b", ["127.0.0.9"]);
  const lookupsBefore = dns.lookups.get("b") ?? 0;
  await scheduler.advance(config.reportIntervalMs + 10);
  assert.equal(table.get("b:8848")?.state, "DOWN", "refused at its old address");
  assert.equal(dns.lookups.get("b"), lookupsBefore + 1, "the failure asked for the name again");
  await scheduler.advance(config.reportIntervalMs);
  assert.equal(table.get("b:8848")?.state, "UP", "the same member, reached at its new address");
  assert.equal(dialled.at(-1), "127.0.0.9:8848");
  assert.deepEqual(table.peers(), ["b:8848"], "its identity is still its name");
  manager.close();
});

test("a call claiming a named member from an address the name did not resolve to makes it resolve again, once per minRetryMs", async () => {
  const scheduler = new VirtualScheduler();
  const dns = fakeDns({ b: ["192.0.2.2"] });
  const names = new MemberNames(["b:8848"], dns.resolve, scheduler, CONFIG, silentLog);
  await names.start();
  const identity = new PeerIdentity(names);
  assert.equal(await identity.mismatch("b:8848", "192.0.2.2"), undefined);
  await scheduler.advance(CONFIG.minRetryMs);
  dns.records.set("b", ["192.0.2.9"]);
  assert.equal(await identity.mismatch("b:8848", "192.0.2.9"), undefined, "it moved: asked again, admitted from its new address");
  const lookups = dns.lookups.get("b");
  for (let i = 0; i < 20; i++) assert.match((await identity.mismatch("b:8848", "203.0.113.5")) ?? "", /is at 192\.0\.2\.9/);
  assert.equal(dns.lookups.get("b"), lookups, "a stranger's calls cost no lookups within minRetryMs");
  await scheduler.advance(CONFIG.minRetryMs);
  await identity.mismatch("b:8848", "203.0.113.5");
  assert.equal(dns.lookups.get("b"), (lookups ?? 0) + 1);
  names.close();
});

test("loopback addresses are one host only for members whose address comes from a name", async () => {
  const scheduler = new VirtualScheduler();
  const names = new MemberNames(["b:8848", "127.0.0.3:8848"], fakeDns({ b: ["127.0.0.12"] }).resolve, scheduler, CONFIG, silentLog);
  await names.start();
  const identity = new PeerIdentity(names);
  assert.equal(await identity.mismatch("b:8848", "127.0.0.1"), undefined, "a name resolving to loopback: any local sender");
  assert.match((await identity.mismatch("b:8848", "192.0.2.1")) ?? "", /is at 127\.0\.0\.12/);
  assert.match((await identity.mismatch("127.0.0.3:8848", "127.0.0.1")) ?? "", /is at 127\.0\.0\.3/, "an IP literal: exact");
  const fromDns = new PeerIdentity(names, true);
  assert.equal(await fromDns.mismatch("127.0.0.3:8848", "127.0.0.1"), undefined, "a --members-dns record came from a name");
  assert.match((await fromDns.mismatch("192.0.2.3:8848", "127.0.0.1")) ?? "", /is at 192\.0\.2\.3/);
  names.close();
});
