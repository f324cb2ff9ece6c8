/** Probes and metrics for orchestrators and monitoring. */
import type { FastifyInstance } from "fastify";
import type { NodeContext } from "./context.js";
import { prometheusText } from "./metrics.js";

export function consoleRoutes(app: FastifyInstance, ctx: NodeContext): void {
  const text = "text/plain; charset=utf-8";
  app.get("/nacos/v1/console/health/liveness", async (_req, reply) => reply.type(text).send("OK"));
  app.get("/nacos/v1/console/health/readiness", async (_req, reply) => {
    const mismatch = ctx.node.secretMismatch;
    if (ctx.node.ready && mismatch === undefined) return reply.type(text).send("OK");
    if (ctx.node.ready) return reply.code(503).type(text).send(`not ready: ${mismatch}`);
    const failure = ctx.node.dataFailure;
    const reason = ctx.node.isStopping
      ? "shutting down"
      : failure !== undefined
        ? `the data directory failed: ${failure}`
        : "still loading the registry from peers";
    return reply.code(503).type(text).send(`not ready: ${reason}`);
  });
  for (const path of ["/nacos/actuator/prometheus", "/metrics"]) {
    app.get(path, async (_req, reply) =>
      reply.type("text/plain; version=0.0.4; charset=utf-8").send(prometheusText(ctx.node.stats(), ctx.processStats?.())),
    );
  }
}
