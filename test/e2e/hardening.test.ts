/**
 * Hardening seen from outside, with real node processes on loopback: a version far in the future sent by a
 * holder of the secret is refused and replication goes on; a write acknowledged just before SIGTERM still
 * reaches the peer (through the stop's flush alone), readiness turns 503 at once and a request in flight is
 * answered; a node with TLS never falls back to the plaintext 1.4 peer API; the secret can come from
 * a file and then never shows in the process list; `npm start` only starts, so nodes of one checkout can
 * start at the same moment.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { identityOf } from "../../src/core/instance.js";
import { makeDatum } from "../../src/core/service-datum.js";
import { encodeDatum } from "../../src/transport/grpc/codecs/datum.js";
import { callMetadata } from "../../src/transport/grpc/metadata.js";
import { makeClientConstructor, unary } from "../../src/transport/grpc/service-adapter.js";
import { encodeDatumMap } from "../../src/transport/nacos14/codecs/datum.js";
import { DistroService, SyncRequestSchema } from "../../gen/nacos/cluster/v1/distro_pb.js";
import { testInstance } from "../support/fixtures.js";
import { freshDataDir, freePort, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";
import { ownedBy } from "../support/ownership.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SECRET = "e2e-s3cret";
const start = nodeStarter();
const closers: Array<() => unknown> = [];

after(async () => {
  for (const close of closers) await close();
});

async function cluster(
  size: number,
  args: readonly string[] = [],
  perNode: (i: number) => { args?: string[]; env?: NodeJS.ProcessEnv } = () => ({}),
): Promise<NodeProcess[]> {
  const ports: number[] = [];
  for (let i = 0; i < size; i++) ports.push(await freePort());
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const nodes = await Promise.all(
    ports.map((port, i) => {
      const extra = perNode(i);
      return start({
        port,
        args: ["--members", members, "--report-interval-ms", "500", ...args, ...(extra.args ?? [])],
        ...(extra.env === undefined ? {} : { env: extra.env }),
      });
    }),
  );
  for (const observer of nodes) {
    await waitUntil(
      async () => {
        const body = (await nacos(observer.url, "GET", "/nacos/v1/core/cluster/nodes")).json();
        return (body.data as Array<{ state: string }>).every((m) => m.state === "UP");
      },
      15_000,
      () => `every member UP as ${observer.address} sees it`,
    );
  }
  return nodes;
}

const hostsOf = async (node: NodeProcess, serviceName: string): Promise<string[]> =>
  ((await nacos(node.url, "GET", "/nacos/v1/ns/instance/list", { serviceName })).json().hosts as Array<{ ip: string }>).map((h) => h.ip);

async function metric(node: NodeProcess, name: string): Promise<number> {
  const m = new RegExp(`^${name} (\\d+)`, "m").exec((await nacos(node.url, "GET", "/nacos/actuator/prometheus")).text);
  return m === null ? Number.NaN : Number(m[1]);
}

/** Two secured nodes, the secret from a file on one and from the environment on the other; the merge window is 3 s. */
let pair: [NodeProcess, NodeProcess];
before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "secret-"));
  writeFileSync(join(dir, "secret"), `${SECRET}\n`);
  const nodes = await cluster(2, ["--sync-delay-ms", "3000"], (i) =>
    i === 0 ? { args: ["--cluster-secret-file", join(dir, "secret")] } : { env: { NACOS_CLUSTER_SECRET: SECRET } },
  );
  pair = [nodes[0]!, nodes[1]!];
});

