/**
 * `/v2/ns/health[/instance]`, 2.x's HealthControllerV2: a client sets an instance's health where its cluster is
 * checked by nobody (checker NONE), through the same write as `/v1/ns/health`.
 */
import type { FastifyInstance } from "fastify";
import type { NodeContext } from "../context.js";
import { paramsOf } from "../params.js";
import { setHealthOf } from "../write-params.js";
import { ErrorCode, success } from "./result.js";
import { write } from "./write.js";

export function healthRoutes(app: FastifyInstance, ctx: NodeContext): void {
  for (const path of ["/health", "/health/instance"]) {
    app.put(path, async (req) => {
      // 2.x answers a missing service as it answers a checked cluster: "health check is still working", a server error.
      await write(ctx, req, setHealthOf(paramsOf(req)), ErrorCode.SERVER_ERROR);
      return success("ok");
    });
  }
}
