/**
 * A mixed cluster: A and B choose transports per peer (`auto`), C speaks only Nacos 1.4's HTTP peer API
 * (`http`). Writes through each node converge; verify over HTTP repairs what C missed; snapshots load in both
 * directions (HTTP-only from auto, auto from HTTP-only); when C restarts as `auto`, A and B move to gRPC for it.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { distroHash } from "../../src/node/distro/distro-mapper.js";
import { freePort, nacos, startNode, waitUntil, type NodeProcess } from "../support/node-process.js";

const LONG_LIVED = JSON.stringify({ "preserved.heart.beat.timeout": "3600000", "preserved.ip.delete.timeout": "3600000" });
// Failed syncs are retried only after 10 minutes here, so anything C missed can only come back through verify.
const SLOW_RETRY = ["--sync-retry-ms", "600000"];

let ports: [number, number, number];
let members = "";
const running = new Map<string, NodeProcess>();
const addressOf = (port: number): string => `127.0.0.1:${port}`;

async function start(port: number, mode: "auto" | "http"): Promise<NodeProcess> {
  const node = await startNode({ port, args: ["--members", members, "--peer-transport", mode, ...SLOW_RETRY], timeoutMs: 60_000 });
  running.set(addressOf(port), node);
  return node;
}

async function stop(port: number): Promise<void> {
  await running.get(addressOf(port))?.stop("SIGKILL");
  running.delete(addressOf(port));
}

const node = (port: number): NodeProcess => running.get(addressOf(port))!;

interface MemberJson {
  address: string;
  state: string;
  peerTransport?: string;
}
async function membersSeenBy(n: NodeProcess): Promise<MemberJson[]> {
  return (await nacos(n.url, "GET", "/nacos/v1/core/cluster/nodes")).json().data;
}

async function digests(): Promise<string[]> {
  return Promise.all(
    [...running.values()].map(async (n) => (await nacos(n.url, "GET", "/nacos/v1/ns/operator/distro/digest")).json().digest),
  );
}
const converged = async (): Promise<boolean> => new Set(await digests()).size === 1;

async function register(via: NodeProcess, service: string, ip: string): Promise<void> {
  const res = await nacos(via.url, "POST", "/nacos/v1/ns/instance", { serviceName: service, ip, port: "8080", metadata: LONG_LIVED });
  assert.equal(res.text, "ok", `${via.address}: ${res.status} ${res.text}`);
}

const hosts = async (n: NodeProcess, service: string): Promise<string[]> =>
  (await nacos(n.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: service }))
    .json()
    .hosts.map((h: { ip: string }) => h.ip)
    .sort();

/** A service name owned by the given member (1.4's hash over the sorted member list). */
function serviceOwnedBy(port: number, prefix: string): string {
  const sorted = ports.map(addressOf).sort();
  for (let i = 0; i < 1000; i++) if (sorted[distroHash(`DEFAULT_GROUP@@${prefix}-${i}`) % 3] === addressOf(port)) return `${prefix}-${i}`;
  throw new Error("no such service name in 1000 tries");
}

async function allUpWithTransports(expect: Record<string, Record<string, string>>): Promise<void> {
  await waitUntil(
    async () => {
      for (const [observer, peers] of Object.entries(expect)) {
        const seen = await membersSeenBy(running.get(observer)!);
        for (const [peer, transport] of Object.entries(peers)) {
          const m = seen.find((x) => x.address === peer);
          if (m?.state !== "UP" || m.peerTransport !== transport) return false;
        }
      }
      return true;
    },
    30_000,
    () => `members UP with transports ${JSON.stringify(expect)}`,
  );
}

before(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  members = ports.map(addressOf).join(",");
  await Promise.all([start(ports[0], "auto"), start(ports[1], "auto"), start(ports[2], "http")]);
});

after(async () => {
  await Promise.all([...running.values()].map((n) => n.stop("SIGKILL")));
});

