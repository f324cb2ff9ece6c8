/**
 * The real 2.x client (nacos-sdk-rust, in its own process) and the real 1.x SDK (nacos-naming) in a 3-node
 * cluster of real processes: a 2.x service and a 1.x service discover each other through different nodes; the
 * 2.x client's node is SIGKILLed, the client reconnects to another and its instance stays (or comes back) on
 * every surviving node within seconds; a killed client's instance leaves every node within seconds.
 *
 * The nodes run with a 5 s `--connection-grace-ms`, and the 2.x instances ask for 1.x beat timeouts of 2 s / 4 s
 * in their metadata (Nacos's preserved.* keys, which a 1.x instance's expiry honours), so waiting 8 s proves
 * both that a bound instance needs no beats and that a survivor outlives the dead node's grace.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import nacosNaming from "nacos-naming";
import { Nacos2Client } from "../support/nacos2-client.js";
import { freePort, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const quiet = { ...console, info() {}, debug() {}, log() {}, warn() {}, error() {} } as typeof console;
const start = nodeStarter();
const GRACE_MS = 5_000;
/** Beat timeouts a 1.x instance with this metadata would be marked unhealthy and removed after. */
const SHORT_BEAT_TIMEOUTS = { "preserved.heart.beat.timeout": "2000", "preserved.ip.delete.timeout": "4000" };
const PAST_BOTH_MS = 8_000;
let nodes: NodeProcess[] = [];
const sdkClients: Array<{ close(): Promise<void> }> = [];

before(async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  nodes = await Promise.all(
    ports.map((port) =>
      start({ port, env: { NACOS_CLUSTER_SECRET: "s3cret" }, args: ["--members", members, "--connection-grace-ms", String(GRACE_MS)] }),
    ),
  );
  for (const observer of nodes)
    await waitUntil(
      async () =>
        ((await nacos(observer.url, "GET", "/nacos/v1/core/cluster/nodes")).json().data as Array<{ state: string }>).every(
          (m) => m.state === "UP",
        ),
      30_000,
      () => `every member UP as seen by ${observer.address}`,
    );
});

after(async () => {
  for (const c of sdkClients) await c.close().catch(() => {});
});

async function hostsOn(node: NodeProcess, serviceName: string): Promise<string[] | undefined> {
  const res = await nacos(node.url, "GET", "/nacos/v1/ns/instance/list", { serviceName }).catch(() => undefined);
  return res?.status === 200
    ? res
        .json()
        .hosts.map((h: { ip: string }) => h.ip)
        .sort()
    : undefined;
}

/** The node whose client port holds a connection (the 2.x client picks one of its servers itself). */
async function holderOf(candidates: readonly NodeProcess[]): Promise<NodeProcess | undefined> {
  for (const n of candidates) {
    const current = (await nacos(n.url, "GET", "/nacos/v2/core/loader/current")).json();
    if (Object.keys(current).length > 0) return n;
  }
  return undefined;
}

test("a 2.x service and a 1.x service discover each other through different nodes", async () => {
  const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
  const rust = await Nacos2Client.start({ serverAddr: a.address, namespace: "" });
  const sdk = new nacosNaming.NacosNamingClient({ logger: quiet, serverList: b.address, namespace: "public" });
  sdkClients.push(sdk as unknown as { close(): Promise<void> });
  await sdk.ready();
  await rust.registerInstance("mixed-2x", "DEFAULT_GROUP", { ip: "192.0.2.70", port: 80, metadata: SHORT_BEAT_TIMEOUTS });
  await sdk.registerInstance("mixed-1x", { ip: "192.0.2.71", port: 80 } as never);
  await waitUntil(
    async () => (await rust.getAllInstances("mixed-1x", "DEFAULT_GROUP")).map((h) => h.ip).join() === "192.0.2.71",
    10_000,
    () => "the 2.x client (on A) sees the 1.x service (registered on B)",
  );
  await waitUntil(
    async () =>
      ((await sdk.getAllInstances("mixed-2x", "DEFAULT_GROUP", "", false)) as Array<{ ip: string }>).map((h) => h.ip).join() ===
      "192.0.2.70",
    10_000,
    () => "the 1.x client (on B) sees the 2.x service (registered on A)",
  );
  for (const n of nodes) assert.deepEqual(await hostsOn(n, "mixed-2x"), ["192.0.2.70"], `on ${n.address}`);
  // Well past the beat timeouts its metadata asks for: a bound instance needs no beats.
  await new Promise((r) => setTimeout(r, PAST_BOTH_MS));
  for (const n of [a, b, c]) {
    const hosts = (await nacos(n.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "mixed-2x" })).json().hosts;
    assert.deepEqual(
      hosts.map((h: { ip: string; healthy: boolean }) => [h.ip, h.healthy]),
      [["192.0.2.70", true]],
      `still on ${n.address}, healthy, ${PAST_BOTH_MS} ms without beats`,
    );
  }
});

test("a killed 2.x client's instance leaves every node within seconds", async () => {
  const rust = await Nacos2Client.start({ serverAddr: nodes[1]!.address, namespace: "" });
  await rust.registerInstance("cluster-doomed", "DEFAULT_GROUP", { ip: "192.0.2.80", port: 80 });
  for (const n of nodes)
    await waitUntil(
      async () => (await hostsOn(n, "cluster-doomed"))?.length === 1,
      10_000,
      () => `on ${n.address}`,
    );
  rust.kill();
  for (const n of nodes)
    await waitUntil(
      async () => (await hostsOn(n, "cluster-doomed"))?.length === 0,
      10_000,
      () => `gone from ${n.address}`,
    );
});

test("the client's node is SIGKILLed: the client reconnects to another and its instance is on every surviving node within seconds", async () => {
  const [a, b] = nodes as [NodeProcess, NodeProcess, NodeProcess];
  const rust = await Nacos2Client.start({ serverAddr: `${a.address},${b.address}`, namespace: "" });
  await rust.registerInstance("cluster-survivor", "DEFAULT_GROUP", { ip: "192.0.2.90", port: 80, metadata: SHORT_BEAT_TIMEOUTS });
  const holder = await holderOf([a, b]);
  assert.ok(holder !== undefined, "one of the two holds the client's connection");
  await holder.stop("SIGKILL");
  const survivors = nodes.filter((n) => n !== holder);
  // The client redoes its registration on the other node (every ~3 s); whatever the grace on the dead node's
  // instances, the instance is never missing for long on a survivor.
  for (const n of survivors) {
    await waitUntil(
      async () => (await hostsOn(n, "cluster-survivor"))?.join() === "192.0.2.90",
      20_000,
      () => `back on ${n.address}`,
    );
  }
  // The client notices the lost connection and reconnects to the other server it knows within seconds.
  await waitUntil(
    async () => (await holderOf(survivors)) !== undefined,
    20_000,
    () => "the client's connection moved to a survivor",
  );
  // Past the grace after which the dead node's bound instances are removed: the re-bound one stays.
  for (const n of survivors)
    await waitUntil(
      async () =>
        ((await nacos(n.url, "GET", "/nacos/v1/core/cluster/nodes")).json().data as Array<{ address: string; state: string }>).some(
          (m) => m.address === holder.address && m.state === "DOWN",
        ),
      30_000,
      () => `${n.address} sees the killed ${holder.address} DOWN`,
    );
  await new Promise((r) => setTimeout(r, GRACE_MS + 3_000));
  for (const n of survivors) assert.deepEqual(await hostsOn(n, "cluster-survivor"), ["192.0.2.90"], `still on ${n.address}`);
});
