/** Probes and metrics for orchestrators and monitoring. */
import type { FastifyInstance } from "fastify";
import { gauge } from "./metrics.js";
import type { NodeContext } from "./context.js";

function prometheus(ctx: NodeContext): string {
  return (
    gauge("nacos_naming_service_count", "Live services held by this node", ctx.registry.serviceCount) +
    gauge("nacos_naming_instance_count", "Live instances held by this node", ctx.registry.instanceCount) +
    ctx.status.metricsText()
  );
}

export function consoleRoutes(app: FastifyInstance, ctx: NodeContext): void {
  const text = "text/plain; charset=utf-8";
  app.get("/nacos/v1/console/health/liveness", async (_req, reply) => reply.type(text).send("OK"));
  app.get("/nacos/v1/console/health/readiness", async (_req, reply) => {
    if (ctx.status.ready()) return reply.type(text).send("OK");
    const reason = ctx.status.stopping() ? "shutting down" : "still loading the registry from peers";
    return reply.code(503).type(text).send(`not ready: ${reason}`);
  });
  for (const path of ["/nacos/actuator/prometheus", "/metrics"]) {
    app.get(path, async (_req, reply) => reply.type("text/plain; version=0.0.4; charset=utf-8").send(prometheus(ctx)));
  }
}
