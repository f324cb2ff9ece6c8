/**
 * A node loading what its peers hold (a simulated cluster, a joiner streaming its snapshot over a slow network)
 * answers client reads of the registry 503 until its registry is complete, subscribes nobody meanwhile, and
 * pushes nothing from its partial registry; peers still read, clients still register, and a beat it cannot match
 * yet is refused instead of re-creating the instance over the one its peers hold.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLog } from "../../src/core/log.js";
import type { ServiceRef } from "../../src/core/naming.js";
import type { ClientWrite } from "../../src/core/ops.js";
import type { NodeConfig } from "../../src/node/naming-node.js";
import { PushService } from "../../src/push/push-service.js";
import { PUSH_CONFIG } from "../../src/runtime/options.js";
import { SimCluster } from "../../src/sim/sim-cluster.js";
import { createHttpApp } from "../../src/api/app.js";
import { FakePushChannel, JAVA_CLIENT_AGENT, subscriber } from "../push/push-fixtures.js";
import { testSpec } from "../support/fixtures.js";
import { nodeContext } from "../support/node-context.js";

const SERVICES = 150;
const PER_SERVICE = 4;
const svc = (i: number): ServiceRef => ({ namespaceId: "public", groupedName: `DEFAULT_GROUP@@view-${i}` });
const register = (service: ServiceRef, ip: string): ClientWrite => ({
  type: "register",
  service,
  instance: testSpec(ip, 80, { ephemeral: false }),
});
/** Tiny snapshot chunks, so the load takes many messages (and some virtual seconds). */
const smallChunks = (c: NodeConfig): NodeConfig => ({ ...c, distro: { ...c.distro, snapshot: { ...c.distro.snapshot, chunkBytes: 600 } } });

/** Every client read of the registry the API has, for the last service. */
const READS: ReadonlyArray<readonly [string, string]> = [
  ["GET", "/nacos/v1/ns/instance/list?serviceName=view-149&udpPort=5001"],
  ["GET", "/nacos/v1/ns/instance/list?serviceName=view-149"],
  ["GET", "/nacos/v1/ns/instance?serviceName=view-149&ip=198.51.100.1&port=80"],
  ["GET", "/nacos/v1/ns/instance/statuses?key=DEFAULT_GROUP@@view-149"],
  ["GET", "/nacos/v1/ns/service?serviceName=view-149"],
  ["GET", "/nacos/v1/ns/service/list?pageNo=1&pageSize=1000"],
  ["POST", "/nacos/v1/ns/service/names"],
  ["GET", "/nacos/v1/ns/catalog/services"],
  ["GET", "/nacos/v1/ns/catalog/service?serviceName=view-149"],
  ["GET", "/v1/ns/catalog/instances?serviceName=view-149&clusterName=DEFAULT"],
];

