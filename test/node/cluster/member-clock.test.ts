/**
 * A member whose clock runs far from ours is reported (its versions would be refused everywhere), once per
 * change of opinion, and never followed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MemberInfo } from "../../../src/node/cluster/member.js";
import { MemberManager } from "../../../src/node/cluster/member-manager.js";
import { MemberTable } from "../../../src/node/cluster/member-table.js";
import type { Log } from "../../../src/core/log.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { defaultNodeConfig } from "../../../src/runtime/options.js";
import { stubTransport } from "../../support/fixtures.js";

const SELF = "127.0.0.1:8848";
const PEER = "127.0.0.2:8848";

test("a member whose clock is off by more than the allowed skew is warned about once, and again when it is back", async () => {
  const scheduler = new VirtualScheduler(1, 1_700_000_000_000);
  let skew = 0;
  const info = (): MemberInfo => ({
    address: PEER,
    version: "x",
    grpcPort: 9849,
    abilities: { grpcPeer: true, httpPeer: false },
    ready: true,
    viewHash: "",
    clock: scheduler.now() + skew,
    confirmedThrough: 0,
  });
  const transport = stubTransport({
    report: async () => info(),
  });
  const lines: Array<[string, string]> = [];
  const log: Log = { debug() {}, info: (m) => lines.push(["info", m]), warn: (m) => lines.push(["warn", m]), error() {} };
  const self = (): MemberInfo => ({ ...info(), address: SELF, clock: scheduler.now() });
  const table = new MemberTable(SELF, [PEER], scheduler.now());
  const config = { ...defaultNodeConfig(SELF).membership, maxClockSkewMs: 60_000 };
  const members = new MemberManager(table, self, scheduler, transport, config, log);
  members.start();
  await scheduler.advance(10);
  skew = 24 * 3600_000; // a day ahead
  await scheduler.advance(10_000);
  assert.equal(table.get(PEER)!.clockSkewMs, skew);
  const warnings = () => lines.filter(([level, m]) => level === "warn" && m.includes("clock is off"));
  assert.equal(warnings().length, 1, "warned once, not once per report");
  skew = 1_000;
  await scheduler.advance(5_000);
  assert.ok(lines.some(([, m]) => m.includes("clock is back within the allowed skew")));
  assert.equal(warnings().length, 1);
  members.close();
});
