/**
 * `/v2/ns/operator*` (and 2.x's alias `/v2/ns/ops*`), 2.x's OperatorControllerV2: the switches and the node's
 * metrics. A switch refused for its entry or value is a 400 here (2.x answers it as a server error, 500).
 */
import type { FastifyInstance } from "fastify";
import type { NodeContext } from "../context.js";
import { hostLoad, statusOf } from "../operator-routes.js";
import { optionalBool, paramsOf } from "../params.js";
import type { ClientDirectory } from "./clients.js";
import { success } from "./result.js";

/** 2.x's MetricsInfoVo: the status alone unless `onlyStatus=false`. */
async function metrics(ctx: NodeContext, clients: ClientDirectory, onlyStatus: boolean) {
  const status = statusOf(ctx);
  if (onlyStatus) return { status };
  const counts = await clients.counts();
  return {
    status,
    serviceCount: ctx.node.registry.serviceCount,
    instanceCount: ctx.node.registry.instanceCount,
    subscribeCount: clients.subscriptionCount(),
    clientCount: counts.clients,
    connectionBasedClientCount: counts.connections,
    ephemeralIpPortClientCount: counts.ephemeralIpPort,
    persistentIpPortClientCount: counts.persistentIpPort,
    responsibleClientCount: counts.responsible,
    ...hostLoad(),
  };
}

export function operatorRoutes(app: FastifyInstance, ctx: NodeContext, clients: ClientDirectory): void {
  for (const base of ["/operator", "/ops"]) {
    app.get(`${base}/switches`, async () => success(ctx.node.switches));
    app.put(`${base}/switches`, async (req) => {
      const p = paramsOf(req);
      await ctx.node.updateSwitch(p.required("entry"), p.required("value"));
      return success("ok");
    });
    app.get(`${base}/metrics`, async (req) => success(await metrics(ctx, clients, optionalBool(paramsOf(req), ["onlyStatus"], true))));
  }
}
