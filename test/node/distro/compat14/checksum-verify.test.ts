/** The conservative remove-on-absence of 1.4's verify, case by case, on a virtual clock. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemberTable } from "../../../../src/node/cluster/member-table.js";
import { silentLog } from "../../../../src/core/log.js";
import { Registry } from "../../../../src/core/registry.js";
import { DEFAULT_SERVICE_META } from "../../../../src/core/service-datum.js";
import { DistroMapper } from "../../../../src/node/distro/distro-mapper.js";
import { VirtualScheduler } from "../../../../src/sim/virtual-scheduler.js";
import type { Nacos14Peers, OwnerList } from "../../../../src/node/ports.js";
import { OwnerLists } from "../../../../src/node/distro/compat14/owner-lists.js";
import { ChecksumVerifyReceiver } from "../../../../src/node/distro/compat14/checksum-verify.js";
import { instance } from "../../../transport/nacos14/support.js";

const SELF = "127.0.0.1:8848";
const SOURCE = "127.0.0.1:8849";

function setup() {
  const scheduler = new VirtualScheduler();
  const registry = new Registry(SELF, () => scheduler.now());
  const mapper = new DistroMapper(SELF);
  mapper.update([SELF, SOURCE]);
  const members = new MemberTable(SELF, [SOURCE], scheduler.now());
  members.get(SOURCE)!.state = "UP";
  const ingest = new OwnerLists(registry, mapper, members);
  const fetched: string[][] = [];
  let gate: Promise<void> = Promise.resolve();
  const client: Nacos14Peers = {
    async fetchLists(_peer, keys) {
      fetched.push([...keys]);
      await gate;
      return keys.map((key): OwnerList => ({ key, instances: [instance("192.0.2.200", 80, key.split("##")[1]!)], versioned: undefined }));
    },
    fetchStatuses: () => Promise.reject(new Error("not used")),
    sendChecksums: () => Promise.reject(new Error("not used")),
    sendServiceStatus: () => Promise.reject(new Error("not used")),
  };
  const apply = (d: OwnerList, writer: string): void => ingest.applyOwnerList(d.key, d.instances, writer);
  const receiver = new ChecksumVerifyReceiver(
    { ingest, client, apply, scheduler, log: silentLog },
    { removeAfterMs: 30_000, fetchBatchKeys: 2 },
  );
  const owned = (owner: string, n: number): string => {
    const keys: string[] = [];
    for (let i = 0; keys.length <= n; i++) if (mapper.ownerOf(`DEFAULT_GROUP@@s${i}`) === owner) keys.push(`public##DEFAULT_GROUP@@s${i}`);
    return keys[n]!;
  };
  const seed = (key: string, ip: string, writer = SOURCE): void => {
    const current = registry.getLive(key);
    registry.commit(
      key,
      { deleted: false, meta: DEFAULT_SERVICE_META, instances: [...(current?.instances ?? []), instance(ip, 80, key.split("##")[1]!)] },
      writer,
    );
  };
  const ips = (key: string): string[] => (registry.getLive(key)?.instances ?? []).map((i) => i.ip).sort();
  return { scheduler, registry, mapper, members, receiver, fetched, owned, seed, ips, release: (p: Promise<void>) => (gate = p) };
}

test("a key missing from an UP owner's rounds for removeAfterMs loses the instances that owner wrote", async () => {
  const { scheduler, receiver, owned, seed, ips } = setup();
  const anchor = owned(SOURCE, 0);
  const gone = owned(SOURCE, 1);
  seed(gone, "192.0.2.1");
  seed(gone, "192.0.2.2", "127.0.0.1:9999"); // written by another member
  const round = (): Promise<void> | undefined => receiver.receive(SOURCE, new Map([[anchor, "x"]]), undefined);
  await round();
  await scheduler.advance(29_000);
  await round();
  assert.deepEqual(ips(gone), ["192.0.2.1", "192.0.2.2"], "not yet");
  await scheduler.advance(1_000);
  await round();
  assert.deepEqual(ips(gone), ["192.0.2.2"]);
  assert.equal(receiver.removed, 1);
});

test("no removal when the source is not UP, when a ts-nacos source's view differs, or when a round disagrees", async () => {
  for (const variant of ["suspicious", "view", "foreign key"] as const) {
    const { scheduler, receiver, members, owned, seed, ips, mapper } = setup();
    const gone = owned(SOURCE, 1);
    seed(gone, "192.0.2.1");
    if (variant === "suspicious") members.get(SOURCE)!.state = "SUSPICIOUS";
    const sent = new Map([[variant === "foreign key" ? owned(SELF, 0) : owned(SOURCE, 0), "x"]]);
    const viewHash = variant === "view" ? "not ours" : mapper.viewHash;
    for (let i = 0; i < 4; i++) {
      await receiver.receive(SOURCE, sent, viewHash);
      await scheduler.advance(20_000);
    }
    assert.deepEqual(ips(gone), ["192.0.2.1"], variant);
  }
});

test("an agreeing round after disagreeing ones starts the count again", async () => {
  const { scheduler, receiver, owned, seed, ips } = setup();
  const anchor = owned(SOURCE, 0);
  const gone = owned(SOURCE, 1);
  seed(gone, "192.0.2.1");
  await receiver.receive(SOURCE, new Map([[anchor, "x"]]), undefined);
  await scheduler.advance(20_000);
  await receiver.receive(SOURCE, new Map([[owned(SELF, 0), "x"]]), undefined); // disagreeing: resets
  await scheduler.advance(20_000);
  await receiver.receive(SOURCE, new Map([[anchor, "x"]]), undefined);
  assert.deepEqual(ips(gone), ["192.0.2.1"]);
});

test("differing keys are fetched in batches and applied in the source's name; keys owned elsewhere are not", async () => {
  const { receiver, registry, fetched, owned, ips } = setup();
  const keys = [owned(SOURCE, 0), owned(SOURCE, 1), owned(SOURCE, 2)];
  await receiver.receive(SOURCE, new Map([...keys.map((k) => [k, "x"] as const), [owned(SELF, 0), "x"]]), undefined);
  assert.deepEqual(fetched, [keys.slice(0, 2), keys.slice(2)]);
  for (const k of keys) {
    assert.deepEqual(ips(k), ["192.0.2.200"]);
    assert.equal(registry.get(k)!.version.writer, SOURCE);
  }
  assert.equal(registry.get(owned(SELF, 0)), undefined);
});

test("a round for a source still running skips the next one from it, as 1.4 does", async () => {
  const { receiver, fetched, owned, release } = setup();
  let open!: () => void;
  release(new Promise<void>((resolve) => (open = resolve)));
  const first = receiver.receive(SOURCE, new Map([[owned(SOURCE, 0), "x"]]), undefined);
  assert.equal(receiver.receive(SOURCE, new Map([[owned(SOURCE, 1), "x"]]), undefined), undefined);
  open();
  await first;
  assert.deepEqual(fetched, [[owned(SOURCE, 0)]]);
  assert.notEqual(receiver.receive(SOURCE, new Map([[owned(SOURCE, 1), "x"]]), undefined), undefined);
});
