/**
 * The data directory with real node processes: of 8 nodes started at once on one directory exactly one comes
 * up and the others exit naming it; a node SIGKILLed under a parent that does not reap it (a zombie, as under
 * `npm start`'s shell) does not keep its successor out; the directory and its files are private to the user.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { freePort, freshDataDir, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const MAIN = fileURLToPath(new URL("../../dist/src/main.js", import.meta.url));
const start = nodeStarter();

const readyOrExited = async (node: NodeProcess): Promise<boolean> =>
  node.child.exitCode !== null || (await fetch(`${node.url}/nacos/v1/console/health/readiness`).catch(() => undefined))?.ok === true;

test("8 nodes started at once on one data directory: exactly one comes up, the others exit naming it", { timeout: 120_000 }, async () => {
  const dataDir = freshDataDir();
  const ports: number[] = [];
  for (let i = 0; i < 8; i++) ports.push(await freePort());
  const nodes = await Promise.all(ports.map((port) => start({ port, dataDir, waitFor: "nothing" })));
  await waitUntil(
    async () => (await Promise.all(nodes.map(readyOrExited))).every(Boolean),
    90_000,
    () => "every node ready or exited",
  );
  const up = nodes.filter((n) => n.child.exitCode === null);
  assert.equal(up.length, 1, nodes.map((n) => `${n.port}: ${n.child.exitCode}`).join(", "));
  for (const loser of nodes.filter((n) => n !== up[0])) {
    assert.equal(loser.child.exitCode, 2);
    assert.match(loser.output(), new RegExp(`in use by process ${up[0]!.child.pid}\\b`));
  }
  const res = await nacos(up[0]!.url, "POST", "/nacos/v1/ns/instance", {
    serviceName: "orders",
    ip: "192.0.2.10",
    port: "8080",
    ephemeral: "false",
  });
  assert.equal(res.status, 200);
});

test("a node SIGKILLed while its parent does not reap it (a zombie) does not keep a new node off its directory", {
  timeout: 60_000,
}, async () => {
  const dataDir = freshDataDir();
  const port = await freePort();
  // `sleep` is the node's parent and never reaps it, as a shell that runs `node` and then waits elsewhere.
  const args = [MAIN, "--port", String(port), "--host", "127.0.0.1", "--data-dir", dataDir].join(" ");
  const parent = spawn("sh", ["-c", `${process.execPath} ${args} >/dev/null 2>&1 & echo $!; exec sleep 60`], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  try {
    const pid = Number(await new Promise<string>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(d.toString()))));
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(
      async () => (await fetch(`${url}/nacos/v1/console/health/readiness`).catch(() => undefined))?.ok === true,
      30_000,
      () => "the first node ready",
    );
    const res = await nacos(url, "POST", "/nacos/v1/ns/instance", {
      serviceName: "orders",
      ip: "192.0.2.10",
      port: "8080",
      ephemeral: "false",
    });
    assert.equal(res.status, 200);
    process.kill(pid, "SIGKILL");
    const state = (): string => {
      const text = readFileSync(`/proc/${pid}/stat`, "utf8");
      return text.slice(text.lastIndexOf(")") + 2).split(" ")[0]!;
    };
    await waitUntil(
      () => state() === "Z",
      10_000,
      () => `the killed node is a zombie (state ${state()})`,
    );
    const second = await start({ port, dataDir });
    const list = (await nacos(second.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "orders" })).json() as { hosts: unknown[] };
    assert.equal(list.hosts.length, 1, "and it has the data");
  } finally {
    parent.kill("SIGKILL");
  }
});

test("the data directory is 0700 and its files 0600; an existing looser one is tightened with a warning", { timeout: 60_000 }, async () => {
  const mode = (path: string): number => statSync(path).mode & 0o777;
  const first = await start({ dataDir: join(freshDataDir(), "data") });
  await nacos(first.url, "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip: "192.0.2.10", port: "8080", ephemeral: "false" });
  assert.equal(mode(first.dataDir), 0o700);
  for (const name of readdirSync(first.dataDir)) assert.equal(mode(join(first.dataDir, name)), 0o600, name);
  await first.stop();

  const loose = join(freshDataDir(), "loose");
  mkdirSync(loose, { mode: 0o755 });
  chmodSync(loose, 0o755);
  writeFileSync(join(loose, "naming.log"), readFileSync(join(first.dataDir, "naming.log")), { mode: 0o644 });
  chmodSync(join(loose, "naming.log"), 0o644);
  const second = await start({ dataDir: loose });
  assert.equal(mode(loose), 0o700);
  assert.equal(mode(join(loose, "naming.log")), 0o600);
  assert.equal(second.output().match(/readable by other users, tightened/g)?.length, 2, second.output());
});
