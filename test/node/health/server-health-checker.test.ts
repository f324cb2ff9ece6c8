/**
 * Server-side health checks of persistent instances on the virtual clock with a fake prober: 1.4's thresholds,
 * the responsible node only, the switch, what is never probed, the concurrency bound, and writes only on a change.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ClusterSettings } from "../../../src/core/cluster-settings.js";
import { BoundInstances } from "../../../src/core/bound-instances.js";
import { LastBeats } from "../../../src/core/last-beats.js";
import { silentLog, type Log } from "../../../src/core/log.js";
import { NamingService } from "../../../src/core/naming-service.js";
import { serviceKey, type ServiceRef } from "../../../src/core/naming.js";
import type { InstanceSpec } from "../../../src/core/ops.js";
import { Registry } from "../../../src/core/registry.js";
import { defaultSwitches } from "../../../src/core/switches.js";
import { firstDelay, nextInterval, verdict } from "../../../src/node/health/check-verdict.js";
import { ServerHealthChecker } from "../../../src/node/health/server-health-checker.js";
import { FakeProber } from "../../../src/sim/fake-prober.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { testSpec } from "../../support/fixtures.js";

const svc: ServiceRef = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@db" };
const key = serviceKey(svc);
const IP = "192.0.2.10";

function rig(probeDelayMs = 0, log: Log = silentLog) {
  const scheduler = new VirtualScheduler(7);
  const registry = new Registry("127.0.0.1:8848", () => scheduler.now());
  const switches = defaultSwitches();
  const naming = new NamingService(
    registry,
    new LastBeats(() => scheduler.now()),
    switches,
    () => true,
    new BoundInstances(registry, () => scheduler.now()),
  );
  const prober = new FakeProber(scheduler, probeDelayMs);
  const owner = { responsible: true };
  const checker = new ServerHealthChecker(registry, naming, switches, () => owner.responsible, prober, scheduler, log);
  checker.start();
  let writes = 0;
  registry.onChange(() => writes++);
  const register = (ip: string, over: Partial<InstanceSpec> = {}) =>
    naming.execute({ type: "register", service: svc, instance: testSpec(ip, 3306, { ephemeral: false, ...over }) });
  const healthOf = (ip: string, ephemeral = false) =>
    registry.getLive(key)?.instances.find((i) => i.ip === ip && i.ephemeral === ephemeral)?.healthy;
  const cluster = (clusterName: string, settings: ClusterSettings) =>
    naming.execute({ type: "updateCluster", service: svc, clusterName, settings });
  return { scheduler, registry, switches, prober, owner, checker, register, healthOf, cluster, writes: () => writes };
}

/** Advances in 100 ms steps until `until` holds; the virtual time it took, or -1 within `limitMs`. */
async function timeUntil(scheduler: VirtualScheduler, until: () => boolean, limitMs: number): Promise<number> {
  for (let t = 0; t <= limitMs; t += 100) {
    if (until()) return t;
    await scheduler.advance(100);
  }
  return -1;
}

test("1.4's verdicts: checkTimes consecutive results flip health, a refusal fails at once, a pass clears failures", () => {
  const s = { passes: 0, failures: 0 };
  assert.equal(verdict(s, true, "failing", 3), undefined);
  assert.equal(verdict(s, true, "failing", 3), undefined);
  assert.equal(verdict(s, true, "up", 3), undefined, "a pass breaks the streak");
  assert.equal(verdict(s, true, "failing", 3), undefined);
  assert.equal(verdict(s, true, "failing", 3), undefined);
  assert.equal(verdict(s, true, "failing", 3), false);
  assert.deepEqual(s, { passes: 0, failures: 0 });
  assert.equal(verdict(s, false, "up", 3), undefined);
  assert.equal(verdict(s, false, "up", 3), undefined);
  assert.equal(verdict(s, false, "up", 3), true);
  assert.equal(verdict(s, true, "down", 3), false, "refused: unhealthy at once");
  assert.equal(verdict(s, false, "down", 3), undefined, "already unhealthy: nothing to change");
  assert.equal(verdict(s, true, "up", 3), undefined, "already healthy: nothing to change");
});

test("the interval follows the response time within the switch's bounds; the first delay is 2 s plus a random share", () => {
  const tcp = defaultSwitches().tcpHealthParams;
  assert.equal(nextInterval(tcp, 4000, "up", 0), 3000);
  assert.equal(nextInterval(tcp, 1000, "up", 2), tcp.min);
  assert.equal(nextInterval(tcp, 4000, "failing", 0), tcp.max, "a failure doubles the cost, capped");
  assert.equal(nextInterval(tcp, 1000, "down", 0), 2000);
  for (const r of [0, 0.5, 0.999]) {
    const d = firstDelay(tcp, () => r);
    assert.ok(d >= 2000 && d < 2000 + tcp.max, `first delay ${d}`);
  }
});

