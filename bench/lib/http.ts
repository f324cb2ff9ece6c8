/**
 * The few control requests a benchmark makes besides its load (readiness, owners, metrics, probes), through
 * fetch, to loopback addresses only, each with a deadline. Also the Nacos request shapes every figure sends, so
 * ours and the reference always get the very same bytes.
 */
import type { Request } from "./load.js";

const JAVA_AGENT = "Nacos-Java-Client:v1.4.0";

export interface Reply {
  readonly status: number;
  readonly text: string;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`refusing non-loopback target ${url}`);
}

export async function call(method: string, url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Reply> {
  assertLoopback(url);
  const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text() };
}

export const get = (url: string, timeoutMs?: number): Promise<Reply> => call("GET", url, {}, timeoutMs);

export const qs = (params: Readonly<Record<string, string | number>>): string =>
  new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();

/** The n-th distinct instance address: documentation IPs (192.0.2.x, 198.51.100.x, 203.0.113.x) × ports. */
export function instanceAddress(n: number): { ip: string; port: number } {
  const prefixes = ["192.0.2", "198.51.100", "203.0.113"];
  const host = n % 762;
  return { ip: `${prefixes[Math.floor(host / 254)]}.${(host % 254) + 1}`, port: 1 + Math.floor(n / 762) };
}

const INSTANCE = "/nacos/v1/ns/instance";

/** POST (register), DELETE (deregister) of instance `n` of `serviceName`, parameters in the query as SDKs send them. */
export function instanceRequest(method: "POST" | "DELETE", serviceName: string, n: number): Request {
  const { ip, port } = instanceAddress(n);
  return { method, path: `${INSTANCE}?${qs({ serviceName, ip, port })}` };
}

export function listRequest(serviceName: string, extra: Readonly<Record<string, string | number>> = {}): Request {
  return { method: "GET", path: `${INSTANCE}/list?${qs({ serviceName, ...extra })}`, headers: { "user-agent": JAVA_AGENT } };
}

/** Sends one pre-shaped request through fetch (a probe, a subscription); throws unless the answer is 200. */
export async function send(base: string, r: Request, timeoutMs = 10_000): Promise<string> {
  const reply = await call(r.method, base + r.path, { ...r.headers }, timeoutMs);
  if (reply.status !== 200) throw new Error(`${r.method} ${r.path}: HTTP ${reply.status} ${reply.text.slice(0, 200)}`);
  return reply.text;
}

/** One gauge of a node's Prometheus text; NaN when absent. */
export async function metric(base: string, name: string): Promise<number> {
  const text = (await get(`${base}/metrics`)).text;
  const m = new RegExp(`^${name} ([-+0-9.eE]+|NaN)$`, "m").exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

export async function ownerOf(base: string, serviceName: string): Promise<string> {
  const reply = await get(`${base}/nacos/v1/ns/operator/distro/server?${qs({ serviceName })}`);
  if (reply.status !== 200) throw new Error(`distro/server ${serviceName}: HTTP ${reply.status}`);
  return String((JSON.parse(reply.text) as { responsibleServer: unknown }).responsibleServer);
}

/** The first `count` names `${prefix}-k` that `base` says `owner` is responsible for (bounded search). */
export async function servicesOwnedBy(base: string, owner: string, prefix: string, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let k = 0; out.length < count && k < count * 20 + 100; k++) {
    const name = `${prefix}-${k}`;
    if ((await ownerOf(base, name)) === owner) out.push(name);
  }
  if (out.length < count) throw new Error(`only ${out.length} of ${count} services ${prefix}-k are owned by ${owner}`);
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until true; false once `timeoutMs` passed (a failing check is a "not yet"). */
export async function poll(check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** Waits until every node counts `members` healthy members (so all agree on owners); throws after `timeoutMs`. */
export async function waitMembers(bases: readonly string[], members: number, timeoutMs = 30_000): Promise<void> {
  const all = async (): Promise<boolean> =>
    (await Promise.all(bases.map((b) => metric(b, "nacos_members_healthy")))).every((n) => n === members);
  if (!(await poll(all, timeoutMs, 200))) throw new Error(`not every node saw ${members} healthy members within ${timeoutMs} ms`);
}

/** Waits (at most `timeoutMs`) until no node has replication waiting; returns whether they got there. */
export async function waitSynced(bases: readonly string[], timeoutMs = 20_000): Promise<boolean> {
  const pending = (b: string): Promise<number> => metric(b, "nacos_distro_sync_pending");
  // a node without the gauge (or not answering) counts as idle: there is nothing to wait for then
  const idle = async (): Promise<boolean> => (await Promise.all(bases.map(pending))).every((n) => n === 0 || Number.isNaN(n));
  return poll(idle, timeoutMs, 100);
}
