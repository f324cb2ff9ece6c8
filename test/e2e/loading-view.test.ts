/**
 * A restarted node never shows a view it knows to be incomplete. A 2-node cluster holds 20,000 instances (filled
 * by the test posing as a third member on their gRPC Sync RPC, as the join bench does: registering them one by
 * one takes minutes on a busy machine) and a watched service of 100 registered by clients (50 persistent, 50
 * ephemeral); node B is SIGKILLed and restarted from its data directory
 * (so it starts with the 50 persistent ones) with small snapshot chunks, so its load takes a while. From its
 * spawn until well after it is ready, B is polled as a 1.x client polls it, a UDP subscriber polls it and takes
 * its pushes, and the real nacos-naming SDK reads and subscribes through [B, A], while the watched service keeps
 * changing on A: no 200 and no push ever shows fewer hosts than the service has. (Before: B answered 200 with
 * the 50 persistent hosts, or none, while it loaded.)
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { once } from "node:events";
import { after, test } from "node:test";
import nacosNaming from "nacos-naming";
import { randomBytes } from "node:crypto";
import { BenchPeer, datums } from "../../bench/lib/peer.js";
import { ackLikeNacosClient, decodeLikeNacosClient, JAVA_CLIENT_AGENT } from "../push/push-fixtures.js";
import { freePort, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const BULK_SERVICES = 2_000;
const PER_SERVICE = 10;
const WATCHED = "zz-watched";
const WATCHED_HOSTS = 100;
/** B's snapshot is sent in ~1 KB chunks (the smallest allowed): thousands of messages, a load of seconds. */
const ARGS = ["--snapshot-chunk-bytes", "1024", "--report-interval-ms", "500"];
const quiet = { ...console, info() {}, debug() {}, log() {}, warn() {}, error() {} } as typeof console;

const start = nodeStarter();
const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const close of closers) await close().catch(() => {});
});

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `task` over `count` indexes with `concurrency` in flight (the watched service's registrations). */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function register(node: NodeProcess, params: Record<string, string>): Promise<void> {
  const res = await nacos(node.url, "POST", "/nacos/v1/ns/instance", params);
  assert.equal(res.text, "ok", `register ${JSON.stringify(params)}: ${res.status} ${res.text}`);
}

const hostCount = (text: string): number => (JSON.parse(text) as { hosts: unknown[] }).hosts.length;

