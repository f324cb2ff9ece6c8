/** The sending side of 1.4's verify: what a node sends a peer that keeps no versioned digests. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLog } from "../../../../src/core/log.js";
import { Registry } from "../../../../src/core/registry.js";
import { DEFAULT_SERVICE_META } from "../../../../src/core/service-datum.js";
import { MemberTable } from "../../../../src/node/cluster/member-table.js";
import { Nacos14Compat } from "../../../../src/node/distro/compat14/nacos14-compat.js";
import { DistroMapper } from "../../../../src/node/distro/distro-mapper.js";
import { SYNC_ACCEPTED, type Nacos14Peers } from "../../../../src/node/ports.js";
import { VirtualScheduler } from "../../../../src/sim/virtual-scheduler.js";
import { PINNED_CHECKSUMS } from "../../../support/nacos14-checksums.js";
import { testInstance } from "../../../support/fixtures.js";

const SELF = "127.0.0.1:8848";
const PEER = "127.0.0.1:8850";

function setup() {
  const scheduler = new VirtualScheduler();
  const registry = new Registry(SELF, () => scheduler.now());
  const mapper = new DistroMapper(SELF);
  mapper.update([SELF, PEER]);
  const sent: Array<{ peer: string; checksums: Map<string, string>; viewHash: string }> = [];
  const peers: Nacos14Peers = {
    fetchLists: () => Promise.reject(new Error("not used")),
    fetchStatuses: () => Promise.reject(new Error("not used")),
    async sendChecksums(peer, checksums, viewHash) {
      sent.push({ peer, checksums: new Map(checksums), viewHash });
    },
    sendServiceStatus: () => Promise.reject(new Error("not used")),
  };
  const compat = new Nacos14Compat({
    registry,
    mapper,
    members: new MemberTable(SELF, [PEER], scheduler.now()),
    peers,
    merge: () => SYNC_ACCEPTED,
    httpPeers: () => [PEER],
    ready: () => true,
    scheduler,
    log: silentLog,
    config: { removeAfterMs: 30_000, fetchBatchKeys: 100, statusReportMs: 5_000 },
  });
  /** The n-th grouped name `owner` is responsible for, tagged. */
  const ownedBy = (owner: string, tag: string): string => {
    for (let i = 0; ; i++) if (mapper.ownerOf(`DEFAULT_GROUP@@${tag}${i}`) === owner) return `DEFAULT_GROUP@@${tag}${i}`;
  };
  return { registry, compat, sent, ownedBy };
}

const keyOf = (grouped: string): string => `public##${grouped}`;

test("verifyByChecksums sends 1.4's checksum (as a JVM computes it) of every live service this node owns, and only those", async () => {
  const { registry, compat, sent, ownedBy } = setup();
  const expected = new Map<string, string>();
  for (const pinned of PINNED_CHECKSUMS) {
    const grouped = ownedBy(SELF, `${pinned.name}-`);
    registry.commit(keyOf(grouped), { deleted: false, meta: DEFAULT_SERVICE_META, instances: pinned.instances(grouped) });
    expected.set(keyOf(grouped), pinned.checksum);
  }
  const theirs = ownedBy(PEER, "theirs-");
  registry.commit(keyOf(theirs), { deleted: false, meta: DEFAULT_SERVICE_META, instances: PINNED_CHECKSUMS[1]!.instances(theirs) });
  const deleted = ownedBy(SELF, "deleted-");
  registry.commit(keyOf(deleted), { deleted: true, meta: DEFAULT_SERVICE_META, instances: [] });
  await compat.verifyByChecksums(PEER, "view-1");
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.peer, PEER);
  assert.equal(sent[0]!.viewHash, "view-1");
  assert.deepEqual(sent[0]!.checksums, expected, "owned, live services only; each with 1.4's checksum");
});

test("verifyByChecksums sends nothing when this node owns nothing (a 1.4 receiver would drop every key it maps here)", async () => {
  const { registry, compat, sent, ownedBy } = setup();
  const theirs = ownedBy(PEER, "theirs-");
  registry.commit(keyOf(theirs), { deleted: false, meta: DEFAULT_SERVICE_META, instances: PINNED_CHECKSUMS[1]!.instances(theirs) });
  await compat.verifyByChecksums(PEER, "view-1");
  assert.deepEqual(sent, []);
});

test("a 1.4 owner's list keeps the connection binding of the instances it lists: 1.4 has no place for one", () => {
  const { registry, compat } = setup();
  const key = keyOf("DEFAULT_GROUP@@mixed");
  const connection = { node: SELF, connectionId: "c1" };
  registry.update(key, { put: [testInstance("192.0.2.1", 80, "DEFAULT_GROUP@@mixed", { connection })] });
  // The 1.4 owner's list: the same instance (healthier knowledge of it, no binding) and one of its own clients.
  const listed = [
    testInstance("192.0.2.1", 80, "DEFAULT_GROUP@@mixed", { weight: 2 }),
    testInstance("192.0.2.2", 80, "DEFAULT_GROUP@@mixed"),
  ];
  compat.onOwnerLists("127.0.0.1", PEER, [{ key, instances: listed, versioned: undefined }]);
  const held = [...registry.liveService(key)!.instances()].sort((a, b) => a.ip.localeCompare(b.ip));
  assert.deepEqual(
    held.map((i) => [i.ip, i.weight, i.connection]),
    [
      ["192.0.2.1", 2, connection],
      ["192.0.2.2", 1, undefined],
    ],
  );
});