test("a version far in the future from a holder of the secret is refused over gRPC and HTTP, and replication goes on", async () => {
  const [a, b] = pair;
  assert.ok(!readFileSync(`/proc/${a!.child.pid}/cmdline`, "utf8").includes(SECRET), "the secret is not in the process list");
  assert.match(a!.output(), /"clusterSecret":"set \(file\)"/);

  const poisoned = (name: string) => {
    const grouped = `DEFAULT_GROUP@@${name}`;
    const i = testInstance("192.0.2.66", 80, grouped);
    const version = { counter: 2 ** 53 - 10, writer: b!.address };
    return makeDatum(
      `public##${grouped}`,
      false,
      { protectThreshold: 0, metadata: {}, selector: { type: "none" }, clusters: {} },
      version,
      [{ id: identityOf(i), version, instance: i }],
    );
  };
  const Distro = makeClientConstructor(DistroService);
  const client = new Distro(`127.0.0.1:${a!.port + 1001}`, grpc.credentials.createInsecure());
  closers.push(() => client.close());
  const request = create(SyncRequestSchema, { datums: [encodeDatum(poisoned("poison-grpc"))] });
  const answer = await unary(client.sync, client, request, callMetadata(b!.address, SECRET), { deadline: Date.now() + 5000 });
  assert.deepEqual(
    answer.refused.map((r) => r.key),
    ["public##DEFAULT_GROUP@@poison-grpc"],
  );
  assert.match(answer.refused[0]!.reason, /ahead of the receiver's clock/);

  const body = JSON.stringify(encodeDatumMap([poisoned("poison-http")], Date.now()));
  const http = await fetch(`${a!.url}/nacos/v1/ns/distro/datum?source=${b!.address}`, {
    method: "PUT",
    body,
    headers: { "content-type": "application/json", "x-nacos-cluster-secret": SECRET, "user-agent": "Nacos-Server:1.4.6" },
  });
  assert.equal(http.status, 200);
  assert.equal(await metric(a!, "nacos_distro_refused_ahead_total"), 2);
  for (const name of ["poison-grpc", "poison-http"]) assert.deepEqual(await hostsOf(a!, name), [], `${name} was not taken`);

  // A's clock did not jump: its own writes still replicate.
  const name = ownedBy(a!, [a!, b!], "after-poison");
  assert.equal((await nacos(a!.url, "POST", "/nacos/v1/ns/instance", { serviceName: name, ip: "192.0.2.10", port: "80" })).text, "ok");
  await waitUntil(
    async () => (await hostsOf(b!, name)).length === 1,
    8_000,
    () => `${name} replicated to B`,
  );
});

/**
 * Three nodes for the stop tests: long merge window and peer deadline (while one batch to a peer waits for its
 * answer, the next waits a minute, and a forward waits as long as its owner), verify off, and no peer ever
 * counted as down, so nothing but what a test names can deliver a write.
 */
let stopTrio: Promise<NodeProcess[]> | undefined;
const trio = (): Promise<NodeProcess[]> =>
  (stopTrio ??= cluster(3, [
    "--sync-delay-ms",
    "60000",
    "--peer-timeout-ms",
    "60000",
    "--verify-interval-ms",
    "3600000",
    "--fail-threshold",
    "1000",
    "--suspicion-timeout-ms",
    "3600000",
  ]));

const register = (node: NodeProcess, serviceName: string, ip: string) =>
  nacos(node.url, "POST", "/nacos/v1/ns/instance", { serviceName, ip, port: "80" });

/** Runs `during` with `node` stopped (SIGSTOP): it reads nothing and answers nothing until it goes on. */
async function whileFrozen<T>(node: NodeProcess, during: (resume: () => void) => Promise<T>): Promise<T> {
  process.kill(node.child.pid!, "SIGSTOP");
  const resume = () => process.kill(node.child.pid!, "SIGCONT");
  try {
    return await during(resume);
  } finally {
    resume();
  }
}

test("a write acknowledged just before SIGTERM reaches the peer, through the stop's flush alone", async () => {
  const nodes = await trio();
  const [a, b] = nodes as [NodeProcess, NodeProcess];
  const first = ownedBy(a, nodes, "first-batch-");
  const flushed = ownedBy(a, nodes, "flushed-");
  // Both services exist everywhere first: a write that creates a service is answered only once every UP member
  // holds it, and a frozen B would hold the answers back for the whole merge window.
  for (const name of [first, flushed]) assert.equal((await register(a, name, "192.0.2.99")).text, "ok");
  await waitUntil(
    async () => (await hostsOf(b, first)).length === 1 && (await hostsOf(b, flushed)).length === 1,
    10_000,
    () => "both services on B before it freezes",
  );
  await whileFrozen(b, async (resume) => {
    assert.equal((await register(a, first, "192.0.2.21")).text, "ok");
    await waitUntil(
      async () => (await metric(a, "nacos_distro_sync_pending")) === 0,
      10_000,
      () => "A's first batch left for B (which leaves it unanswered)",
    );
    assert.equal((await register(a, flushed, "192.0.2.20")).text, "ok", "acknowledged by its owner A");
    await waitUntil(
      async () => (await metric(a, "nacos_distro_sync_pending")) === 1,
      10_000,
      () => "C got it; for B it waits in A's merge window behind the first batch",
    );
    const stopped = a.stop("SIGTERM", 30_000);
    await waitUntil(
      () => a.output().includes('"signal":"SIGTERM"'),
      5_000,
      () => "A took the signal",
    );
    resume(); // B answers the first batch; only a node still flushing sends it the second
    assert.equal(await stopped, 0, a.output());
  });
  await waitUntil(
    async () => (await hostsOf(b, flushed)).includes("192.0.2.20"),
    5_000,
    () => `${flushed} on B after A stopped`,
  );
});

test("on SIGTERM readiness answers 503 at once, and a request in flight still gets its full answer", async () => {
  const nodes = await trio();
  const [, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
  const forwarded = ownedBy(b, nodes, "forwarded-");
  await whileFrozen(b, async (resume) => {
    // In flight at the signal: C forwards the write to its owner B, which does not answer yet.
    const inFlight = register(c, forwarded, "192.0.2.22");
    // Time for it to reach C and its forward to leave (had it not, C would answer it 503, not "ok").
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const stopped = c.stop("SIGTERM", 30_000);
    await waitUntil(
      () => c.output().includes('"signal":"SIGTERM"'),
      5_000,
      () => "C took the signal",
    );
    const readiness = await fetch(`${c.url}/nacos/v1/console/health/readiness`);
    assert.equal(readiness.status, 503, "not ready from the signal on, while C finishes what is in flight");
    assert.equal((await nacos(c.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: forwarded })).status, 503, "nor takes new work");
    resume();
    const answer = await inFlight;
    assert.deepEqual([answer.status, answer.text], [200, "ok"]);
    assert.equal(await stopped, 0, c.output());
  });
  assert.deepEqual(await hostsOf(b, forwarded), ["192.0.2.22"]);
});

test("with TLS configured, a peer whose gRPC port does not answer is never reached over the plaintext 1.4 HTTP API", async () => {
  const requests: Array<{ url: string; secret: string | undefined }> = [];
  const fake = createServer((req: IncomingMessage, res) => {
    requests.push({ url: req.url ?? "", secret: req.headers["x-nacos-cluster-secret"] as string | undefined });
    res.end("{}");
  });
  const fakePort = await freePort();
  fake.listen(fakePort, "127.0.0.1");
  await once(fake, "listening");
  closers.push(() => fake.close());
  const tls = (name: string) => fileURLToPath(new URL(`../transport/grpc/tls/${name}`, import.meta.url));
  const port = await freePort();
  const node = await start({
    port,
    args: [
      "--members",
      `127.0.0.1:${port},127.0.0.1:${fakePort}`,
      "--cluster-secret",
      SECRET,
      "--report-interval-ms",
      "300",
      "--grpc-tls-cert",
      tls("server.pem"),
      "--grpc-tls-key",
      tls("server.key"),
      "--grpc-tls-ca",
      tls("ca.pem"),
    ],
    waitFor: "listening",
  });
  await waitUntil(
    () => /"error":"[^"]*UNAVAILABLE[^"]*","msg":"member is unreachable"/.test(node.output()),
    10_000,
    () => `why the peer is unreachable is logged:\n${node.output()}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 1500)); // several more report rounds
  assert.deepEqual(requests, [], "no plaintext request (and so no secret) reached the peer's HTTP port");
  assert.match(node.output(), /TLS is configured: peers are reached over gRPC only/);
});

/** `npm start` in this checkout, as a process group (npm runs node as a child). */
function npmStart(port: number): { child: ChildProcess; output: () => string } {
  // Each its own data directory, as the README's cluster commands give them: nodes may not share one.
  const args = ["start", "--", "--port", String(port), "--host", "127.0.0.1", "--data-dir", freshDataDir()];
  const child = spawn("npm", args, {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, NACOS_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  closers.push(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  });
  return { child, output: () => out };
}

test("npm start only starts: three nodes of one checkout started at the same moment all come up, dist untouched", async () => {
  const main = join(ROOT, "dist/src/main.js");
  const before = statSync(main).mtimeMs;
  const ports = [await freePort(), await freePort(), await freePort()];
  const started = ports.map((port) => ({ port, ...npmStart(port) }));
  for (const s of started) {
    await waitUntil(
      async () => {
        if (s.child.exitCode !== null) throw new Error(`npm start on ${s.port} exited with ${s.child.exitCode}:\n${s.output()}`);
        return (await fetch(`http://127.0.0.1:${s.port}/nacos/v1/console/health/readiness`).catch(() => undefined))?.status === 200;
      },
      30_000,
      () => `node on ${s.port} ready:\n${s.output()}`,
    );
  }
  assert.equal(statSync(main).mtimeMs, before, "npm start did not rebuild dist/");
  for (const s of started) {
    process.kill(-s.child.pid!, "SIGTERM");
    await once(s.child, "exit");
  }
});
