/**
 * The processes a benchmark drives: ts-nacos nodes started from any checkout's compiled `dist/src/main.js`
 * (`--root`, so a run can compare before and after), and the fastify reference server. Every process listens on
 * 127.0.0.1 only, is tracked from spawn to exit and killed when its Scope closes, and again (SIGKILL) when the
 * bench process exits for any reason. Options a checkout does not know (older `--help`) are dropped, and said so.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort as anyFreePort, waitUntil } from "../../test/support/node-process.js";
import { get } from "./http.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const THIS_ROOT = path.resolve(HERE, "..", "..");
const REFERENCES = {
  fastify: path.join(THIS_ROOT, "bench", "reference", "server.mjs"),
  grpc: path.join(THIS_ROOT, "bench", "reference", "grpc-server.mjs"),
};
const OUTPUT_CAP = 256 * 1024;
const READY = "/nacos/v1/console/health/readiness";

const children = new Set<ChildProcess>();
let hooked = false;

/** Kills every tracked process when the bench process ends, however it ends. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = (): void => {
    for (const c of children) c.kill("SIGKILL");
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export interface Proc {
  readonly label: string;
  readonly port: number;
  /** `127.0.0.1:port`, the member address of a node. */
  readonly address: string;
  readonly url: string;
  readonly pid: number;
  output(): string;
  exited(): boolean;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const reserved = new Set<number>();

/**
 * A free HTTP port, never handed out twice in one run, whose companions (gRPC peer port + 1001, 2.x client port
 * + 1000) clash with no other handed-out port's.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await anyFreePort();
    const clashes = [0, 1000, 1001, -1000, -1001, 1, -1].some((d) => reserved.has(port + d));
    if (clashes) continue;
    reserved.add(port);
    return port;
  }
  throw new Error("no unreserved free port found in 50 attempts");
}

function spawnTracked(label: string, port: number, args: readonly string[], env: NodeJS.ProcessEnv): Proc {
  hookExit();
  const child = spawn(process.execPath, args, { cwd: THIS_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`${label}: spawn failed`);
  children.add(child);
  child.once("exit", () => children.delete(child));
  let out = "";
  const add = (d: Buffer): void => {
    out += d.toString();
    if (out.length > OUTPUT_CAP) out = out.slice(-OUTPUT_CAP / 2);
  };
  child.stdout!.on("data", add);
  child.stderr!.on("data", add);
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    label,
    port,
    address: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    output: () => out,
    exited,
    async stop(signal = "SIGKILL") {
      if (exited()) return;
      const gone = once(child, "exit");
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

async function waitReady(proc: Proc, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      if (proc.exited()) throw new Error(`${proc.label} exited: ${proc.output().slice(-800)}`);
      return (await get(`${proc.url}${READY}`).catch(() => undefined))?.status === 200;
    },
    timeoutMs,
    () => `${proc.label} on ${proc.port} not ready: ${proc.output().slice(-800)}`,
  );
}

const knownOptions = new Map<string, Set<string>>();

/** The `--flags` a checkout's node accepts, from its `--help`. */
function optionsOf(main: string): Set<string> {
  let known = knownOptions.get(main);
  if (known === undefined) {
    // `--help` exits non-zero: only its text matters
    const help = spawnSync(process.execPath, [main, "--help"], { encoding: "utf8", timeout: 15_000 });
    known = new Set(`${help.stdout}${help.stderr}`.match(/--[a-z][a-z0-9-]*/g) ?? []);
    knownOptions.set(main, known);
  }
  return known;
}

export function mainOf(root: string): string {
  return path.join(root, "dist", "src", "main.js");
}

export interface NodeOptions {
  readonly label: string;
  readonly port?: number;
  /** `--flag value` pairs; flags the checkout does not know are dropped (and reported through `warn`). */
  readonly options?: Readonly<Record<string, string>>;
  /** Environment on top of the bench's own and NO_EXPIRY. */
  readonly env?: NodeJS.ProcessEnv;
  readonly wait?: "ready" | "nothing";
  readonly timeoutMs?: number;
}

export interface ClusterOptions {
  readonly options?: Readonly<Record<string, string>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Members listed beyond the nodes started (a joiner to come, the bench posing as a peer). */
  readonly extraMembers?: readonly string[];
}

/** What a figure started; `close()` stops all of it, whatever happened. */
export class Scope {
  private readonly procs: Proc[] = [];
  private readonly cleanups: Array<() => unknown> = [];

  constructor(
    readonly root: string,
    private readonly warn: (message: string) => void,
  ) {}

  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  async node(o: NodeOptions): Promise<Proc> {
    const main = mainOf(this.root);
    if (!existsSync(main)) throw new Error(`${main} does not exist: build that checkout first (npm run -s build)`);
    const port = o.port ?? (await freePort());
    const known = optionsOf(main);
    const args = [main, "--port", String(port), "--host", "127.0.0.1"];
    if (known.has("--data-dir")) {
      // Every node its own data directory, gone with the scope (older checkouts keep nothing on disk).
      const dataDir = mkdtempSync(path.join(tmpdir(), "ts-nacos-bench-"));
      this.defer(() => rmSync(dataDir, { recursive: true, force: true }));
      args.push("--data-dir", dataDir);
    }
    for (const [flag, value] of Object.entries(o.options ?? {})) {
      if (known.has(flag)) args.push(flag, value);
      else this.warn(`${o.label}: ${flag} is not an option of ${main}; left out`);
    }
    const proc = spawnTracked(o.label, port, args, { ...NO_EXPIRY, ...o.env });
    this.procs.push(proc);
    if (o.wait !== "nothing") await waitReady(proc, o.timeoutMs ?? 60_000);
    return proc;
  }

  /** `count` nodes that are members of each other (and of `extraMembers`), started together, all ready. */
  async cluster(count: number, more: ClusterOptions = {}): Promise<Proc[]> {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await freePort());
    const members = [...ports.map((p) => `127.0.0.1:${p}`), ...(more.extraMembers ?? [])].join(",");
    const label = (i: number): string => `node${String.fromCharCode(65 + i)}`;
    const options = { "--members": members, ...more.options };
    return Promise.all(ports.map((port, i) => this.node({ label: label(i), port, options, env: more.env ?? {} })));
  }

  /**
   * A reference server run with plain node: the fastify one (bench/reference/server.mjs) or the grpc-js one
   * (grpc-server.mjs, its client port at `port` + 1000 as a node's).
   */
  async reference(label = "reference", kind: keyof typeof REFERENCES = "fastify"): Promise<Proc> {
    const port = await freePort();
    const proc = spawnTracked(label, port, [REFERENCES[kind], "--port", String(port)], {});
    this.procs.push(proc);
    await waitReady(proc, 20_000);
    return proc;
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch {
        // keep cleaning up
      }
    }
    await Promise.all(this.procs.map((p) => p.stop("SIGKILL")));
  }
}

/**
 * Registered instances send no heartbeats here, so without this a node would expire them 30 s in (and spend
 * CPU doing so) in the middle of a measurement. (A boolean option: on the command line it can only be set.)
 */
export const NO_EXPIRY: NodeJS.ProcessEnv = { NACOS_EXPIRE_INSTANCES: "false" };
