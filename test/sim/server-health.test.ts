/**
 * Server-side health checks in a simulated cluster: the owner's verdict is an ordinary versioned write, so
 * every node converges on it, and the cluster settings that choose the checker replicate with the service.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { serviceKey, type ServiceRef } from "../../src/core/naming.js";
import { SimCluster } from "../../src/sim/sim-cluster.js";
import { testSpec } from "../support/fixtures.js";

const svc: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@db" };
const IP = "192.0.2.30";

test("a refused endpoint turns its instance unhealthy on every node, a recovered one healthy; settings replicate", async () => {
  const cluster = new SimCluster({ size: 3, seed: 11 });
  cluster.startAll();
  await cluster.advance(15_000);
  const [a, b, c] = cluster.addresses as [string, string, string];
  assert.equal((await cluster.write(a, { type: "register", service: svc, instance: testSpec(IP, 5432, { ephemeral: false }) })).ok, true);
  const settings = { healthChecker: { type: "NONE" as const }, checkPort: 80, useInstancePort4Check: true, metadata: { zone: "z1" } };
  assert.equal((await cluster.write(b, { type: "updateCluster", service: svc, clusterName: "manual", settings })).ok, true);
  const healthEverywhere = () => cluster.running().map((n) => n.registry.getLive(serviceKey(svc))?.instances[0]?.healthy);

  cluster.prober.set(IP, 5432, "down");
  await cluster.advance(15_000);
  assert.deepEqual(healthEverywhere(), [false, false, false]);
  cluster.prober.set(IP, 5432, undefined);
  await cluster.advance(30_000);
  assert.deepEqual(healthEverywhere(), [true, true, true]);

  for (const n of cluster.running()) assert.deepEqual(n.registry.getLive(serviceKey(svc))?.meta.clusters, { manual: settings });
  const refused = await cluster.write(c, {
    type: "setHealth",
    service: svc,
    address: { ip: IP, port: 5432, clusterName: "DEFAULT" },
    healthy: false,
  });
  assert.deepEqual(refused, { ok: false, status: 400, message: "health check is still working, service: DEFAULT_GROUP@@db" });
  cluster.close();
});
