/**
 * UDP push targets, with a real node process, real UDP sockets and the real `nacos-naming` SDK (run in a
 * loopback-only network namespace, so the SDK's pushes come to 127.0.0.1): one socket that polls a service under
 * 50 cluster filters gets one datagram per change, not 50; and an SDK subscribed to two cluster filters of one
 * service through its one push socket still ends up with the right hosts under each.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { after, before, test } from "node:test";
import nacosNaming from "nacos-naming";
import { ackLikeNacosClient, decodeLikeNacosClient, JAVA_CLIENT_AGENT } from "../push/push-fixtures.js";
import { nacos, startNode, waitUntil, type NodeProcess } from "../support/node-process.js";

interface Host {
  ip: string;
  clusterName: string;
}

const quiet = { ...console, info() {}, debug() {}, log() {}, warn() {} } as typeof console;
let server: NodeProcess;
const closers: Array<() => Promise<unknown>> = [];

before(async () => {
  server = await startNode();
});

after(async () => {
  for (const close of closers) await close().catch(() => {});
  await server.stop();
});

/** A socket acking every push the way nacos-naming's PushReceiver does, keeping what it received. */
async function ackingSocket(): Promise<{ socket: Socket; pushes: Array<{ bytes: number; clusters: string }> }> {
  const socket = createSocket("udp4");
  const pushes: Array<{ bytes: number; clusters: string }> = [];
  socket.on("message", (msg, from) => {
    const push = decodeLikeNacosClient(msg);
    pushes.push({ bytes: msg.length, clusters: (JSON.parse(push.data) as { clusters: string }).clusters });
    socket.send(ackLikeNacosClient(push), from.port, from.address);
  });
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  closers.push(async () => socket.close());
  return { socket, pushes };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test("one socket polling a service under 50 cluster filters gets one datagram per change", { timeout: 60_000 }, async () => {
  const { socket, pushes } = await ackingSocket();
  const register = (ip: string) => nacos(server.url, "POST", "/nacos/v1/ns/instance", { serviceName: "fan", ip, port: "80" });
  assert.equal((await register("192.0.2.1")).text, "ok");
  const cacheMillis: number[] = [];
  for (let i = 0; i < 50; i++) {
    const qs = new URLSearchParams({ serviceName: "fan", clusters: `DEFAULT,c${i}`, udpPort: String(socket.address().port) });
    const res = await fetch(`${server.url}/nacos/v1/ns/instance/list?${qs}`, { headers: { "user-agent": JAVA_CLIENT_AGENT } });
    assert.equal(res.status, 200);
    cacheMillis.push(((await res.json()) as { cacheMillis: number }).cacheMillis);
  }
  assert.equal((await register("192.0.2.2")).text, "ok");
  await waitUntil(
    () => pushes.length > 0,
    10_000,
    () => "the push of the change",
  );
  await pause(2_000); // every push of this change would be out by now (they leave at once)
  const bytes = pushes.reduce((sum, p) => sum + p.bytes, 0);
  assert.equal(pushes.length, 1, `datagrams for one change: ${pushes.length} (${bytes} bytes)`);
  assert.equal(pushes[0]!.clusters, "DEFAULT,c0", "the first filter's answer");
  assert.equal(cacheMillis[0], 10_000, "the first filter is pushed: it polls at the push period");
  assert.ok(
    cacheMillis.slice(1).every((ms) => ms === 3_000),
    `the other 49 are told to poll at the normal rate: ${cacheMillis.join(",")}`,
  );
});

test("an SDK subscribed to two cluster filters of a service through one push socket sees the right hosts under each", {
  timeout: 90_000,
}, async () => {
  const register = (ip: string, clusterName: string) =>
    nacos(server.url, "POST", "/nacos/v1/ns/instance", { serviceName: "two-filters", ip, port: "80", clusterName });
  assert.equal((await register("192.0.2.10", "DEFAULT")).text, "ok");
  assert.equal((await register("192.0.2.20", "A")).text, "ok");
  const client = new nacosNaming.NacosNamingClient({ logger: quiet, serverList: server.address, namespace: "public" });
  closers.push(() => (client as unknown as { close(): Promise<void> }).close());
  await client.ready();
  const seen: Record<"DEFAULT" | "A", Host[][]> = { DEFAULT: [], A: [] };
  for (const clusters of ["DEFAULT", "A"] as const) {
    client.subscribe({ serviceName: "two-filters", clusters }, (hosts: Host[]) => seen[clusters].push(hosts));
  }
  const latest = (clusters: "DEFAULT" | "A"): string[] => (seen[clusters].at(-1) ?? []).map((h) => h.ip).sort();
  await waitUntil(
    () => latest("DEFAULT").length === 1 && latest("A").length === 1,
    15_000,
    () => `the first answers: ${JSON.stringify(seen)}`,
  );
  assert.equal((await register("192.0.2.11", "DEFAULT")).text, "ok");
  assert.equal((await register("192.0.2.21", "A")).text, "ok");
  await waitUntil(
    () => latest("DEFAULT").join() === "192.0.2.10,192.0.2.11" && latest("A").join() === "192.0.2.20,192.0.2.21",
    20_000,
    () => `both filters up to date: ${JSON.stringify(seen)}`,
  );
  for (const clusters of ["DEFAULT", "A"] as const) {
    for (const hosts of seen[clusters]) {
      assert.ok(
        hosts.every((h) => h.clusterName === clusters),
        `${clusters} was only ever told about its own cluster: ${JSON.stringify(hosts)}`,
      );
    }
  }
  const metrics = (await nacos(server.url, "GET", "/nacos/actuator/prometheus")).text;
  const acked = /^nacos_push_acked(?:_total)? (\d+)/m.exec(metrics);
  assert.ok(acked !== null && Number(acked[1]) >= 1, `the SDK acked pushes:\n${metrics}`);
});
