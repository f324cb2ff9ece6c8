/**
 * Real core nodes talking only through Nacos14Transport ↔ legacy peer routes on loopback: membership,
 * replication, verify repair and the join snapshot all work, and two ts-nacos nodes end with identical
 * registries (versions included), as they would over gRPC.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ClientWrite } from "../../../src/core/ops.js";
import type { ServiceRef } from "../../../src/core/naming.js";
import { serviceKey } from "../../../src/core/naming.js";
import type { NodeConfig } from "../../../src/node/naming-node.js";
import { defaultNodeConfig } from "../../../src/runtime/options.js";
import { firstDifference } from "../../../src/sim/registry-digest.js";
import { memberState, storeOf } from "../../support/node-context.js";
import { testDatum, testSpec } from "../../support/fixtures.js";
import type { Instance } from "../../../src/core/instance.js";
import { DEFAULT_SERVICE_META } from "../../../src/core/service-datum.js";
import { encodeDatum } from "../../../src/transport/nacos14/codecs/datum.js";
import { toLegacyKey } from "../../../src/transport/nacos14/codecs/keys.js";
import { Nacos14HttpClient } from "../../../src/transport/nacos14/http.js";
import { PINNED_CHECKSUMS, type PinnedChecksum } from "../../support/nacos14-checksums.js";
import { eventually, fixtureText, freePort, startLegacyNode, stubServer, type LegacyNode, type RecordedRequest } from "./support.js";

const DEFAULT = defaultNodeConfig("127.0.0.1:8848");
const fast: Partial<NodeConfig> = {
  distro: {
    sync: { ...DEFAULT.distro.sync, delayMs: 50, retryBaseMs: 200 },
    verify: { ...DEFAULT.distro.verify, intervalMs: 300 },
    snapshot: { ...DEFAULT.distro.snapshot, chunkBytes: 1024, retryDelayMs: 200, giveUpAfterMs: 1500 },
  },
  membership: { ...DEFAULT.membership, reportIntervalMs: 200, suspicionTimeoutMs: 2000 },
};

let a: LegacyNode;
let b: LegacyNode;
let cPort: number;
const nodes: LegacyNode[] = [];

before(async () => {
  const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
  cPort = pc;
  const members = [pa, pb, pc].map((p) => `127.0.0.1:${p}`);
  a = await startLegacyNode({
    port: pa,
    members,
    config: fast,
    // Node A runs in auto mode: it finds out by itself that B speaks only HTTP.
    mode: "auto",
  });
  b = await startLegacyNode({ port: pb, members, config: fast });
  nodes.push(a, b);
  await Promise.all([a.node.start(), b.node.start()]);
  await eventually(
    () => memberState(a.node, b.address) === "UP" && memberState(b.node, a.address) === "UP",
    "A and B to see each other UP",
  );
});

after(async () => {
  for (const n of nodes) await n.close();
});

const svc = (name: string): ServiceRef => ({ namespaceId: "public", groupedName: `DEFAULT_GROUP@@${name}` });

/** A service name whose owner is `owner`, by the first node's view. */
function ownedBy(owner: LegacyNode, tag: string): ServiceRef {
  for (let i = 0; ; i++) if (a.node.ownerOf(`DEFAULT_GROUP@@${tag}${i}`) === owner.address) return svc(`${tag}${i}`);
}

const register = (service: ServiceRef, ip: string, ephemeral = true): ClientWrite => ({
  type: "register",
  service,
  instance: testSpec(ip, 8080, { ephemeral, metadata: { zone: "a" } }),
});

const converged = (): boolean => firstDifference(a.node.registry, b.node.registry) === undefined;

test("members learn each other over HTTP reports; auto mode settles on HTTP for a peer without gRPC", () => {
  const seen = (by: LegacyNode, of: LegacyNode) => by.node.cluster().members.find((m) => m.address === of.address)?.info;
  assert.deepEqual(seen(a, b)?.abilities, { grpcPeer: false, httpPeer: true });
  assert.equal(seen(b, a)?.viewHash, a.node.selfInfo().viewHash);
  assert.equal(a.transportOf(b.address), "http");
});

