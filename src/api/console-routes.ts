/** Probes and metrics for orchestrators and monitoring. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { NodeContext } from "./context.js";
import { prometheusText } from "./metrics.js";

const TEXT = "text/plain; charset=utf-8";
const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
/** What Spring Boot's actuator answers a client that accepts anything; `application/json` to one that asks for it. */
const ACTUATOR_JSON = "application/vnd.spring-boot.actuator.v3+json";

/** Why the node is not ready (it answers clients only partly or not at all); undefined when it is. */
function notReadyReason(ctx: NodeContext): string | undefined {
  if (ctx.node.ready) return ctx.node.secretMismatch;
  const failure = ctx.node.dataFailure;
  if (ctx.node.isStopping) return "shutting down";
  return failure !== undefined ? `the data directory failed: ${failure}` : "still loading the registry from peers";
}

/** A Spring Boot actuator health answer: `{"status":...}`, 503 for any status but UP (Spring's status mapping). */
function actuatorHealth(req: FastifyRequest, reply: FastifyReply, status: "UP" | "DOWN" | "OUT_OF_SERVICE"): FastifyReply {
  const type = (req.headers.accept ?? "").includes("application/json") ? "application/json" : ACTUATOR_JSON;
  return reply
    .code(status === "UP" ? 200 : 503)
    .type(type)
    .send(JSON.stringify({ status }));
}

/**
 * `promClientText` is the text of the metrics prom-client keeps (prom-client-metrics.ts), appended to the node's.
 * Like Nacos's, none of these routes asks for credentials: they are registered outside every guarded scope.
 */
export function consoleRoutes(app: FastifyInstance, ctx: NodeContext, promClientText: () => Promise<string>): void {
  app.get("/nacos/v1/console/health/liveness", async (_req, reply) => reply.type(TEXT).send("OK"));
  app.get("/nacos/v1/console/health/readiness", async (_req, reply) => {
    const reason = notReadyReason(ctx);
    if (reason === undefined) return reply.type(TEXT).send("OK");
    return reply.code(503).type(TEXT).send(`not ready: ${reason}`);
  });
  // Nacos's Spring Boot actuator: the overall status (DOWN until ready), and the liveness and readiness groups
  // Spring Boot adds on Kubernetes (readiness OUT_OF_SERVICE until ready).
  app.get("/nacos/actuator/health", async (req, reply) => actuatorHealth(req, reply, notReadyReason(ctx) === undefined ? "UP" : "DOWN"));
  app.get("/nacos/actuator/health/liveness", async (req, reply) => actuatorHealth(req, reply, "UP"));
  app.get("/nacos/actuator/health/readiness", async (req, reply) =>
    actuatorHealth(req, reply, notReadyReason(ctx) === undefined ? "UP" : "OUT_OF_SERVICE"),
  );
  for (const path of ["/nacos/actuator/prometheus", "/metrics"]) {
    app.get(path, async (_req, reply) => {
      const own = prometheusText(ctx.node.stats(), ctx.processStats?.());
      return reply.type(PROMETHEUS_TEXT).send(`${own}${await promClientText()}`);
    });
  }
}
