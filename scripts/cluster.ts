/**
 * `npm run cluster [-- --nodes 3 --base-port 8848 --dir ./cluster-data]`: a local cluster in one command. Starts
 * the compiled node (dist/src/main.js) N times on 127.0.0.1 — HTTP ports base, base+2, ..., each with its 2.x
 * client port (+1000) and gRPC peer port (+1001) — with one data directory per node under one folder and a
 * freshly generated cluster secret in a 0600 file every node is handed (`--cluster-secret-file`), waits until
 * every node is ready and sees every member UP, prints where everything is, and stops every node gracefully on
 * Ctrl-C or SIGTERM (SIGTERM to each, wait, exit 0). Each node's log lines are prefixed with its name.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { CLIENT_GRPC_PORT_OFFSET, GRPC_PORT_OFFSET } from "../src/core/address.js";
import { portIsFree } from "./lib/port-free.js";

const ROOT = resolve(import.meta.dirname, "..");
const MAIN = join(ROOT, "dist/src/main.js");
const HOST = "127.0.0.1";
const MAX_NODES = 9;
/** HTTP ports two apart: a node's companions (+1000, +1001) then never meet the next node's (+1000, +1001). */
const PORT_STEP = 2;
/** The node's own bound on a graceful stop (2 × its default shutdown timeout + 5 s), and a margin. */
const STOP_WAIT_MS = 20_000;
const READY_WAIT_MS = 60_000;
const POLL_MS = 250;

/** A misuse of the command: printed as one sentence, exit code 2 (as the node does for a bad option). */
class UsageError extends Error {}

interface Settings {
  readonly nodes: number;
  readonly basePort: number;
  readonly dir: string;
}

function settingsOf(argv: readonly string[]): Settings {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { nodes: { type: "string" }, "base-port": { type: "string" }, dir: { type: "string" }, help: { type: "boolean" } },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) {
    throw new UsageError("usage: npm run cluster -- [--nodes 1..9 (3)] [--base-port port (8848)] [--dir folder (./cluster-data)]");
  }
  const nodes = Number(values.nodes ?? 3);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) {
    throw new UsageError(`--nodes must be an integer in [1, ${MAX_NODES}], got '${values.nodes}'`);
  }
  const basePort = Number(values["base-port"] ?? 8848);
  const highest = basePort + (nodes - 1) * PORT_STEP + GRPC_PORT_OFFSET;
  if (!Number.isInteger(basePort) || basePort < 1024 || highest > 65535) {
    throw new UsageError(
      `--base-port must be an integer from 1024 leaving room for ${nodes} nodes below 65536, got '${values["base-port"]}'`,
    );
  }
  return { nodes, basePort, dir: resolve(String(values.dir ?? "cluster-data")) };
}

interface Node {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  child?: ChildProcess;
}

/** Every port the cluster will bind, refused as a whole if any is taken (naming the first busy one). */
async function checkPorts(nodes: readonly Node[]): Promise<void> {
  for (const n of nodes) {
    for (const port of [n.port, n.port + CLIENT_GRPC_PORT_OFFSET, n.port + GRPC_PORT_OFFSET]) {
      if (!(await portIsFree(port))) {
        throw new UsageError(`port ${port} (${n.name}) is in use on ${HOST}: stop what holds it or choose another --base-port`);
      }
    }
  }
}

/** A fresh secret each run, readable by this user only, handed to every node by path (never on a command line). */
function writeSecret(dir: string): string {
  const file = join(dir, "cluster.secret");
  writeFileSync(file, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above applies only when the file is created
  return file;
}

function prefixLines(stream: NodeJS.ReadableStream, name: string, out: NodeJS.WritableStream): void {
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => out.write(`[${name}] ${line}\n`));
}

