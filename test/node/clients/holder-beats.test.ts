/**
 * HolderBeats: a Nacos 1.4 owner would expire a 2.x client's instance for lack of beats, so the node holding the
 * connection beats for it there — and only there, and only while the connection is open.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BoundInstances } from "../../../src/core/bound-instances.js";
import { silentLog } from "../../../src/core/log.js";
import type { ClientWrite } from "../../../src/core/ops.js";
import { Registry } from "../../../src/core/registry.js";
import { HolderBeats } from "../../../src/node/clients/holder-beats.js";
import type { MemberInfo } from "../../../src/node/cluster/member.js";
import { MemberTable } from "../../../src/node/cluster/member-table.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { stubTransport, testInstance } from "../../support/fixtures.js";

const SELF = "127.0.0.1:8848";
const NACOS14 = "127.0.0.2:8848";
const TSNACOS = "127.0.0.3:8848";

const infoOf = (address: string, confirmedThrough: number | undefined): MemberInfo => ({
  address,
  version: "",
  grpcPort: 0,
  abilities: { grpcPeer: confirmedThrough !== undefined, httpPeer: true },
  ready: true,
  viewHash: "",
  clock: undefined,
  confirmedThrough,
});

test("beats every period for each open connection's instance whose service a Nacos 1.4 member owns, and for nothing else", async () => {
  const scheduler = new VirtualScheduler(8);
  const registry = new Registry(SELF, () => scheduler.now());
  const bound = new BoundInstances(registry, () => scheduler.now());
  const members = new MemberTable(SELF, [SELF, NACOS14, TSNACOS], scheduler.now());
  members.get(NACOS14)!.info = infoOf(NACOS14, undefined);
  members.get(TSNACOS)!.info = infoOf(TSNACOS, 0);
  const open = new Set(["c1", "c2"]);
  const sent: Array<[string, ClientWrite]> = [];
  const beats = new HolderBeats({
    self: SELF,
    bound,
    registry,
    members,
    ownerOf: (name) => (name.endsWith("@@old") ? NACOS14 : name.endsWith("@@new") ? TSNACOS : SELF),
    holds: (id) => open.has(id),
    transport: stubTransport({
      forward: async (peer, op) => {
        sent.push([peer, op]);
        return { ok: true, result: { type: "beat", code: 10200, clientBeatInterval: 5000 } };
      },
    }),
    periodMs: () => 5000,
    scheduler,
    log: silentLog,
  });
  const put = (grouped: string, ip: string, connectionId: string | undefined) =>
    registry.update(`public##${grouped}`, {
      put: [
        testInstance(
          ip,
          8080,
          grouped,
          connectionId === undefined ? { weight: 2 } : { weight: 2, connection: { node: SELF, connectionId } },
        ),
      ],
    });
  put("DEFAULT_GROUP@@old", "192.0.2.1", "c1");
  put("DEFAULT_GROUP@@old", "192.0.2.2", "c2");
  put("DEFAULT_GROUP@@old", "192.0.2.3", undefined); // a 1.x client beats for itself
  put("DEFAULT_GROUP@@new", "192.0.2.4", "c1"); // a ts-nacos owner never expires it
  put("DEFAULT_GROUP@@mine", "192.0.2.5", "c1");
  beats.start();
  await scheduler.advance(5_000);
  assert.deepEqual(
    sent.map(([peer, op]) => `${peer} ${op.type} ${op.type === "beat" ? `${op.address.ip} ${op.beat?.weight}` : ""}`).sort(),
    [`${NACOS14} beat 192.0.2.1 2`, `${NACOS14} beat 192.0.2.2 2`],
    "full beats (the 1.4 owner re-creates an instance it lost), to the 1.4 owner only",
  );
  open.delete("c2");
  sent.length = 0;
  await scheduler.advance(5_000);
  assert.deepEqual(
    sent.map(([, op]) => (op.type === "beat" ? op.address.ip : "")),
    ["192.0.2.1"],
    "a closed connection's instances are not beaten for",
  );
  beats.close();
  sent.length = 0;
  await scheduler.advance(10_000);
  assert.deepEqual(sent, []);
});
