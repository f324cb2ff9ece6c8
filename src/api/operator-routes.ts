/** `/operator*` (and its 1.4 alias `/ops*`): metrics, servers, switches, responsibility. */
import { createHash } from "node:crypto";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import type { FastifyInstance } from "fastify";
import { parseServiceKey } from "../core/naming.js";
import type { NodeContext } from "./context.js";
import { membersJson } from "./member-view.js";
import { optionalBool, serviceOf, paramsOf } from "./params.js";

/** What the SDKs' getServerStatus reads: a node refusing reads while it loads is not UP to them (1.4: STARTING). */
export const statusOf = (ctx: NodeContext): string => (ctx.node.registryComplete ? ctx.node.serverStatus : "STARTING");

/** The host's load as Nacos reports it: the 1-minute load per CPU, the load, the share of memory used. */
export const hostLoad = (): { cpu: number; load: number; mem: number } => ({
  cpu: loadavg()[0]! / Math.max(1, cpus().length),
  load: loadavg()[0]!,
  mem: 1 - freemem() / totalmem(),
});

function metrics(ctx: NodeContext): Record<string, unknown> {
  let responsibleServices = 0;
  let responsibleInstances = 0;
  for (const s of ctx.node.registry.services()) {
    if (s.deleted || !ctx.node.isResponsible(parseServiceKey(s.key).groupedName)) continue;
    responsibleServices++;
    responsibleInstances += s.size;
  }
  return {
    status: statusOf(ctx),
    serviceCount: ctx.node.registry.serviceCount,
    instanceCount: ctx.node.registry.instanceCount,
    raftNotifyTaskCount: 0,
    responsibleServiceCount: responsibleServices,
    responsibleInstanceCount: responsibleInstances,
    ...hostLoad(),
  };
}

/** A fingerprint of the whole registry: equal on two nodes iff they hold identical data. */
function registryDigest(ctx: NodeContext): { keys: number; instances: number; digest: string } {
  const hash = createHash("sha256");
  for (const key of ctx.node.registry.sortedKeys()) hash.update(`${key}\u0000${ctx.node.registry.service(key)!.digest}\n`);
  return { keys: ctx.node.registry.size, instances: ctx.node.registry.instanceCount, digest: hash.digest("hex") };
}

export function operatorRoutes(app: FastifyInstance, ctx: NodeContext): void {
  for (const base of ["/operator", "/ops"]) {
    app.get(`${base}/metrics`, async () => metrics(ctx));
    app.get(`${base}/servers`, async (req) => {
      const healthy = optionalBool(paramsOf(req), ["healthy"], false);
      return { servers: membersJson(ctx).filter((m) => !healthy || m.state === "UP") };
    });
    app.get(`${base}/switches`, async () => ctx.node.switches);
    app.put(`${base}/switches`, async (req, reply) => {
      const p = paramsOf(req);
      await ctx.node.updateSwitch(p.required("entry"), p.required("value"));
      return reply.type("text/plain; charset=utf-8").send("ok");
    });
    app.get(`${base}/distro/server`, async (req) => ({ responsibleServer: ctx.node.ownerOf(serviceOf(paramsOf(req)).groupedName) }));
    app.get(`${base}/distro/status`, async () => ({ status: membersJson(ctx) }));
    app.get(`${base}/distro/digest`, async () => registryDigest(ctx));
  }
}
