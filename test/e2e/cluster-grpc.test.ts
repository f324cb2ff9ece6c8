/**
 * Three real node processes on loopback forming a cluster over gRPC: writes through any node converge on
 * all; the SDK reads through another node; killing a service's owner moves responsibility, keeps the
 * instance whose client keeps beating, and expires an abandoned one exactly once.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import nacosNaming from "nacos-naming";
import { distroHash } from "../../src/node/distro/distro-mapper.js";
import { freePort, nacos, startNode, waitUntil, type NodeProcess } from "../support/node-process.js";

const quiet = { ...console, info() {}, debug() {}, log() {}, warn() {}, error() {} } as typeof console;
let nodes: NodeProcess[] = [];
const clients: Array<{ close(): Promise<void> }> = [];

interface Host {
  ip: string;
  port: number;
  healthy: boolean;
}

const list = async (node: NodeProcess, serviceName: string): Promise<Host[]> => {
  const res = await nacos(node.url, "GET", "/nacos/v1/ns/instance/list", { serviceName });
  assert.equal(res.status, 200, res.text);
  return res.json().hosts;
};
const ips = async (node: NodeProcess, serviceName: string): Promise<string[]> =>
  (await list(node, serviceName)).map((h) => `${h.ip}:${h.port}`).sort();

async function metric(node: NodeProcess, name: string): Promise<number> {
  const text = (await nacos(node.url, "GET", "/nacos/actuator/prometheus")).text;
  const m = new RegExp(`^${name} (\\d+)`, "m").exec(text);
  assert.ok(m !== null, `${name} in metrics of ${node.address}`);
  return Number(m[1]);
}

async function memberState(observer: NodeProcess, address: string): Promise<string | undefined> {
  const body = (await nacos(observer.url, "GET", "/nacos/v1/core/cluster/nodes")).json();
  return (body.data as Array<{ address: string; state: string }>).find((m) => m.address === address)?.state;
}

before(async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  nodes = await Promise.all(ports.map((port) => startNode({ port, args: ["--members", members] })));
});

after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
});

test("members see each other UP and agree on every owner", async () => {
  for (const observer of nodes) {
    await waitUntil(
      async () => {
        for (const n of nodes) if ((await memberState(observer, n.address)) !== "UP") return false;
        return true;
      },
      15_000,
      () => `all UP as seen by ${observer.address}`,
    );
  }
  const sorted = nodes.map((n) => n.address).sort();
  for (const name of ["a", "b", "c", "orders"]) {
    const expected = sorted[distroHash(`DEFAULT_GROUP@@${name}`) % 3];
    for (const n of nodes) {
      const res = (await nacos(n.url, "GET", "/nacos/v1/ns/operator/distro/server", { serviceName: name })).json();
      assert.equal(res.responsibleServer, expected, `owner of ${name} per ${n.address}`);
    }
  }
});

test("register through A, read through B and C (HTTP and the SDK), a subscriber on C gets the push; deregister converges", async () => {
  const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
  for (let i = 0; i < 5; i++) {
    const res = await nacos(a.url, "POST", "/nacos/v1/ns/instance", { serviceName: `conv-${i}`, ip: "192.0.2.50", port: String(9000 + i) });
    assert.equal(res.text, "ok");
  }
  for (const reader of [b, c]) {
    await waitUntil(
      async () => {
        for (let i = 0; i < 5; i++) if ((await ips(reader, `conv-${i}`)).length !== 1) return false;
        return true;
      },
      10_000,
      () => `replicated to ${reader.address}`,
    );
  }
  const sdk = new nacosNaming.NacosNamingClient({ logger: quiet, serverList: c.address, namespace: "public" });
  clients.push(sdk as never);
  await sdk.ready();
  const hosts = (await sdk.getAllInstances("conv-3", "DEFAULT_GROUP", "", false)) as Host[];
  assert.deepEqual(
    hosts.map((h) => `${h.ip}:${h.port}`),
    ["192.0.2.50:9003"],
  );
  // A subscriber on C hears, by UDP push from C, about a write made through A and replicated to C.
  const seen: string[][] = [];
  sdk.subscribe("conv-4", (hs: Host[]) => seen.push(hs.map((h) => h.ip).sort()));
  await waitUntil(
    () => seen.length > 0,
    5_000,
    () => "initial subscribe callback",
  );
  await new Promise((r) => setTimeout(r, 1_500)); // past the SDK's first refresh; its next poll is 10 s away
  const writtenAt = Date.now();
  await nacos(a.url, "POST", "/nacos/v1/ns/instance", { serviceName: "conv-4", ip: "192.0.2.51", port: "9004" });
  await waitUntil(
    () => seen.some((ips) => ips.includes("192.0.2.51")),
    8_000,
    () => `push from C, seen ${JSON.stringify(seen)}`,
  );
  assert.ok(Date.now() - writtenAt < 8_000, "pushed, not polled");
  const res = await nacos(b.url, "DELETE", "/nacos/v1/ns/instance", { serviceName: "conv-3", ip: "192.0.2.50", port: "9003" });
  assert.equal(res.text, "ok");
  for (const reader of nodes)
    await waitUntil(
      async () => (await ips(reader, "conv-3")).length === 0,
      10_000,
      () => `deregistered on ${reader.address}`,
    );
  await (sdk as unknown as { close(): Promise<void> }).close(); // C may be the node killed next
});

test("kill the owner: DOWN within the bound, another node checks heartbeats, the beating instance stays, the abandoned one expires once", async () => {
  const svc = "failover";
  const sorted = nodes.map((n) => n.address).sort();
  const ownerAddress = sorted[distroHash(`DEFAULT_GROUP@@${svc}`) % 3]!;
  const owner = nodes.find((n) => n.address === ownerAddress)!;
  const survivors = nodes.filter((n) => n !== owner);
  const fast = { "preserved.heart.beat.interval": "1000", "preserved.heart.beat.timeout": "6000", "preserved.ip.delete.timeout": "15000" };
  // The live client talks only to the survivors, like an SDK whose server list lost a node.
  const sdk = new nacosNaming.NacosNamingClient({ logger: quiet, serverList: survivors.map((s) => s.address), namespace: "public" });
  clients.push(sdk as never);
  await sdk.ready();
  await sdk.registerInstance(svc, { ip: "192.0.2.60", port: 8080, metadata: fast } as never);
  const abandoned = await nacos(survivors[0]!.url, "POST", "/nacos/v1/ns/instance", {
    serviceName: svc,
    ip: "192.0.2.61",
    port: "8080",
    metadata: JSON.stringify(fast),
  });
  assert.equal(abandoned.text, "ok");
  for (const s of survivors)
    await waitUntil(
      async () => (await ips(s, svc)).length === 2,
      10_000,
      () => "both replicated",
    );
  const expiredBefore = (await Promise.all(survivors.map((s) => metric(s, "nacos_heartbeat_expired_total")))).reduce((x, y) => x + y, 0);

  const killedAt = Date.now();
  await owner.stop("SIGKILL");
  await waitUntil(
    async () => (await memberState(survivors[0]!, ownerAddress)) === "DOWN",
    15_000,
    () => "owner DOWN",
  );
  const downAfter = Date.now() - killedAt;
  assert.ok(downAfter <= 12_000, `DOWN within the bound, took ${downAfter} ms`);
  await waitUntil(
    async () => (await memberState(survivors[1]!, ownerAddress)) === "DOWN",
    15_000,
    () => "owner DOWN on both",
  );
  const newOwners = await Promise.all(
    survivors.map(
      async (s) => (await nacos(s.url, "GET", "/nacos/v1/ns/operator/distro/server", { serviceName: svc })).json().responsibleServer,
    ),
  );
  assert.equal(newOwners[0], newOwners[1]);
  assert.notEqual(newOwners[0], ownerAddress);

  // The abandoned instance expires on the new owner; the beating one is present on both survivors throughout.
  const deadline = Date.now() + 45_000;
  let gone = false;
  while (Date.now() < deadline && !gone) {
    for (const s of survivors) assert.ok((await ips(s, svc)).includes("192.0.2.60:8080"), `live instance kept on ${s.address}`);
    gone = (await Promise.all(survivors.map((s) => ips(s, svc)))).every((l) => !l.includes("192.0.2.61:8080"));
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(gone, "the abandoned instance expired on every survivor");
  await new Promise((r) => setTimeout(r, 3_000));
  const expiredAfter = (await Promise.all(survivors.map((s) => metric(s, "nacos_heartbeat_expired_total")))).reduce((x, y) => x + y, 0);
  assert.equal(expiredAfter - expiredBefore, 1, "expired exactly once across the cluster");
  for (const s of survivors) {
    const live = (await list(s, svc)).find((h) => h.ip === "192.0.2.60");
    assert.equal(live?.healthy, true, `live instance healthy on ${s.address}`);
  }
});
