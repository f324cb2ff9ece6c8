import assert from "node:assert/strict";
import { test } from "node:test";
import { serviceKey, type ServiceRef } from "../../../src/core/naming.js";
import type { ClientWrite, InstanceSpec } from "../../../src/core/ops.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { standaloneNode } from "../../support/node-context.js";
import { testSpec } from "../../support/fixtures.js";

const svc: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@hb" };
const key = serviceKey(svc);
const spec = (ip: string, over: Partial<InstanceSpec> = {}): InstanceSpec => testSpec(ip, 8080, over);

async function standalone() {
  const scheduler = new VirtualScheduler(1);
  const node = standaloneNode(scheduler);
  await node.start();
  const write = (op: ClientWrite) => node.write(op);
  const state = (ip: string) => node.registry.getLive(key)?.instances.find((i) => i.ip === ip);
  return { scheduler, node, write, state };
}

test("no beat for 15 s → unhealthy, 30 s → removed; beats keep an instance alive (virtual clock)", async () => {
  const { scheduler, node, write, state } = await standalone();
  await write({ type: "register", service: svc, instance: spec("192.0.2.1") }); // beats
  await write({ type: "register", service: svc, instance: spec("192.0.2.2") }); // abandoned
  for (let t = 0; t < 14_000; t += 1000) await scheduler.advance(1000);
  assert.equal(state("192.0.2.2")?.healthy, true, "still healthy before 15 s");
  let healthyAt = -1;
  let removedAt = -1;
  for (let t = 14_000; t <= 40_000; t += 1000) {
    if (t % 5000 === 0)
      await write({ type: "beat", service: svc, address: { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" }, beat: undefined });
    await scheduler.advance(1000);
    const s = state("192.0.2.2");
    if (healthyAt < 0 && s?.healthy === false) healthyAt = t + 1000;
    if (removedAt < 0 && s === undefined) removedAt = t + 1000;
  }
  assert.ok(healthyAt > 15_000 && healthyAt <= 20_000, `unhealthy between 15 and 20 s, was ${healthyAt}`);
  assert.ok(removedAt > 30_000 && removedAt <= 35_000, `removed between 30 and 35 s, was ${removedAt}`);
  assert.equal(state("192.0.2.1")?.healthy, true, "the beating instance stays healthy");
  assert.equal(node.stats().heartbeatExpired, 1);
  node.close();
});

test("per-instance timeouts from preserved.* metadata; persistent instances never expire", async () => {
  const { scheduler, node, write, state } = await standalone();
  const fast = { "preserved.heart.beat.timeout": "3000", "preserved.ip.delete.timeout": "6000" };
  await write({ type: "register", service: svc, instance: spec("192.0.2.3", { metadata: fast }) });
  await write({ type: "register", service: svc, instance: spec("192.0.2.4", { ephemeral: false, healthy: false }) });
  await write({
    type: "register",
    service: svc,
    instance: spec("192.0.2.5", { metadata: { "preserved.ip.delete.timeout": "not-a-number" } }),
  });
  await scheduler.advance(5_000);
  assert.equal(state("192.0.2.3")?.healthy, false);
  await scheduler.advance(5_000);
  assert.equal(state("192.0.2.3"), undefined);
  assert.equal(state("192.0.2.5")?.healthy, true, "a malformed override falls back to the default");
  await scheduler.advance(120_000);
  const persistent = state("192.0.2.4");
  assert.equal(persistent?.healthy, false, "persistent keeps the health it was registered with");
  assert.equal(state("192.0.2.5"), undefined);
  node.close();
});

test("a beat brings an unhealthy instance back and the healthCheckEnabled switch stops checks", async () => {
  const { scheduler, node, write, state } = await standalone();
  await write({ type: "register", service: svc, instance: spec("192.0.2.6") });
  await scheduler.advance(20_000);
  assert.equal(state("192.0.2.6")?.healthy, false);
  await write({ type: "beat", service: svc, address: { ip: "192.0.2.6", port: 8080, clusterName: "DEFAULT" }, beat: undefined });
  assert.equal(state("192.0.2.6")?.healthy, true);
  node.switches.healthCheckEnabled = false;
  await scheduler.advance(60_000);
  assert.equal(state("192.0.2.6")?.healthy, true);
  node.close();
});

test("an instance a 2.x client registered over its connection never expires: it has no beats, its connection keeps it", async () => {
  const { scheduler, node, write, state } = await standalone();
  node.connections.open({
    id: "c1",
    clientIp: "192.0.2.7",
    clientPort: 50000,
    clientVersion: "Nacos-Rust-Client:v0.4.0",
    namespace: "",
    appName: "",
    labels: {},
    connectedAt: scheduler.now(),
  });
  await write({ type: "register", service: svc, instance: spec("192.0.2.7"), connection: { node: node.selfAddress, connectionId: "c1" } });
  await scheduler.advance(120_000);
  assert.equal(state("192.0.2.7")?.healthy, true, "neither unhealthy nor removed after four delete timeouts");
  assert.equal(node.stats().heartbeatExpired, 0);
  node.connections.close("c1", "client gone");
  assert.equal(state("192.0.2.7"), undefined, "its connection's close removes it at once");
  node.close();
});