test("TCP by default on the instance's port: failing 3 times → unhealthy, refused → unhealthy at once, 3 passes → healthy", async () => {
  const { scheduler, prober, register, healthOf, writes } = rig();
  register(IP);
  const before = writes();
  await scheduler.advance(30_000);
  assert.equal(healthOf(IP), true);
  assert.equal(writes(), before, "nothing is written while health stays as it is");
  assert.ok(prober.probed.length > 5 && prober.probed.every((p) => p === `tcp ${IP}:3306`), prober.probed.join());
  const probesAt = (from: number) => prober.probed.length - from;

  prober.set(IP, 3306, "failing");
  const mark = prober.probed.length;
  const tookFailing = await timeUntil(scheduler, () => healthOf(IP) === false, 30_000);
  assert.ok(tookFailing > 0, "turned unhealthy");
  assert.equal(probesAt(mark), 3, "after exactly checkTimes failing probes");

  prober.set(IP, 3306, undefined);
  const back = prober.probed.length;
  assert.ok((await timeUntil(scheduler, () => healthOf(IP) === true, 30_000)) > 0, "healthy again");
  assert.equal(probesAt(back), 3, "after exactly checkTimes passes");

  prober.set(IP, 3306, "down");
  const refused = prober.probed.length;
  assert.ok((await timeUntil(scheduler, () => healthOf(IP) === false, 10_000)) > 0);
  assert.equal(probesAt(refused), 1, "a refused connection fails at once");
});

test("a target this node refuses counts as refused at once: unhealthy after one try, logged once while it stays refused", async () => {
  const warnings: string[] = [];
  const log: Log = { ...silentLog, warn: (message, fields) => warnings.push(`${message} ${String(fields?.detail)}`) };
  const { scheduler, prober, register, healthOf } = rig(0, log);
  prober.set(IP, 3306, "refused");
  register(IP);
  assert.ok((await timeUntil(scheduler, () => healthOf(IP) === false, 30_000)) > 0);
  assert.equal(prober.probed.length, 1, "unhealthy after the first refusal");
  await scheduler.advance(60_000);
  assert.ok(prober.probed.length > 5, "still tried, at the longest interval");
  assert.equal(healthOf(IP), false, "never shown healthy while refused");
  assert.equal(warnings.filter((w) => w.startsWith("health check target refused by this node")).length, 1, warnings.join("\n"));
  prober.set(IP, 3306, undefined);
  assert.ok((await timeUntil(scheduler, () => healthOf(IP) === true, 60_000)) > 0, "allowed again: healthy after the passes");
  prober.set(IP, 3306, "refused");
  assert.ok((await timeUntil(scheduler, () => healthOf(IP) === false, 30_000)) > 0);
  assert.equal(warnings.length, 2, "refused anew: logged anew");
  const tcp = defaultSwitches().tcpHealthParams;
  assert.equal(nextInterval(tcp, 1000, "refused", 0), nextInterval(tcp, 1000, "down", 0), "paced as a refused connection");
});

test("HTTP settings are probed as set; NONE, ephemeral and marked instances never are", async () => {
  const { scheduler, prober, register, healthOf, cluster, registry, checker } = rig();
  register("192.0.2.22", { ephemeral: true });
  cluster("web", {
    healthChecker: { type: "HTTP", path: "/ok", headers: "X-A:1", expectedResponseCode: 204 },
    checkPort: 8081,
    useInstancePort4Check: false,
    metadata: {},
  });
  cluster("manual", { healthChecker: { type: "NONE" }, checkPort: 80, useInstancePort4Check: true, metadata: {} });
  register("192.0.2.20", { clusterName: "web" });
  register("192.0.2.21", { clusterName: "manual", healthy: false });
  register("192.0.2.23", { healthy: false });
  const legacy = registry.getLive(key)!.instances.find((i) => i.ip === "192.0.2.23")!;
  registry.update(key, { put: [{ ...legacy, marked: true }] });
  await scheduler.advance(20_000);
  assert.ok(prober.probed.length > 0);
  assert.deepEqual([...new Set(prober.probed)], ["http 192.0.2.20:8081"]);
  assert.deepEqual(checker.started, { tcp: 0, http: prober.probed.length }, "every probe counted by its checker (1.4's monitors)");
  assert.equal(healthOf("192.0.2.21"), false, "NONE keeps the health clients gave");
  assert.equal(healthOf("192.0.2.22", true), true);
  assert.equal(healthOf("192.0.2.23"), false, "a marked instance keeps its health");
});

test("only the responsible node probes, only with the switch on; a regained service starts afresh", async () => {
  const { scheduler, prober, owner, switches, register, healthOf } = rig();
  register(IP, { healthy: false });
  owner.responsible = false;
  await scheduler.advance(20_000);
  assert.equal(prober.probed.length, 0, "not responsible: no probe");
  owner.responsible = true;
  switches.healthCheckEnabled = false;
  await scheduler.advance(20_000);
  assert.equal(prober.probed.length, 0, "switch off: no probe");
  switches.healthCheckEnabled = true;
  const took = await timeUntil(scheduler, () => healthOf(IP) === true, 20_000);
  assert.ok(took >= 2000 && took <= 2000 + 5000 + 3 * 1000 + 500, `healthy after the first delay and 3 passes, took ${took}`);
});

test("at most 64 probes in flight; every instance still gets its turn", async () => {
  const { scheduler, prober, register } = rig(3_000);
  for (let n = 0; n < 300; n++) register(`198.51.100.${n % 250}`, { port: 3000 + n });
  await scheduler.advance(60_000);
  assert.equal(prober.maxInFlight, 64);
  assert.equal(new Set(prober.probed).size, 300);
});

test("removed instances stop being probed", async () => {
  const { scheduler, prober, register, registry } = rig();
  register(IP);
  await scheduler.advance(10_000);
  const probes = prober.probed.length;
  assert.ok(probes > 0);
  registry.update(key, { remove: [`${IP}:3306:unknown:DEFAULT:persist`] });
  await scheduler.advance(10_000);
  assert.equal(prober.probed.length, probes);
});
