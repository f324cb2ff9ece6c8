/**
 * `/v2/core/loader/*` (under `/nacos` too): Nacos 2.x's operator endpoints for 2.x client connections — this
 * node's connections, every member's connection count, and moving connections to other members with
 * `ConnectResetRequest` (the clients reconnect, to the member named when one is). Administrators only, with auth on.
 *
 * Each member knows its own connections; the others' counts come from their member reports. A rebalance of the
 * cluster (`smartReloadCluster`) asks each over-loaded member, over HTTP with the caller's own credentials, to
 * reload down to the limit (this node does its own part directly).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { normalizeAddress, splitAddress } from "../core/address.js";
import { badRequest } from "../core/errors.js";
import type { ClientPortControl, NodeContext } from "./context.js";
import { paramsOf, parseFloatParam, parseInteger, type Params } from "./params.js";

/** Nacos's `RemoteUtils.LOADER_FACTOR`: members within ±10 % of the average are left alone. */
const LOADER_FACTOR = 0.1;
/** How long the rebalance waits for a member it asks to reload. */
const MEMBER_TIMEOUT_MS = 3_000;

interface MemberLoad {
  readonly address: string;
  readonly count: number;
}

function portOf(ctx: NodeContext): ClientPortControl {
  if (ctx.clientPort === undefined) throw badRequest("the 2.x client port is off on this node (--client-grpc-port off)");
  return ctx.clientPort;
}

/** `redirectAddress` (a member's `ip:port`), when given. */
function redirectOf(p: Params): { ip: string; port: number } | undefined {
  if (!p.has("redirectAddress")) return undefined;
  const raw = p.raw("redirectAddress")!;
  let address: string;
  try {
    address = normalizeAddress(raw);
  } catch {
    throw badRequest(`Param 'redirectAddress' must be ip:port, current: ${raw}`);
  }
  const { host, port } = splitAddress(address);
  return { ip: host, port };
}

/** Every member's connection count that is known: this node's own, the others' from their reports. */
function loads(ctx: NodeContext): MemberLoad[] {
  const { members, selfAddress } = ctx.node.cluster();
  const own = ctx.clientPort?.connections().length ?? 0;
  return members
    .flatMap((m): MemberLoad[] => {
      if (m.address === selfAddress) return [{ address: m.address, count: own }];
      const count = m.state === "DOWN" ? undefined : m.info?.connectionCount;
      return count === undefined ? [] : [{ address: m.address, count }];
    })
    .sort((a, b) => a.address.localeCompare(b.address));
}

/** Nacos's `loadCount`: resets this node's connections beyond `count`, to `redirect` if given; how many it reset. */
function reloadTo(port: ClientPortControl, count: number, redirect: { ip: string; port: number } | undefined): number {
  const surplus = port.connections().slice(count);
  // Answered at once, as Nacos answers; each reset waits for its client on its own.
  for (const c of surplus) void port.reset(c.id, redirect);
  return surplus.length;
}

/** The credentials the caller used, passed on to a member it is asked to reload (an administrator's). */
function credentialHeaders(req: FastifyRequest): Record<string, string> {
  const p = paramsOf(req);
  const headers: Record<string, string> = {};
  if (req.headers.authorization !== undefined) headers.authorization = req.headers.authorization;
  else if (p.has("accessToken")) headers.authorization = `Bearer ${p.raw("accessToken")!}`;
  return headers;
}

export function loaderRoutes(app: FastifyInstance, ctx: NodeContext): void {
  app.get("/current", async () => {
    const out: Record<string, unknown> = {};
    for (const c of ctx.clientPort?.connections() ?? []) {
      out[c.id] = {
        metaInfo: {
          connectionId: c.id,
          clientIp: c.clientIp,
          remoteIp: c.clientIp,
          remotePort: c.clientPort,
          version: c.clientVersion,
          namespaceId: c.namespace,
          appName: c.appName,
          labels: c.labels,
          createTime: c.connectedAt,
        },
      };
    }
    return out;
  });

  app.get("/cluster", async () => {
    const known = loads(ctx);
    const counts = known.map((l) => l.count);
    const total = counts.reduce((a, b) => a + b, 0);
    const avg = known.length === 0 ? 0 : Math.floor(total / known.length);
    const memberCount = ctx.node.cluster().members.length;
    return {
      detail: known.map((l) => ({ address: l.address, metric: { conCount: String(l.count), sdkConCount: String(l.count) } })),
      memberCount,
      metricsCount: known.length,
      completed: known.length === memberCount,
      max: counts.length === 0 ? 0 : Math.max(...counts),
      min: counts.length === 0 ? -1 : Math.min(...counts),
      avg,
      threshold: avg * 1.1,
      total,
    };
  });

  app.get("/reloadCurrent", async (req, reply) => {
    const p = paramsOf(req);
    const count = parseInteger(p.required("count"));
    if (count < 0) throw badRequest(`Param 'count' must be at least 0, current: ${count}`);
    reloadTo(portOf(ctx), count, redirectOf(p));
    return reply.type("text/plain; charset=utf-8").send("success");
  });

  app.get("/reloadClient", async (req, reply) => {
    const p = paramsOf(req);
    const connectionId = p.required("connectionId");
    await portOf(ctx).reset(connectionId, redirectOf(p));
    return reply.type("text/plain; charset=utf-8").send("success");
  });

  app.get("/smartReloadCluster", async (req, reply) => {
    const p = paramsOf(req);
    const factor = p.has("loaderFactor") ? parseFloatParam(p.raw("loaderFactor")!) : LOADER_FACTOR;
    if (!(factor >= 0 && factor < 1)) throw badRequest(`Param 'loaderFactor' must be in [0, 1), current: ${factor}`);
    const known = loads(ctx);
    const total = known.reduce((a, l) => a + l.count, 0);
    const avg = known.length === 0 ? 0 : Math.floor(total / known.length);
    const overLimit = Math.floor(avg * (1 + factor));
    const lowLimit = Math.floor(avg * (1 - factor));
    const over = known.filter((l) => l.count > overLimit).sort((a, b) => b.count - a.count);
    const low = known.filter((l) => l.count < lowLimit).sort((a, b) => a.count - b.count);
    const self = ctx.node.cluster().selfAddress;
    let ok = true;
    for (let i = 0; i < over.length && i < low.length; i++) {
      const { host, port } = splitAddress(low[i]!.address);
      if (over[i]!.address === self) {
        reloadTo(portOf(ctx), overLimit, { ip: host, port });
        continue;
      }
      const query = new URLSearchParams({ count: String(overLimit), redirectAddress: low[i]!.address });
      const answer = await fetch(`http://${over[i]!.address}/nacos/v2/core/loader/reloadCurrent?${query}`, {
        headers: credentialHeaders(req),
        signal: AbortSignal.timeout(MEMBER_TIMEOUT_MS),
      }).catch(() => undefined);
      if (answer?.status !== 200) ok = false;
    }
    return reply.type("text/plain; charset=utf-8").send(ok ? "Ok" : "Fail");
  });
}
