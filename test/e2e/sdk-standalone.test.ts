/**
 * The real `nacos-naming` npm SDK (2.6.x), unchanged, against a real ts-nacos process on loopback. The suite
 * runs in a loopback-only network namespace, so the SDK reports no clientIP and the server pushes to the
 * request's source address, 127.0.0.1.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import nacosNaming from "nacos-naming";
import { nacos, startNode, waitUntil, type NodeProcess } from "../support/node-process.js";

interface Host {
  ip: string;
  port: number;
  weight: number;
  healthy: boolean;
  enabled: boolean;
  metadata: Record<string, string>;
  instanceId: string;
  serviceName: string;
}

const quiet = { ...console, info() {}, debug() {}, log() {}, warn() {} } as typeof console;
let server: NodeProcess;
const clients: Array<{ close(): Promise<void> }> = [];

function newClient(logger: typeof console = quiet): InstanceType<typeof nacosNaming.NacosNamingClient> {
  const client = new nacosNaming.NacosNamingClient({ logger, serverList: server.address, namespace: "public" });
  clients.push(client as unknown as { close(): Promise<void> });
  return client;
}

before(async () => {
  server = await startNode();
});

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  const code = await server.stop();
  assert.equal(code, 0, `clean shutdown on SIGTERM:\n${server.output().slice(-2000)}`);
});

test("register with metadata and weight, getAllInstances, selectInstances healthy-only, deregister", async () => {
  const client = newClient();
  await client.ready();
  await client.registerInstance("sdk-orders", {
    ip: "192.0.2.10",
    port: 8080,
    weight: 2.5,
    metadata: { zone: "a", version: "1" },
  } as never);
  await client.registerInstance("sdk-orders", { ip: "192.0.2.11", port: 8080, healthy: false } as never);
  const all = (await client.getAllInstances("sdk-orders", "DEFAULT_GROUP", "", false)) as Host[];
  const byIp = new Map(all.map((h) => [h.ip, h]));
  assert.equal(all.length, 2);
  assert.equal(byIp.get("192.0.2.10")!.weight, 2.5);
  assert.deepEqual(byIp.get("192.0.2.10")!.metadata, { zone: "a", version: "1" });
  assert.equal(byIp.get("192.0.2.10")!.instanceId, "192.0.2.10#8080#DEFAULT#DEFAULT_GROUP@@sdk-orders");
  assert.equal(byIp.get("192.0.2.10")!.serviceName, "DEFAULT_GROUP@@sdk-orders");
  const healthy = (await client.selectInstances("sdk-orders", "DEFAULT_GROUP", "", true, false)) as Host[];
  assert.deepEqual(
    healthy.map((h) => h.ip),
    ["192.0.2.10"],
    "only healthy, enabled, weighted hosts",
  );
  assert.equal(await client.getServerStatus(), "UP");
  await client.deregisterInstance("sdk-orders", { ip: "192.0.2.11", port: 8080 } as never);
  const res = await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "sdk-orders" });
  assert.deepEqual(
    res.json().hosts.map((h: Host) => h.ip),
    ["192.0.2.10"],
  );
});

test("subscribe receives a change pushed over UDP (well before the SDK's next poll)", async () => {
  const client = newClient();
  await client.ready();
  await nacos(server.url, "POST", "/nacos/v1/ns/instance", { serviceName: "sdk-pushed", ip: "192.0.2.20", port: "80" });
  const seen: string[][] = [];
  client.subscribe("sdk-pushed", (hosts: Host[]) => seen.push(hosts.map((h) => h.ip).sort()));
  await waitUntil(
    () => seen.length > 0,
    5_000,
    () => "initial subscribe callback",
  );
  await new Promise((r) => setTimeout(r, 1_500)); // past the SDK's 1 s first refresh; its next poll is 10 s later
  const changedAt = Date.now();
  await nacos(server.url, "POST", "/nacos/v1/ns/instance", { serviceName: "sdk-pushed", ip: "192.0.2.21", port: "80" });
  await waitUntil(
    () => seen.some((ips) => ips.includes("192.0.2.21")),
    8_000,
    () => `push of the change, seen ${JSON.stringify(seen)}`,
  );
  assert.ok(Date.now() - changedAt < 8_000, "arrived by push, not by the 10 s poll");
  const metrics = await nacos(server.url, "GET", "/nacos/actuator/prometheus");
  const acked = /nacos_push_acked(?:_total)? (\d+)/.exec(metrics.text);
  assert.ok(acked !== null && Number(acked[1]) >= 1, `the server saw the SDK's push-ack:\n${metrics.text}`);
});

test("the SDK's heartbeats keep its instance alive while an abandoned one expires", async () => {
  const client = newClient();
  await client.ready();
  // The SDK's first beat may come 10 s after it starts, inside the default 15 s timeout; the server's answer
  // then sets its interval to 1 s. The abandoned instance times out fast.
  await client.registerInstance("sdk-beats", {
    ip: "192.0.2.30",
    port: 9000,
    metadata: { "preserved.heart.beat.interval": "1000" },
  } as never);
  const fast = { "preserved.heart.beat.timeout": "3000", "preserved.ip.delete.timeout": "6000" };
  await nacos(server.url, "POST", "/nacos/v1/ns/instance", {
    serviceName: "sdk-beats",
    ip: "192.0.2.31",
    port: "9000",
    metadata: JSON.stringify(fast),
  });
  const list = async (): Promise<Host[]> =>
    (await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "sdk-beats" })).json().hosts;
  await waitUntil(
    async () => !(await list()).some((h) => h.ip === "192.0.2.31"),
    25_000,
    () => "abandoned instance expiry",
  );
  const deadline = Date.now() + 12_000;
  while (Date.now() < deadline) {
    const live = (await list()).find((h) => h.ip === "192.0.2.30");
    assert.ok(live?.healthy, "the beating instance is never lost");
    await new Promise((r) => setTimeout(r, 500));
  }
});

test("a full beat after a server-side removal re-creates the instance (the SDK ignores beat replies)", async () => {
  const client = newClient();
  await client.ready();
  await client.registerInstance("sdk-revive", {
    ip: "192.0.2.40",
    port: 7000,
    metadata: { "preserved.heart.beat.interval": "1000" },
  } as never);
  // An operator (or another node's expiry) removes it; the client keeps beating.
  await nacos(server.url, "DELETE", "/nacos/v1/ns/instance", { serviceName: "sdk-revive", ip: "192.0.2.40", port: "7000" });
  const list = async (): Promise<Host[]> =>
    (await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "sdk-revive" })).json().hosts;
  await waitUntil(
    async () => (await list()).some((h) => h.ip === "192.0.2.40"),
    15_000,
    () => "re-created by a full beat",
  );
});

test("calls the server refuses reject in the SDK, with the server's reason, and change nothing", async () => {
  // The SDK logs each server's refusal (a NacosException with the status and body) and then rejects with one
  // error naming the API it gave up on.
  const refusals: Array<{ status?: number; message: string }> = [];
  const client = newClient({ ...quiet, warn: (err: { status?: number; message: string }) => refusals.push(err) } as typeof console);
  await client.ready();
  const refusedWith =
    (api: string, status: number, reason: RegExp) =>
    (err: unknown): boolean => {
      assert.match((err as Error).message, new RegExp(`^failed to req API: ${api} after all servers`));
      const logged = refusals.pop();
      assert.equal(logged?.status, status, `the server's status: ${logged?.message}`);
      assert.match(logged.message, reason);
      return true;
    };
  const services = async (): Promise<string[]> =>
    (await nacos(server.url, "GET", "/nacos/v1/ns/service/list", { pageNo: "1", pageSize: "1000" })).json().doms;
  const before = await services();
  const hostsOf = async (serviceName: string): Promise<unknown[]> => {
    const res = await nacos(server.url, "GET", "/nacos/v1/ns/instance/list", { serviceName });
    assert.equal(res.status, 200, res.text);
    return res.json().hosts;
  };
  // Persistent instances, so the SDK's beat reactor has nothing to beat (and to register) behind the refusal.
  const refusedRegisters: Array<[Record<string, unknown>, RegExp]> = [
    [{ ip: "192.0.2.50", port: 8080, weight: 20_000 }, /The weights range from 0\.0 to 10000\.0/],
    [{ ip: "192.0.2.300", port: 8080 }, /IP address is spelled incorrectly/],
    [{ ip: "192.0.2.50", port: 70_000 }, /port/],
    [{ ip: "192.0.2.50", port: 8080, clusterName: "bad cluster!" }, /cluster name/i],
  ];
  for (const [instance, reason] of refusedRegisters) {
    await assert.rejects(
      client.registerInstance("sdk-refused", { ...instance, ephemeral: false } as never),
      refusedWith("/nacos/v1/ns/instance", 400, reason),
      JSON.stringify(instance),
    );
    assert.deepEqual(await hostsOf("sdk-refused"), [], `nothing registered by ${JSON.stringify(instance)}`);
    assert.deepEqual(await services(), before, "and no service created");
  }
  // A refused deregistration leaves the instance in place.
  await client.registerInstance("sdk-refused", { ip: "192.0.2.51", port: 8080, ephemeral: false } as never);
  const registered = await hostsOf("sdk-refused");
  assert.equal(registered.length, 1);
  await assert.rejects(
    client.deregisterInstance("sdk-refused", { ip: "192.0.2.51", port: 70_000, ephemeral: false } as never),
    refusedWith("/nacos/v1/ns/instance", 400, /port/),
  );
  assert.deepEqual(await hostsOf("sdk-refused"), registered, "still registered, unchanged");
  assert.deepEqual(refusals, [], "one logged refusal per rejected call, each checked");
});