test("auto nodes talk gRPC to each other and HTTP to the HTTP-only node; it talks HTTP to everyone", async () => {
  const [a, b, c] = ports.map(addressOf) as [string, string, string];
  await allUpWithTransports({ [a]: { [b]: "grpc", [c]: "http" }, [b]: { [a]: "grpc", [c]: "http" }, [c]: { [a]: "http", [b]: "http" } });
});

test("writes through each node converge on all three", async () => {
  for (const [i, port] of ports.entries()) {
    for (let k = 0; k < 6; k++) await register(node(port), `mixed-${k}`, `192.0.2.${10 * i + k + 1}`);
  }
  await waitUntil(converged, 20_000, () => "all three identical");
  for (const port of ports) assert.equal((await hosts(node(port), "mixed-0")).length, 3);
});

test("verify over HTTP repairs what the HTTP-only node missed", async () => {
  const [pa, pb, pc] = ports;
  const c = node(pc);
  const onA = serviceOwnedBy(pa, "repair-a");
  const onB = serviceOwnedBy(pb, "repair-b");
  c.child.kill("SIGSTOP"); // C misses everything written now; its syncs fail and are not retried for 10 minutes
  try {
    await register(node(pa), onA, "198.51.100.1");
    await register(node(pb), onB, "198.51.100.2");
    await new Promise((r) => setTimeout(r, 5_000)); // long enough for the syncs to C to time out
  } finally {
    c.child.kill("SIGCONT");
  }
  await waitUntil(
    async () => (await hosts(c, onA)).includes("198.51.100.1") && (await hosts(c, onB)).includes("198.51.100.2"),
    30_000,
    () => "C repaired by verify",
  );
  await waitUntil(converged, 20_000, () => "all three identical after the repair");
});

test("snapshot joins work in both directions", async () => {
  const [pa, pb, pc] = ports;
  const loaded = async (n: NodeProcess): Promise<number> => {
    const m = /^nacos_snapshot_instances_loaded (\d+)/m.exec((await nacos(n.url, "GET", "/nacos/actuator/prometheus")).text);
    return Number(m?.[1] ?? 0);
  };
  // The HTTP-only node restarts and loads from the auto nodes over HTTP.
  await stop(pc);
  // A service C does not own: writes for C's services fail with 503 until C is seen DOWN.
  const whileDown = serviceOwnedBy(pa, "while-c-down");
  await register(node(pa), whileDown, "203.0.113.1");
  const c = await start(pc, "http");
  assert.ok((await loaded(c)) >= 20, "C loaded its registry from a snapshot");
  await waitUntil(converged, 20_000, () => "C identical after its join");
  assert.deepEqual(await hosts(c, whileDown), ["203.0.113.1"]);
  // Only C is left; an auto node restarts and must load from the HTTP-only node.
  await stop(pa);
  await stop(pb);
  // Until C sees them DOWN, writes for their services are forwarded to them and fail (503) by design.
  await waitUntil(
    async () => (await membersSeenBy(c)).filter((m) => m.state === "DOWN").length === 2,
    20_000,
    () => "A and B DOWN on C",
  );
  await register(c, "only-c", "203.0.113.2");
  const a = await start(pa, "auto");
  assert.ok((await loaded(a)) >= 20, "A loaded its registry from C's snapshot");
  assert.deepEqual(await hosts(a, "only-c"), ["203.0.113.2"]);
  await start(pb, "auto");
  await waitUntil(converged, 30_000, () => "all three identical after the joins");
});

test("C restarts as auto: A and B move to gRPC for it, and writes still converge", async () => {
  const [pa, , pc] = ports;
  await stop(pc);
  await start(pc, "auto");
  const [a, b, c] = ports.map(addressOf) as [string, string, string];
  await allUpWithTransports({ [a]: { [b]: "grpc", [c]: "grpc" }, [b]: { [a]: "grpc", [c]: "grpc" }, [c]: { [a]: "grpc", [b]: "grpc" } });
  await register(node(pc), serviceOwnedBy(pa, "after-upgrade"), "203.0.113.3");
  await register(node(pa), serviceOwnedBy(pc, "after-upgrade-c"), "203.0.113.4");
  await waitUntil(converged, 20_000, () => "identical after the upgrade");
});
