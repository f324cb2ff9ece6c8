/**
 * Real ts-nacos node processes for end-to-end tests: started exactly as `npm start` does (the compiled
 * dist/src/main.js), on 127.0.0.1 with free ports, and stopped with a signal. Every wait is bounded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
import { portIsFree } from "../../scripts/lib/port-free.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = `${ROOT}dist/src/main.js`;

/**
 * Claims `port` for this process among the suite's concurrent test files (scripts/run-tests.sh names a directory
 * in TS_NACOS_PORT_DIR; a claim is a file created there exclusively, never given back during the run): a file
 * that merely found a port free could otherwise pick another file's node's not yet bound companion port.
 */
function claim(port: number): boolean {
  const dir = process.env.TS_NACOS_PORT_DIR;
  if (dir === undefined) return true;
  try {
    closeSync(openSync(join(dir, String(port)), "wx"));
    return true;
  } catch {
    return false;
  }
}

/**
 * A free HTTP port whose companions (gRPC peer port + 1001, 2.x client port + 1000) are free too, claimed with
 * them against the other test files of the run. Drawn below the kernel's ephemeral range (32768 and up), so no
 * listener on port 0 and no outgoing connection of a concurrent test takes it between this check and the node's
 * bind, or while a test restarts a node on it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 21_000);
    const trio = [port, port + 1000, port + 1001];
    if (!trio.every(claim)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 1001)) && (await portIsFree(port + 1000))) return port;
  }
  throw new Error("no free port pair found in 50 attempts");
}

/**
 * `count` HTTP ports `step` apart, each with its companions free and claimed as `freePort` claims them: for a
 * command that starts several nodes from one base port (`npm run cluster -- --base-port`).
 */
export async function freePortRun(count: number, step: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * 21_000);
    const ports = Array.from({ length: count }, (_, i) => base + i * step).flatMap((p) => [p, p + 1000, p + 1001]);
    if (!ports.every(claim)) continue;
    const free = await Promise.all(ports.map(portIsFree));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no run of ${count} free ports found in 50 attempts`);
}

export interface NodeProcess {
  readonly port: number;
  readonly address: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Its data directory (a fresh one per start unless the options named one: pass it on to restart from it). */
  readonly dataDir: string;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM (or the given signal) and wait for exit, at most `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface StartOptions {
  readonly port?: number;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** The node's --data-dir; a fresh temporary directory when not given. */
  readonly dataDir?: string;
  /** Wait until /nacos/v1/console/health/readiness answers 200 (default) or only until it listens. */
  readonly waitFor?: "ready" | "listening" | "nothing";
  readonly timeoutMs?: number;
}

export async function startNode(options: StartOptions = {}): Promise<NodeProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? freshDataDir();
  const args = [MAIN, "--port", String(port), "--host", "127.0.0.1", "--data-dir", dataDir, ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, NACOS_LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const proc: NodeProcess = {
    port,
    address: `127.0.0.1:${port}`,
    url,
    child,
    dataDir,
    output: () => out,
    async stop(signal = "SIGTERM", timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const [code] = (await once(child, "exit")) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
  const waitFor = options.waitFor ?? "ready";
  if (waitFor !== "nothing") {
    const path = waitFor === "ready" ? "/nacos/v1/console/health/readiness" : "/nacos/v1/console/health/liveness";
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`node exited with ${child.exitCode}:\n${out}`);
        const res = await fetch(url + path).catch(() => undefined);
        return res?.status === 200;
      },
      options.timeoutMs ?? 30_000,
      () => `node on ${port} not ${waitFor}:\n${out}`,
    );
  }
  return proc;
}

/**
 * `startNode` for one test file: every node it starts is SIGKILLed once the file's tests end, whatever happened
 * to them (stopping a node that already exited does nothing, so tests stop and restart nodes freely).
 */
export function nodeStarter(): (options?: StartOptions) => Promise<NodeProcess> {
  const started: NodeProcess[] = [];
  after(async () => {
    await Promise.all(started.map((n) => n.stop("SIGKILL")));
  });
  return async (options) => {
    const node = await startNode(options);
    started.push(node);
    return node;
  };
}

const createdDataDirs: string[] = [];
// Gone with the test process; a node still writing to one is stopped by then (its test's `after`).
process.once("exit", () => {
  for (const dir of createdDataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A new empty data directory under the system's temporary directory, removed when the test process exits. */
export function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ts-nacos-data-"));
  createdDataDirs.push(dir);
  return dir;
}

/** Polls `check` every 100 ms until it is true; fails after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Nacos HTTP call with every parameter in the query string, as the SDKs send them. */
export async function nacos(
  base: string,
  method: string,
  path: string,
  params: Record<string, string> = {},
): Promise<{ status: number; text: string; json: () => any }> {
  const qs = new URLSearchParams(params).toString();
  const res = await fetch(`${base}${path}${qs === "" ? "" : `?${qs}`}`, { method });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}
