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
import { testSpec } from "../../support/fixtures.js";
import { eventually, freePort, startLegacyNode, type LegacyNode } from "./support.js";

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

test("verify over 1.4 checksums repairs a datum a peer lost", async () => {
  const onA = ownedBy(a, "lost");
  await a.node.write(register(onA, "192.0.2.10"));
  await eventually(converged, "replication");
  storeOf(b.node).forget(serviceKey(onA));
  assert.equal(b.node.registry.get(serviceKey(onA)), undefined);
  await eventually(converged, "verify to fetch the lost datum back", 5000);
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
