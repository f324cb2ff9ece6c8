/**
 * Three real node processes over gRPC check persistent instances whose endpoints this test opens on 127.0.0.1
 * (and nothing else): a TCP listener closed and reopened, an HTTP server answering 200, then 500, then 200.
 * Every node sees each flip within 20 s, and a UDP subscriber on another node is pushed each one. Targets the
 * node may not probe (link-local, its own ports) are never reached, and a checker cannot set Host or User-Agent.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type Server, type Socket as TcpSocket } from "node:net";
import { after, before, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { freePort, nacos, startNode, waitUntil, type NodeProcess } from "../support/node-process.js";
import { ownedBy } from "../support/ownership.js";

const FLIP_MS = 20_000;
const JAVA_AGENT = "Nacos-Java-Client:v1.4.1";
let nodes: NodeProcess[] = [];
let subscriber: Subscriber;

interface Host {
  ip: string;
  port: number;
  healthy: boolean;
}

/** A UDP endpoint that polls one node the way a 1.4 Java client subscribes, and acks every push. */
class Subscriber {
  /** Health of `ip:port` in every push received, in order. */
  readonly pushes: Array<Map<string, boolean>> = [];

  private constructor(private readonly socket: Socket) {
    socket.on("message", (msg, from) => {
      const push = JSON.parse((msg[0] === 0x1f && msg[1] === 0x8b ? gunzipSync(msg) : msg).toString()) as {
        type: string;
        data: string;
        lastRefTime: number;
      };
      socket.send(JSON.stringify({ type: "push-ack", lastRefTime: push.lastRefTime, data: "" }), from.port, from.address);
      if (push.type !== "dom") return;
      const hosts = (JSON.parse(push.data) as { hosts: Host[] }).hosts;
      this.pushes.push(new Map(hosts.map((h) => [`${h.ip}:${h.port}`, h.healthy])));
    });
  }

  static async open(): Promise<Subscriber> {
    const socket = createSocket("udp4");
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    return new Subscriber(socket);
  }

  async poll(node: NodeProcess, serviceName: string): Promise<void> {
    const qs = new URLSearchParams({ serviceName, udpPort: String(this.socket.address().port), clientIP: "127.0.0.1" });
    const res = await fetch(`${node.url}/nacos/v1/ns/instance/list?${qs}`, { headers: { "User-Agent": JAVA_AGENT } });
    assert.equal(res.status, 200, await res.text());
  }

  close(): void {
    this.socket.close();
  }
}

async function healthOn(node: NodeProcess, serviceName: string, endpoint: string): Promise<boolean | undefined> {
  const res = await nacos(node.url, "GET", "/nacos/v1/ns/instance/list", { serviceName });
  assert.equal(res.status, 200, res.text);
  return (res.json().hosts as Host[]).find((h) => `${h.ip}:${h.port}` === endpoint)?.healthy;
}

/** Waits until every node shows `endpoint` with `healthy`, within what is left of `FLIP_MS` since `started`. */
async function seenEverywhere(serviceName: string, endpoint: string, healthy: boolean, started = Date.now()): Promise<void> {
  for (const n of nodes) {
    await waitUntil(
      async () => (await healthOn(n, serviceName, endpoint)) === healthy,
      FLIP_MS - (Date.now() - started),
      () => `${endpoint} ${healthy ? "healthy" : "unhealthy"} on ${n.address}`,
    );
  }
}

/** A flip: seen on every node and pushed to the subscriber (a push after the first `since` ones) within `FLIP_MS`. */
async function expectFlip(serviceName: string, endpoint: string, healthy: boolean, since: number): Promise<void> {
  const started = Date.now();
  await seenEverywhere(serviceName, endpoint, healthy, started);
  await waitUntil(
    () => subscriber.pushes.slice(since).some((p) => p.get(endpoint) === healthy),
    FLIP_MS - (Date.now() - started),
    () => `a push of ${endpoint} ${healthy ? "healthy" : "unhealthy"}`,
  );
}

/** A persistent instance at `port` (cluster `clusterName`), with the protect threshold off so health shows as it is. */
async function persistent(serviceName: string, port: number, clusterName = "DEFAULT"): Promise<void> {
  const [a, b] = nodes as [NodeProcess, NodeProcess];
  const reg = await nacos(a.url, "POST", "/nacos/v1/ns/instance", {
    serviceName,
    ip: "127.0.0.1",
    port: String(port),
    ephemeral: "false",
    clusterName,
  });
  assert.equal(reg.text, "ok");
  assert.equal((await nacos(b.url, "PUT", "/nacos/v1/ns/service", { serviceName, protectThreshold: "-1" })).text, "ok");
}

async function listen(server: Server | HttpServer, port = 0): Promise<number> {
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as { port: number }).port;
}

before(async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  nodes = await Promise.all(ports.map((port) => startNode({ port, args: ["--members", members] })));
  subscriber = await Subscriber.open();
});

after(async () => {
  subscriber?.close();
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
});