test("writes on each owner replicate, versions, persistent instances, metadata and deletions included", async () => {
  const onA = ownedBy(a, "a");
  const onB = ownedBy(b, "b");
  await a.node.write(register(onA, "192.0.2.1"));
  await a.node.write(register(onA, "192.0.2.2", false));
  await b.node.write(register(onB, "192.0.2.3"));
  const doomed = ownedBy(a, "doomed");
  await a.node.write({
    type: "createService",
    service: doomed,
    spec: { protectThreshold: 0.4, metadata: { team: "x" }, selector: { type: "none" } },
  });
  await eventually(() => b.node.registry.getLive(serviceKey(doomed)) !== undefined, "the created service on B");
  await a.node.write({ type: "deleteService", service: doomed });
  await a.node.write({
    type: "deregister",
    service: onA,
    address: { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" },
    ephemeral: true,
  });
  await eventually(converged, "identical registries");
  assert.equal(b.node.registry.get(serviceKey(doomed))?.deleted, true, "the deletion reached B as a tombstone");
  assert.deepEqual(
    b.node.registry.getLive(serviceKey(onA))!.instances.map((i) => [i.ip, i.ephemeral]),
    [["192.0.2.2", false]],
  );
});

test("verify over HTTP between ts-nacos nodes (versioned digests, not 1.4's checksums) repairs a datum a peer lost", async () => {
  const onA = ownedBy(a, "lost");
  await a.node.write(register(onA, "192.0.2.10"));
  await eventually(converged, "replication");
  storeOf(b.node).forget(serviceKey(onA));
  assert.equal(b.node.registry.get(serviceKey(onA)), undefined);
  await eventually(converged, "verify to fetch the lost datum back", 5000);
});

/** 1.4's JSON of a datum: our encoding of its 1.4 fields (fixture-tested in codecs.test.ts), without `tsNacos`. */
function datum14(key: string, instances: readonly Instance[]): Record<string, unknown> {
  const { tsNacos: _, ...plain } = encodeDatum(testDatum(key, instances), 1690000000000);
  return plain;
}

/**
 * A Nacos 1.4 member: its member report answer, no versioned digests (404: 1.4 has no such route), every
 * datum it `holds` served in 1.4's JSON, everything it is sent recorded.
 */
async function nacos14Peer(holds: Map<string, Record<string, unknown>>) {
  return stubServer((req) => {
    if (req.path === "/nacos/v1/core/cluster/report")
      return { body: fixtureText("report-answer-nacos-1.4.json"), type: "application/json" };
    if (req.path === "/nacos/v1/ns/distro/digest") return { status: 404, body: "no such route" };
    if (req.path === "/nacos/v1/ns/distro/datums") return { body: JSON.stringify(Object.fromEntries(holds)), type: "application/json" };
    if (req.path === "/nacos/v1/ns/distro/datum" && req.method === "GET") {
      const keys = (JSON.parse(req.body) as { keys: string }).keys.split(",");
      return { body: JSON.stringify(Object.fromEntries(keys.map((k) => [k, holds.get(k) ?? null]))), type: "application/json" };
    }
    return { body: "ok" };
  });
}

test("verify with a Nacos 1.4 peer: 1.4's own checksums go both ways, and the side that lost a datum fetches it back", async () => {
  const holds = new Map<string, Record<string, unknown>>();
  const peer14 = await nacos14Peer(holds);
  const port = await freePort();
  const verifyOften = { ...fast, distro: { ...fast.distro!, verify: { ...fast.distro!.verify, intervalMs: 200 } } };
  const n = await startLegacyNode({ port, members: [`127.0.0.1:${port}`, peer14.address], config: verifyOften });
  const http = new Nacos14HttpClient({ version: "1.4.6", timeoutMs: 3000, maxAnswerBytes: 16 << 20 });
  try {
    await n.node.start();
    await eventually(() => memberState(n.node, peer14.address) === "UP", "the 1.4 peer UP");
    const named = (owner: string, tag: string): string => {
      for (let i = 0; ; i++) if (n.node.ownerOf(`DEFAULT_GROUP@@${tag}${i}`) === owner) return `DEFAULT_GROUP@@${tag}${i}`;
    };
    const keyOf = (grouped: string): string => serviceKey({ namespaceId: "public", groupedName: grouped });

    // Sending: the node owns one service per pinned list; the 1.4 peer lost `edges` and holds the others.
    const owned = PINNED_CHECKSUMS.map((p) => ({ pinned: p, grouped: named(n.address, `${p.name}-`) }));
    for (const { pinned, grouped } of owned) {
      storeOf(n.node).commit(keyOf(grouped), { deleted: false, meta: DEFAULT_SERVICE_META, instances: pinned.instances(grouped) });
    }
    const round = (): RecordedRequest | undefined =>
      peer14.requests
        .filter((r) => r.path === "/nacos/v1/ns/distro/checksum" && Object.keys(JSON.parse(r.body)).length === owned.length)
        .at(-1);
    await eventually(() => round() !== undefined, "a 1.4 checksum round covering every owned service", 10_000);
    const sent = round()!;
    assert.equal(sent.method, "PUT");
    assert.equal(sent.query.source, n.address);
    assert.deepEqual(
      JSON.parse(sent.body),
      Object.fromEntries(owned.map(({ pinned, grouped }) => [toLegacyKey(keyOf(grouped)), pinned.checksum])),
      "exactly what Nacos 1.4 computes for each list (printed by a JVM)",
    );
    assert.ok(
      peer14.requests.some((r) => r.path === "/nacos/v1/ns/distro/digest"),
      "digests were tried first, and the 404 chose checksums",
    );
    // The 1.4 peer holds the lists with these checksums but lost `edges`: as 1.4's receiver does, it fetches it.
    const lost = owned.find((o) => o.pinned.name === "edges")!;
    const legacyLost = toLegacyKey(keyOf(lost.grouped));
    const answer = await http.call(n.address, {
      method: "GET",
      path: "/nacos/v1/ns/distro/datum",
      body: JSON.stringify({ keys: legacyLost }),
    });
    assert.equal(answer.status, 200);
    const fetched = (JSON.parse(answer.body) as Record<string, { value: { instanceList: Array<{ ip: string; port: number }> } }>)[
      legacyLost
    ]!;
    assert.deepEqual(
      fetched.value.instanceList.map((i) => `${i.ip}:${i.port}`).sort(),
      lost.pinned
        .instances(lost.grouped)
        .filter((i) => i.ephemeral)
        .map((i) => `${i.ip}:${i.port}`)
        .sort(),
      "the lost datum, as 1.4 reads it",
    );

    // Receiving: the 1.4 peer owns `orders` and `edges`; the node holds both from its syncs, then loses `edges`.
    const pinnedOf = (name: string): PinnedChecksum => PINNED_CHECKSUMS.find((p) => p.name === name)!;
    const theirs = ["orders", "edges"].map((name) => ({ pinned: pinnedOf(name), grouped: named(peer14.address, `${name}-`) }));
    for (const { pinned, grouped } of theirs) holds.set(toLegacyKey(keyOf(grouped)), datum14(keyOf(grouped), pinned.instances(grouped)));
    const synced = await http.call(n.address, {
      method: "PUT",
      path: "/nacos/v1/ns/distro/datum",
      body: JSON.stringify(Object.fromEntries(holds)),
    });
    assert.equal(synced.status, 200, synced.body);
    const [kept, gone] = theirs as [(typeof theirs)[number], (typeof theirs)[number]];
    storeOf(n.node).forget(keyOf(gone.grouped));
    const fetches = (): RecordedRequest[] => peer14.requests.filter((r) => r.method === "GET" && r.path === "/nacos/v1/ns/distro/datum");
    const checksums = Object.fromEntries(theirs.map(({ pinned, grouped }) => [toLegacyKey(keyOf(grouped)), pinned.checksum]));
    const verify = await http.call(n.address, {
      method: "PUT",
      path: "/nacos/v1/ns/distro/checksum",
      query: { source: peer14.address },
      body: JSON.stringify(checksums),
    });
    assert.deepEqual(verify, { status: 200, body: "ok" });
    await eventually(() => n.node.registry.getLive(keyOf(gone.grouped)) !== undefined, "the lost datum fetched back from the 1.4 peer");
    assert.deepEqual(
      fetches().map((r) => JSON.parse(r.body)),
      [{ keys: toLegacyKey(keyOf(gone.grouped)) }],
      "only the lost key: the one held here has 1.4's checksum",
    );
    const ephemeralOf = (grouped: string): string[] =>
      (n.node.registry.getLive(keyOf(grouped))?.instances ?? []).map((i) => `${i.ip}:${i.port}:${i.clusterName}`).sort();
    const expected = (grouped: string, pinned: PinnedChecksum): string[] =>
      pinned
        .instances(grouped)
        .filter((i) => i.ephemeral)
        .map((i) => `${i.ip}:${i.port}:${i.clusterName}`)
        .sort();
    assert.deepEqual(ephemeralOf(gone.grouped), expected(gone.grouped, gone.pinned));
    assert.deepEqual(ephemeralOf(kept.grouped), expected(kept.grouped, kept.pinned));
  } finally {
    http.close();
    await n.close();
    await peer14.app.close();
  }
});

test("a joining node loads the whole registry from a peer's streamed snapshot, chunk by chunk", async () => {
  for (let i = 0; i < 30; i++) {
    const owner = i % 2 === 0 ? a : b;
    await owner.node.write(register(ownedBy(owner, `bulk${i}-`), `192.0.2.${100 + i}`));
  }
  await eventually(converged, "A and B to converge");
  const c = await startLegacyNode({ port: cPort, members: [a.address, b.address, `127.0.0.1:${cPort}`], config: fast });
  nodes.push(c);
  await c.node.start();
  assert.equal(c.node.ready, true);
  const progress = c.node.stats().distro!;
  assert.equal(progress.snapshotKeysLoaded, progress.snapshotKeysTotal, "the load is complete");
  assert.ok(progress.snapshotKeysLoaded >= 30, `keys loaded: ${progress.snapshotKeysLoaded}`);
  await eventually(() => firstDifference(a.node.registry, c.node.registry) === undefined, "C to equal A", 5000);
});