test("a loading node answers every client read 503 and pushes nothing until its registry is complete", async () => {
  const cluster = new SimCluster({ size: 3, seed: 7, configure: smallChunks });
  cluster.startAll();
  await cluster.advance(15_000);
  const [a, b, joiner] = cluster.addresses as [string, string, string];
  const owned = Array.from({ length: 100 }, (_, i) => `DEFAULT_GROUP@@zz-owned-${i}`).find((n) => cluster.node(a).ownerOf(n) === joiner)!;
  cluster.crash(joiner);
  await cluster.advance(12_000);
  for (let i = 0; i < SERVICES * PER_SERVICE; i++) {
    const outcome = await cluster.write(i % 2 === 0 ? a : b, register(svc(i % SERVICES), `198.51.100.${1 + Math.floor(i / SERVICES)}`));
    assert.equal(outcome.ok, true);
  }
  // An instance an operator disabled, of a service the joiner owns whose key its snapshot brings last.
  const disabled = { namespaceId: "public", groupedName: owned };
  const spec = { ...testSpec("203.0.113.5", 80), enabled: false, weight: 3 };
  assert.equal((await cluster.write(a, { type: "register", service: disabled, instance: spec })).ok, true);
  await cluster.advance(3_000);
  cluster.network.faults = { drop: 0, duplicate: 0, minLatencyMs: 60, maxLatencyMs: 90 };
  const node = cluster.start(joiner);
  const channel = new FakePushChannel();
  const push = new PushService(cluster.scheduler, node, channel, PUSH_CONFIG, silentLog);
  const app = createHttpApp(nodeContext(node, { push }));
  const read = (method: string, url: string, agent = JAVA_CLIENT_AGENT) =>
    app.inject({ method, url, headers: { "user-agent": agent }, remoteAddress: "127.0.0.1" });
  // A subscriber the node already had: its pushes must wait for the complete view too.
  push.subscribe(subscriber(5002, { service: svc(0) }));

  await cluster.advance(2_000);
  assert.equal(node.registryComplete, false, "still loading");
  const progress = node.loadProgress!;
  assert.ok(progress.instancesDone > 0 && progress.instancesDone < SERVICES * PER_SERVICE, "the load is under way");
  for (const [method, url] of READS) {
    const res = await read(method, url);
    assert.equal(res.statusCode, 503, `${method} ${url}: ${res.body}`);
    assert.match(res.body, /^server is STARTING now: it is still loading the registry its peers hold \(\d+ of \d+ instances so far\)/);
  }
  assert.deepEqual(push.subscribersOf(svc(149)), [], "a refused poll subscribes nobody");
  const status = async (): Promise<string> => ((await read("GET", "/nacos/v1/ns/operator/metrics")).json() as { status: string }).status;
  assert.equal(await status(), "STARTING", "what the SDKs' getServerStatus reads");
  const peer = await read("GET", "/nacos/v1/ns/instance/statuses?key=DEFAULT_GROUP@@view-0", "Nacos-Server:v1.4.1");
  assert.equal(peer.statusCode, 200, "peers read what there is");
  const write = app.inject({
    method: "POST",
    url: "/nacos/v1/ns/instance?serviceName=view-0&ip=198.51.100.200&port=80",
    remoteAddress: "127.0.0.1",
  });
  await cluster.advance(1_000);
  assert.equal((await write).body, "ok", "writes pass");
  // Its client beats; the joiner, responsible for it, has not loaded it yet: re-creating it from the beat would
  // enable it again under a newer version than the operator's.
  assert.equal(node.isResponsible(owned) && node.registry.get(`public##${owned}`) === undefined, true, "owned, not loaded yet");
  const beat = JSON.stringify({ serviceName: owned, ip: "203.0.113.5", port: 80, cluster: "DEFAULT", weight: 1, metadata: {} });
  const beatAnswer = await app.inject({
    method: "PUT",
    url: `/nacos/v1/ns/instance/beat?${new URLSearchParams({ serviceName: owned, beat })}`,
    remoteAddress: "127.0.0.1",
  });
  assert.equal(beatAnswer.statusCode, 503, beatAnswer.body);

  for (let t = 0; t < 120_000 && !node.registryComplete; t += 500) {
    assert.equal(channel.sent.length, 0, "no push while loading");
    await cluster.advance(500);
  }
  assert.equal(node.registryComplete, true, "the load completes");
  await cluster.advance(100);
  const pushed = channel.sent.map((s) => (JSON.parse(s.push.data) as { hosts: unknown[] }).hosts.length);
  assert.deepEqual(pushed, [PER_SERVICE + 1], "the subscriber got the complete view once the load was done");
  for (const [method, url] of READS) assert.equal((await read(method, url)).statusCode, 200, `${method} ${url}`);
  assert.equal(await status(), "UP");
  const list = (await read("GET", "/nacos/v1/ns/instance/list?serviceName=view-149")).json() as { hosts: unknown[] };
  assert.equal(list.hosts.length, PER_SERVICE);
  await cluster.advance(5_000);
  for (const holder of [a, joiner]) {
    const held = cluster.node(holder).registry.getLive(`public##${owned}`)!.instances;
    assert.deepEqual(
      held.map((i) => [i.enabled, i.weight]),
      [[false, 3]],
      `${holder} still holds the operator's instance`,
    );
  }
  push.close();
  await app.close();
  cluster.close();
});