test("TCP (the default): a closed listener turns the instance unhealthy on every node, reopened healthy; each flip is pushed", async () => {
  const sockets = new Set<TcpSocket>();
  const track = (s: TcpSocket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  };
  let server = createServer(track);
  const port = await listen(server);
  const endpoint = `127.0.0.1:${port}`;
  await persistent("tcp-checked", port);
  const c = nodes[2]!;
  await subscriber.poll(c, "tcp-checked");
  await seenEverywhere("tcp-checked", endpoint, true);
  try {
    let since = subscriber.pushes.length;
    server.close();
    for (const s of sockets) s.destroy();
    await once(server, "close");
    await subscriber.poll(c, "tcp-checked");
    await expectFlip("tcp-checked", endpoint, false, since);

    since = subscriber.pushes.length;
    server = createServer(track);
    await listen(server, port);
    await subscriber.poll(c, "tcp-checked");
    await expectFlip("tcp-checked", endpoint, true, since);
  } finally {
    server.close();
    for (const s of sockets) s.destroy();
  }
});

test("HTTP on a configured cluster: 200 healthy, 500 unhealthy, 200 healthy again; each flip is pushed", async () => {
  let status = 200;
  const paths: string[] = [];
  const server = createHttpServer((req, res) => {
    paths.push(`${req.url} ${req.headers["x-probe"]}`);
    res.writeHead(status).end();
  });
  const port = await listen(server);
  const endpoint = `127.0.0.1:${port}`;
  try {
    await persistent("http-checked", port, "web");
    const settings = {
      serviceName: "http-checked",
      clusterName: "web",
      checkPort: "0",
      useInstancePort4Check: "true",
      healthChecker: JSON.stringify({ type: "HTTP", path: "/health", headers: "X-Probe:nacos", expectedResponseCode: 200 }),
    };
    assert.equal((await nacos(nodes[1]!.url, "PUT", "/nacos/v1/ns/cluster", settings)).text, "ok");
    const c = nodes[2]!;
    await subscriber.poll(c, "http-checked");
    await waitUntil(
      () => paths.length > 0,
      FLIP_MS,
      () => "an HTTP probe",
    );
    assert.equal(paths[0], "/health nacos");

    let since = subscriber.pushes.length;
    status = 500;
    await expectFlip("http-checked", endpoint, false, since);

    since = subscriber.pushes.length;
    status = 200;
    await subscriber.poll(c, "http-checked");
    await expectFlip("http-checked", endpoint, true, since);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test("a checker cannot set Host or User-Agent: refused with 400, the cluster's settings unchanged", async () => {
  const serviceName = "header-guarded";
  await persistent(serviceName, 9, "web");
  const update = (headers: string) =>
    nacos(nodes[0]!.url, "PUT", "/nacos/v1/ns/cluster", {
      serviceName,
      clusterName: "web",
      checkPort: "0",
      useInstancePort4Check: "true",
      healthChecker: JSON.stringify({ type: "HTTP", path: "/health", headers, expectedResponseCode: 200 }),
    });
  for (const headers of ["Host:evil|User-Agent:x", "X-Probe:ok|host:evil", "user-agent:curl/8"]) {
    const res = await update(headers);
    assert.equal(res.status, 400, `${headers}: ${res.text}`);
    assert.match(res.text, /cannot be set: the server sends its own Host and User-Agent/);
  }
  const service = (await nacos(nodes[0]!.url, "GET", "/nacos/v1/ns/service", { serviceName })).json();
  assert.equal(JSON.stringify(service.clusters ?? []).includes("evil"), false, JSON.stringify(service));
  assert.equal((await update("X-Probe:ok")).text, "ok", "other headers are still taken");
});

test("link-local targets and the responsible node's own ports are never probed: refused, unhealthy, logged once", async () => {
  const owner = nodes[1]!;
  const serviceName = ownedBy(owner, nodes, "guarded-");
  const targets = [
    { ip: "169.254.169.254", port: 80 },
    { ip: "127.0.0.1", port: owner.port }, // its HTTP port: a probe would find it open
    { ip: "127.0.0.1", port: owner.port + 1001 }, // its gRPC peer port
  ];
  for (const { ip, port } of targets) {
    const reg = await nacos(nodes[0]!.url, "POST", "/nacos/v1/ns/instance", { serviceName, ip, port: String(port), ephemeral: "false" });
    assert.equal(reg.text, "ok");
  }
  assert.equal((await nacos(nodes[0]!.url, "PUT", "/nacos/v1/ns/service", { serviceName, protectThreshold: "-1" })).text, "ok");
  const started = Date.now();
  for (const { ip, port } of targets) await seenEverywhere(serviceName, `${ip}:${port}`, false, started);
  // Refused targets are tried again at the checks' longest interval (5 s): the refusal is not logged again.
  await new Promise((resolve) => setTimeout(resolve, 7_000));
  const refusals = owner
    .output()
    .split("\n")
    .filter((line) => line.includes('"msg":"health check target refused by this node'));
  const refused = (target: string, why: string) => refusals.filter((line) => line.includes(`tcp:refused:${target} is ${why}`));
  assert.equal(refused("169.254.169.254:80", "a link-local address").length, 1, refusals.join("\n"));
  assert.equal(refused(`127.0.0.1:${owner.port}`, "a port of this node").length, 1, refusals.join("\n"));
  assert.equal(refused(`127.0.0.1:${owner.port + 1001}`, "a port of this node").length, 1, refusals.join("\n"));
  // Each turned unhealthy because it was refused, not because a probe of it failed.
  const flips = owner.output().match(/"detail":"tcp:[^"]*","msg":"health check failed; instance unhealthy"/g) ?? [];
  for (const { ip, port } of targets) {
    const own = flips.filter((f) => f.includes(`${ip}:${port}`));
    assert.equal(own.length, 1, flips.join("\n"));
    assert.match(own[0]!, /tcp:refused:/);
  }
});