test("a node restarted from its data directory answers 503 until loaded, never a partial view, and pushes none", {
  timeout: 400_000,
}, async () => {
  const ports = [await freePort(), await freePort()];
  const secret = randomBytes(16).toString("hex");
  const filler = new BenchPeer(`127.0.0.1:${await freePort()}`, secret);
  const members = [...ports.map((p) => `127.0.0.1:${p}`), filler.address].join(",");
  const member = (port: number, dataDir?: string, waitFor?: "nothing"): Promise<NodeProcess> =>
    start({
      port,
      args: ["--members", members, ...ARGS],
      env: { NACOS_CLUSTER_SECRET: secret },
      timeoutMs: 120_000,
      ...(dataDir === undefined ? {} : { dataDir }),
      ...(waitFor === undefined ? {} : { waitFor }),
    });
  const [a, b] = await Promise.all([member(ports[0]!), member(ports[1]!)]);
  await waitUntil(
    async () => {
      const states = (await nacos(b.url, "GET", "/nacos/v1/core/cluster/nodes")).json().data as Array<{ address: string; state: string }>;
      return states.filter((m) => m.address !== filler.address && m.state === "UP").length === 2;
    },
    30_000,
    () => "A and B are UP",
  );
  // No heartbeats are sent: with health checks off nothing expires while the test runs.
  assert.equal((await nacos(a.url, "PUT", "/nacos/v1/ns/operator/switches", { entry: "check", value: "false" })).text, "ok");
  for (let first = 0; first < BULK_SERVICES; first += 500) {
    const batch = datums("bulk", first, 500, PER_SERVICE, filler.address);
    await Promise.all([a, b].map((n) => filler.sync(n.port + 1001, batch)));
  }
  await pool(WATCHED_HOSTS, 8, (i) =>
    register(a, { serviceName: WATCHED, ip: "192.0.2.1", port: String(20_000 + i), ephemeral: String(i >= WATCHED_HOSTS / 2) }),
  );
  const total = BULK_SERVICES * PER_SERVICE + WATCHED_HOSTS;
  const countOn = async (n: NodeProcess): Promise<number> => {
    const prom = (await nacos(n.url, "GET", "/nacos/actuator/prometheus")).text;
    return Number(/^nacos_naming_instance_count (\d+)/m.exec(prom)?.[1] ?? -1);
  };
  await waitUntil(
    async () => (await countOn(a)) === total && (await countOn(b)) === total,
    90_000,
    () => "both nodes hold every instance",
  );
  await waitUntil(
    async () => (await nacos(b.url, "GET", "/nacos/v1/ns/operator/switches")).json().healthCheckEnabled === false,
    30_000,
    () => "B has the switch",
  );

  // A UDP subscriber of B that acks like nacos-naming's PushReceiver and keeps every push of the watched service.
  const socket = createSocket("udp4");
  const pushes: number[] = [];
  socket.on("message", (msg, from) => {
    const push = decodeLikeNacosClient(msg);
    const view = JSON.parse(push.data) as { name: string; hosts: unknown[] };
    if (view.name.endsWith(WATCHED)) pushes.push(view.hosts.length);
    socket.send(ackLikeNacosClient(push), from.port, from.address);
  });
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  closers.push(async () => socket.close());

  await b.stop("SIGKILL");
  const restarted = await member(ports[1]!, b.dataDir, "nothing");
  const stats = { refused: 0, complete: 0, partial: [] as string[], sdkReads: 0, sdkViews: [] as number[] };
  let done = false;

  // Keeps changing the watched service on A (a weight, so the host count stays), so there is something to push.
  const changer = (async () => {
    for (let n = 0; !done && n < 2_000; n++) {
      const weight = String(1 + (n % 2));
      await nacos(a.url, "POST", "/nacos/v1/ns/instance", { serviceName: WATCHED, ip: "192.0.2.1", port: "20099", weight }).catch(() => {});
      await pause(200);
    }
  })();
  // Polls B as a 1.x client does: the watched service (with the subscriber's udpPort), a bulk one, the catalog.
  const reads: ReadonlyArray<readonly [string, Record<string, string>, (text: string) => number, number]> = [
    ["/nacos/v1/ns/instance/list", { serviceName: WATCHED, udpPort: String(socket.address().port) }, hostCount, WATCHED_HOSTS],
    ["/nacos/v1/ns/instance/list", { serviceName: `bulk-${BULK_SERVICES - 1}` }, hostCount, PER_SERVICE],
    [
      "/nacos/v1/ns/catalog/instances",
      { serviceName: WATCHED, clusterName: "DEFAULT", pageSize: "500" },
      (t) => JSON.parse(t).count,
      WATCHED_HOSTS,
    ],
    ["/nacos/v1/ns/service/list", { pageNo: "1", pageSize: "5000" }, (t) => JSON.parse(t).count, BULK_SERVICES + 1],
  ];
  const poller = (async () => {
    for (let n = 0; !done && n < 100_000; n++) {
      const [path, params, measure, expected] = reads[n % reads.length]!;
      const qs = new URLSearchParams(params);
      const res = await fetch(`${restarted.url}${path}?${qs}`, { headers: { "user-agent": JAVA_CLIENT_AGENT } }).catch(() => undefined);
      if (res === undefined) {
        await pause(20); // not listening yet
        continue;
      }
      const text = await res.text();
      if (res.status === 503) stats.refused++;
      else if (res.status === 200 && measure(text) === expected) stats.complete++;
      else stats.partial.push(`${path} ${res.status}: ${measure(text)} of ${expected}`);
    }
  })();
  // The real SDK with [B, A]: direct reads, and a subscription whose every callback is kept.
  const sdk = new nacosNaming.NacosNamingClient({ logger: quiet, serverList: [restarted.address, a.address], namespace: "public" });
  closers.push(() => (sdk as unknown as { close(): Promise<void> }).close());
  await sdk.ready();
  sdk.subscribe(WATCHED, (hosts: unknown[]) => stats.sdkViews.push(hosts.length));
  const sdkReader = (async () => {
    for (let n = 0; !done && n < 10_000; n++) {
      const hosts = (await sdk.getAllInstances(WATCHED, "DEFAULT_GROUP", "", false)) as unknown[];
      stats.sdkReads++;
      if (hosts.length !== WATCHED_HOSTS) stats.partial.push(`sdk getAllInstances: ${hosts.length} of ${WATCHED_HOSTS}`);
      await pause(25);
    }
  })();

  await waitUntil(
    async () => (await fetch(`${restarted.url}/nacos/v1/console/health/readiness`).catch(() => undefined))?.status === 200,
    180_000,
    () => `B ready: ${restarted.output().slice(-1000)}`,
  );
  const refusedWhileLoading = stats.refused;
  await pause(4_000); // the subscriber's next poll subscribes it on B; the changes after that are pushed
  done = true;
  await Promise.all([changer, poller, sdkReader]);

  assert.deepEqual(stats.partial, [], "no answer ever showed a partial view");
  assert.ok(refusedWhileLoading > 0, `B was polled while it loaded (${JSON.stringify(stats)})`);
  assert.ok(stats.complete > 0 && stats.sdkReads > 0, JSON.stringify(stats));
  assert.ok(pushes.length > 0, "B pushed the watched service once it was ready");
  assert.deepEqual(
    pushes.filter((n) => n !== WATCHED_HOSTS),
    [],
    "every push carried the whole service",
  );
  assert.ok(stats.sdkViews.length > 0, "the SDK's subscription was answered");
  assert.deepEqual(
    stats.sdkViews.filter((n) => n !== WATCHED_HOSTS),
    [],
    "every view the SDK's subscriber saw was whole",
  );
  assert.equal(await countOn(restarted), total, "B holds everything once ready");
});
