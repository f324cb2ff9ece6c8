/**
 * Starting a node as an operator meets it, with real processes: a start that cannot succeed ends in one sentence
 * on stderr naming the option to change and exit code 2, never a stack; `--version`; a misspelt option is
 * answered with the one meant; the log is JSON for a program and, asked for (a test has no terminal), pretty with
 * a start-up summary for a person.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { freePort, freshDataDir, nodeStarter, waitUntil } from "../support/node-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = `${ROOT}dist/src/main.js`;
const VERSION = (JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { version: string }).version;
const start = nodeStarter();
const held: Server[] = [];

after(() => {
  for (const server of held) server.close();
});

/** Something else listening on 127.0.0.1:`port`, as another program would. */
async function occupy(port: number): Promise<void> {
  const server = createServer();
  held.push(server);
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
}

/** main.js run to its end with `args` (bounded), as a supervisor sees it: exit code, stdout, stderr. */
function run(args: readonly string[], command: readonly string[] = [process.execPath, MAIN]) {
  const [file, ...rest] = command as [string, ...string[]];
  const result = spawnSync(file, [...rest, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, NACOS_LOG_LEVEL: "info" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A start on 127.0.0.1 that must fail with exit code 2 and exactly `sentence` on stderr. */
function assertRefused(outcome: { status: number | null; stdout: string; stderr: string }, sentence: string): void {
  assert.equal(outcome.status, 2, `exit code; stderr:\n${outcome.stderr}\nstdout:\n${outcome.stdout.slice(-2000)}`);
  assert.equal(outcome.stderr, `${sentence}\n`);
  assert.doesNotMatch(outcome.stdout, /"stack"|\n\s+at /, "no stack anywhere");
}

const local = (port: number, dataDir = freshDataDir()): string[] => ["--port", String(port), "--host", "127.0.0.1", "--data-dir", dataDir];

test("a busy HTTP port: exit 2 and `port N is in use (--port / NACOS_SERVER_PORT)`", async () => {
  const port = await freePort();
  await occupy(port);
  assertRefused(run(local(port)), `port ${port} is in use (--port / NACOS_SERVER_PORT)`);
});

test("a busy gRPC peer port: exit 2 naming --grpc-port / NACOS_GRPC_PORT", async () => {
  const [port, other] = [await freePort(), await freePort()];
  await occupy(port + 1001);
  const members = ["--members", `127.0.0.1:${port},127.0.0.1:${other}`, "--ip", "127.0.0.1"];
  assertRefused(run([...local(port), ...members]), `gRPC peer port ${port + 1001} is in use (--grpc-port / NACOS_GRPC_PORT)`);
});

test("a busy 2.x client port: exit 2 naming --client-grpc-port / NACOS_CLIENT_GRPC_PORT", async () => {
  const port = await freePort();
  await occupy(port + 1000);
  assertRefused(run(local(port)), `2.x client port ${port + 1000} is in use (--client-grpc-port / NACOS_CLIENT_GRPC_PORT)`);
});

test("--host that is not an address of this machine: exit 2 naming --host / NACOS_BIND_HOST", async () => {
  const args = ["--port", String(await freePort()), "--host", "203.0.113.1", "--data-dir", freshDataDir()];
  assertRefused(run(args), "cannot listen on 203.0.113.1: it is not an address of this machine (--host / NACOS_BIND_HOST)");
});

test("a data directory that is a file, or under one: exit 2 naming --data-dir / NACOS_DATA_DIR", async () => {
  const file = join(freshDataDir(), "not-a-directory");
  writeFileSync(file, "");
  const port = await freePort();
  assertRefused(run(local(port, file)), `data directory ${file} is a file, not a directory (--data-dir / NACOS_DATA_DIR)`);
  assertRefused(
    run(local(port, join(file, "data"))),
    `data directory ${join(file, "data")} cannot be created: part of its path is a file (--data-dir / NACOS_DATA_DIR)`,
  );
});

test("a data directory the node cannot write (a read-only mount): exit 2 naming --data-dir / NACOS_DATA_DIR", async () => {
  const dir = join(freshDataDir(), "read-only");
  mkdirSync(dir);
  const port = await freePort();
  // A private mount namespace (and user namespace, so root's right to write anything does not apply) where `dir` is
  // a read-only file system; the node runs in it.
  const inReadOnlyMount = [
    "unshare",
    "-rm",
    "sh",
    "-c",
    `mount -t tmpfs -o ro,mode=700 none "$0" && exec "$@"`,
    dir,
    process.execPath,
    MAIN,
  ];
  assertRefused(
    run(local(port, dir), inReadOnlyMount),
    `data directory ${dir} is not writable: read-only file system (--data-dir / NACOS_DATA_DIR)`,
  );
});

test("a data directory another node holds: exit 2 and the sentence naming that node's process and --data-dir", async () => {
  const first = await start();
  const outcome = run(local(await freePort(), first.dataDir));
  assertRefused(
    outcome,
    `data directory ${first.dataDir} is in use by process ${first.child.pid} (LOCK); give every node its own --data-dir`,
  );
});

test("an unreadable secret file, cluster.conf or TLS certificate: exit 2 naming the option", async () => {
  const missing = join(freshDataDir(), "missing.pem");
  const port = await freePort();
  const sentence = (option: string) => `cannot read ${missing}: no such file or directory (${option})`;
  assertRefused(run([...local(port), "--cluster-secret-file", missing]), sentence("--cluster-secret-file / NACOS_CLUSTER_SECRET_FILE"));
  assertRefused(run([...local(port), "--cluster-conf", missing]), sentence("--cluster-conf / NACOS_CLUSTER_CONF"));
  assertRefused(
    run([...local(port), "--grpc-tls-cert", missing, "--grpc-tls-key", missing]),
    sentence("--grpc-tls-cert / NACOS_GRPC_TLS_CERT"),
  );
});

test("--version prints the package's version and exits 0", () => {
  const outcome = run(["--version"]);
  assert.equal(outcome.status, 0, outcome.stderr);
  assert.equal(outcome.stdout, `${VERSION}\n`);
});

test("a misspelt option: exit 2 and `did you mean` the real one", () => {
  assertRefused(run(["--prot", "8848"]), "unknown option --prot: did you mean --port? (--help lists every option)");
  assertRefused(
    run(["--no-expire-instance"]),
    "unknown option --no-expire-instance: did you mean --no-expire-instances? (--help lists every option)",
  );
});

test("--log-format pretty: ISO-8601 times, levels, and the start-up summary as a short block", async () => {
  const node = await start({ args: ["--log-format", "pretty"] });
  const out = node.output();
  assert.match(out, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}ts-nacos \S+ started$/m);
  for (const line of [
    `console\\s+http://127\\.0\\.0\\.1:${node.port}/nacos/`,
    `API\\s+http://127\\.0\\.0\\.1:${node.port}/nacos/v1/ns \\(v2: /nacos/v2/ns\\)`,
    `HTTP port\\s+${node.port} on 127\\.0\\.0\\.1`,
    `2\\.x client port\\s+${node.port + 1000} \\(TLS off\\)`,
    "members\\s+standalone",
    `data directory\\s+${node.dataDir}`,
    "auth\\s+off",
  ]) {
    assert.match(out, new RegExp(`^ +${line}$`, "m"));
  }
  assert.doesNotMatch(out, /^\{/m, "no JSON line");
  assert.ok(
    out.split("\n").every((line) => line.length < 200),
    "no line is a dump of the configuration",
  );
});

test("JSON (no terminal, the default): every line parses, and the start record holds the summary and the configuration", async () => {
  const secretFile = join(freshDataDir(), "secret");
  writeFileSync(secretFile, "s3cret-of-the-cluster\n");
  const node = await start({ args: ["--cluster-secret-file", secretFile] });
  const records = node
    .output()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const started = records.find((r) => r.msg === "ts-nacos started");
  assert.ok(started !== undefined);
  assert.equal(started.version, VERSION);
  assert.equal(started.consoleUrl, `http://127.0.0.1:${node.port}/nacos/`);
  assert.equal(started.apiUrl, `http://127.0.0.1:${node.port}/nacos/v1/ns`);
  assert.equal(started.port, node.port);
  assert.equal(started.dataDir, node.dataDir);
  assert.equal(started.clusterSecret, "set (file)");
  assert.equal(started.expireInstances, true);
  assert.doesNotMatch(node.output(), /s3cret-of-the-cluster/);
});

test("NACOS_LOG_FORMAT picks the format too; a bad one exits 2 listing the allowed", async () => {
  const node = await start({ env: { NACOS_LOG_FORMAT: "pretty" } });
  assert.match(node.output(), /INFO {2}ts-nacos \S+ started/);
  assertRefused(run(["--log-format", "yaml"]), "--log-format must be auto, json or pretty, got 'yaml'");
});

test("on a terminal (a pseudo-terminal made by `script`), the default is the pretty log, coloured", async () => {
  const args = [MAIN, ...local(await freePort())].map((a) => `'${a}'`).join(" ");
  // Its own process group, so the node under `script` goes with it.
  const terminal = spawn("script", ["-qec", `'${process.execPath}' ${args}`, "/dev/null"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  terminal.stdout.on("data", (d: Buffer) => (out += d.toString()));
  try {
    await waitUntil(
      () => /ts-nacos \S+ started/.test(out),
      30_000,
      () => `the summary on the terminal:\n${out}`,
    );
    const line = out.split("\n").find((l) => /ts-nacos \S+ started/.test(l)) ?? "";
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    assert.ok(line.includes("\x1b[32mINFO \x1b[0m ts-nacos "), `a green INFO: ${JSON.stringify(line)}`);
    assert.doesNotMatch(out, /^\{"level"/m, "no JSON line");
  } finally {
    process.kill(-terminal.pid!, "SIGKILL");
  }
});