function startNode(node: Node, members: string, dataDir: string, secretFile: string): ChildProcess {
  const args = [MAIN, "--host", HOST, "--ip", HOST, "--port", String(node.port), "--members", members];
  args.push("--data-dir", dataDir, "--cluster-secret-file", secretFile);
  // The nodes write to a pipe, so they would log JSON; a person at a terminal gets the lines they can read.
  if (process.stdout.isTTY) args.push("--log-format", "pretty");
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  prefixLines(child.stdout!, node.name, process.stdout);
  prefixLines(child.stderr!, node.name, process.stderr);
  return child;
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** Ready, and every member UP as this node sees it. */
async function converged(node: Node, count: number): Promise<boolean> {
  const ready = await getJson(`${node.url}/nacos/v1/console/health/readiness`).catch(() => undefined);
  if (ready?.status !== 200) return false;
  const members = await getJson(`${node.url}/nacos/v1/core/cluster/nodes`).catch(() => undefined);
  const list = (members?.body as { data?: Array<{ state?: string }> } | undefined)?.data ?? [];
  return list.length === count && list.every((m) => m.state === "UP");
}

async function waitConverged(nodes: readonly Node[]): Promise<void> {
  const deadline = Date.now() + READY_WAIT_MS;
  const pending = new Set(nodes);
  while (pending.size > 0) {
    for (const n of pending) {
      if (exited(n.child!)) throw new Error(`${n.name} exited (code ${n.child!.exitCode}) before it was ready; its log is above`);
      if (await converged(n, nodes.length)) pending.delete(n);
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`not ready after ${READY_WAIT_MS / 1000} s: ${[...pending].map((n) => n.name).join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** SIGTERM every node still running, wait for all (SIGKILL past the bound); true when every one exited 0. */
async function stopAll(nodes: readonly Node[]): Promise<boolean> {
  const children = nodes.flatMap((n) => (n.child === undefined ? [] : [n.child]));
  await Promise.all(
    children
      .filter((child) => !exited(child))
      .map(async (child) => {
        const exit = once(child, "exit");
        child.kill("SIGTERM");
        const force = setTimeout(() => child.kill("SIGKILL"), STOP_WAIT_MS);
        await exit;
        clearTimeout(force);
      }),
  );
  return children.every((child) => child.exitCode === 0);
}

function summary(nodes: readonly Node[], dir: string, secretFile: string): string {
  const rows = nodes.map(
    (n) =>
      `  ${n.name}  console ${n.url}/nacos/   API ${n.url}/nacos/v1/ns   ` +
      `2.x clients ${HOST}:${n.port + CLIENT_GRPC_PORT_OFFSET}   peers ${HOST}:${n.port + GRPC_PORT_OFFSET}   pid ${n.child!.pid}`,
  );
  return [
    "",
    `ts-nacos cluster ready: ${nodes.length} node(s), every member UP`,
    ...rows,
    `  data: ${dir} (one folder per node; kept after a stop)`,
    `  cluster secret: ${secretFile} (new each run, mode 0600)`,
    `  stop: Ctrl-C, or kill -TERM ${process.pid}`,
    "",
  ].join("\n");
}

async function main(): Promise<number> {
  const settings = settingsOf(process.argv.slice(2));
  if (!existsSync(MAIN)) throw new UsageError(`${MAIN} is missing: run npm run build first`);
  const nodes: Node[] = Array.from({ length: settings.nodes }, (_, i) => {
    const port = settings.basePort + i * PORT_STEP;
    return { name: `node${i + 1}`, port, url: `http://${HOST}:${port}` };
  });
  await checkPorts(nodes);
  mkdirSync(settings.dir, { recursive: true });
  const secretFile = writeSecret(settings.dir);
  const members = nodes.map((n) => `${HOST}:${n.port}`).join(",");
  process.stdout.write(`starting ${nodes.length} node(s); data under ${settings.dir}\n`);

  let stopping: Promise<number> | undefined;
  const stop = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      process.stdout.write(`\n${reason}: stopping every node (SIGTERM, waiting for each)\n`);
      const clean = await stopAll(nodes);
      process.stdout.write(clean ? "every node stopped\n" : "a node did not stop cleanly (see its log above)\n");
      return clean ? 0 : 1;
    })();
    return stopping;
  };
  // A terminal's Ctrl-C reaches the nodes too (same process group); they ignore the SIGTERM that follows it.
  const onSignal = (signal: NodeJS.Signals) => void stop(signal).then((code) => process.exit(code));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  for (const n of nodes) {
    n.child = startNode(n, members, join(settings.dir, n.name), secretFile);
    n.child.on("exit", (code, signal) => {
      if (stopping !== undefined) return;
      process.stderr.write(`${n.name} exited on its own (code ${code}, signal ${signal})\n`);
      void stop(`${n.name} exited`).then(() => process.exit(1));
    });
  }
  try {
    await waitConverged(nodes);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    await stop("start-up failed");
    return 1;
  }
  process.stdout.write(summary(nodes, settings.dir, secretFile));
  return new Promise<number>(() => {}); // runs until a signal (or a node's exit) ends the process
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof UsageError ? err.message : (err as Error).stack}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
