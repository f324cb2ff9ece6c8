/**
 * `npm run cluster` (scripts/cluster.ts) as a person runs it: a real process starting three real nodes, a write on
 * the first seen on the third, every member UP, and Ctrl-C (SIGINT) stopping every node and exiting 0.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePortRun, nacos, waitUntil } from "../support/node-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCRIPT = join(ROOT, "scripts/cluster.ts");

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runScript(args: readonly string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

async function exitOf(child: ChildProcess, timeoutMs: number, output: () => string): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  clearTimeout(timer);
  assert.equal(signal, null, `the script was killed (${signal}) after ${timeoutMs} ms:\n${output()}`);
  return code;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("three nodes in one command: converged, replicating, every node stopped by one Ctrl-C", async () => {
  const base = await freePortRun(3, 2);
  const dir = mkdtempSync(join(tmpdir(), "ts-nacos-cluster-"));
  dirs.push(dir);
  const { child, output } = runScript(["--nodes", "3", "--base-port", String(base), "--dir", dir]);
  await waitUntil(
    () => {
      if (child.exitCode !== null) throw new Error(`the script exited ${child.exitCode}:\n${output()}`);
      return output().includes("ts-nacos cluster ready");
    },
    120_000,
    () => `no summary:\n${output()}`,
  );
  const urls = [0, 1, 2].map((i) => `http://127.0.0.1:${base + 2 * i}`);
  const pids = [...output().matchAll(/^ {2}node\d .* pid (\d+)$/gm)].map((m) => Number(m[1]));
  assert.equal(pids.length, 3, output());
  for (const url of urls) assert.ok(output().includes(`console ${url}/nacos/`), `summary names ${url}`);
  assert.equal(statSync(join(dir, "cluster.secret")).mode & 0o777, 0o600);
  for (const name of ["node1", "node2", "node3"]) assert.ok(statSync(join(dir, name)).isDirectory());
  assert.match(output(), /^\[node1\] /m, "node1's lines are prefixed with its name");
  assert.match(output(), /^\[node3\] /m, "node3's lines are prefixed with its name");

  for (const url of urls) {
    const members = (await nacos(url, "GET", "/nacos/v1/core/cluster/nodes")).json().data as Array<{ state: string }>;
    assert.deepEqual(
      members.map((m) => m.state),
      ["UP", "UP", "UP"],
      `members as ${url} sees them`,
    );
  }
  const reg = await nacos(urls[0]!, "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip: "192.0.2.10", port: "8080" });
  assert.equal(reg.text, "ok");
  await waitUntil(
    async () => {
      const hosts = (await nacos(urls[2]!, "GET", "/nacos/v1/ns/instance/list", { serviceName: "orders" })).json().hosts;
      return hosts.some((h: { ip: string }) => h.ip === "192.0.2.10");
    },
    20_000,
    () => "the instance registered on node1 never showed on node3",
  );

  child.kill("SIGINT");
  assert.equal(await exitOf(child, 60_000, output), 0, output());
  for (const pid of pids) assert.equal(alive(pid), false, `node process ${pid} is gone`);
  assert.match(output(), /every node stopped/);
});

test("a busy port is refused before any node starts, naming the port", async () => {
  const base = await freePortRun(2, 2);
  const blocker = createServer().listen(base + 2 + 1001, "127.0.0.1");
  await once(blocker, "listening");
  try {
    const dir = mkdtempSync(join(tmpdir(), "ts-nacos-cluster-"));
    dirs.push(dir);
    const { child, output } = runScript(["--nodes", "2", "--base-port", String(base), "--dir", dir]);
    assert.equal(await exitOf(child, 30_000, output), 2, output());
    assert.match(output(), new RegExp(`port ${base + 2 + 1001} \\(node2\\) is in use`));
    assert.doesNotMatch(output(), /^\[node/m, "no node was started");
  } finally {
    blocker.close();
  }
});

test("a node count out of range is refused with the range", async () => {
  const { child, output } = runScript(["--nodes", "10"]);
  assert.equal(await exitOf(child, 30_000, output), 2, output());
  assert.match(output(), /--nodes must be an integer in \[1, 9\], got '10'/);
});
