/**
 * The node as a supervisor meets it, with real processes: `npm start` hands SIGTERM to the node (the port and
 * the process are gone when npm is); a graceful stop in a cluster ends as soon as its work is done, not after
 * the whole shutdown timeout; a bad option exits 2 with a message (no stack); booleans turn off by flag.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { freshDataDir, freePort, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const start = nodeStarter();
const groups: number[] = [];

after(async () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Whether anything accepts connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Whether any process of the group is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

test("SIGTERM to npm start (what a supervisor sends) stops the node: its port is released and no process is left", async () => {
  const port = await freePort();
  const npm = spawn("npm", ["start", "--", "--port", String(port), "--host", "127.0.0.1", "--data-dir", freshDataDir()], {
    cwd: ROOT,
    detached: true, // its own process group, so the test can tell whether anything of it is left
    env: { ...process.env, NACOS_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  groups.push(npm.pid!);
  let out = "";
  npm.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  npm.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  await waitUntil(
    async () => {
      if (npm.exitCode !== null) throw new Error(`npm start exited with ${npm.exitCode}:\n${out}`);
      return (await nacos(`http://127.0.0.1:${port}`, "GET", "/nacos/v1/console/health/readiness").catch(() => undefined))?.status === 200;
    },
    30_000,
    () => `node on ${port} ready:\n${out}`,
  );
  const exited = once(npm, "exit");
  process.kill(npm.pid!, "SIGTERM"); // npm alone, not its group
  await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`npm still running:\n${out}`)), 15_000))]);
  await waitUntil(
    async () => !groupAlive(npm.pid!) && !(await listening(port)),
    10_000,
    () => `the node is gone and port ${port} released (node still running: ${groupAlive(npm.pid!)})\n${out}`,
  );
  assert.match(out, /"signal":"SIGTERM".*"msg":"shutting down"/);
});

test("a graceful stop in a cluster ends once its work is done, well within --shutdown-timeout-ms", async () => {
  const ports = [await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const nodes = await Promise.all(
    ports.map((port) => start({ port, args: ["--members", members, "--report-interval-ms", "500", "--shutdown-timeout-ms", "10000"] })),
  );
  const [a, b] = nodes as [NodeProcess, NodeProcess];
  // Writes on both sides, so each node's peer holds a replication stream (Pipe) open to it.
  for (const [node, other] of [
    [a, b],
    [b, a],
  ] as const) {
    const serviceName = `stop-${node.port}`;
    assert.equal((await nacos(node.url, "POST", "/nacos/v1/ns/instance", { serviceName, ip: "192.0.2.30", port: "80" })).text, "ok");
    await waitUntil(
      async () => (await nacos(other.url, "GET", "/nacos/v1/ns/instance/list", { serviceName })).json().hosts.length === 1,
      15_000,
      () => `${serviceName} replicated`,
    );
  }
  const started = Date.now();
  assert.equal(await a.stop("SIGTERM", 30_000), 0, a.output());
  const tookMs = Date.now() - started;
  // Before: the peer's open Pipe held the gRPC server until the whole timeout (10 s here) had passed.
  assert.ok(tookMs < 4_000, `the stop took ${tookMs} ms with nothing pending:\n${a.output().slice(-2000)}`);
  assert.doesNotMatch(a.output(), /graceful stop did not finish in time/);
});

test("an unknown log level exits 2 naming the allowed levels, without a stack", () => {
  const run = spawnSync(process.execPath, [`${ROOT}dist/src/main.js`, "--log-level", "verbose", "--port", "1"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(run.status, 2, run.stderr);
  assert.equal(run.stderr.trim(), "--log-level must be fatal, error, warn, info, debug, trace or silent, got 'verbose'");
});

test("a boolean option turned off by flag (--expire-instances false, --no-health-check-loopback) starts the node with it off", async () => {
  const node = await start({ args: ["--expire-instances", "false", "--no-health-check-loopback"] });
  assert.match(node.output(), /"expireInstances":false/);
  assert.match(node.output(), /"healthCheck":\{"allow":\[\],"loopback":false\}/);
});
