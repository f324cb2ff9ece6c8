/**
 * `/v1/core/cluster/*` (served under `/nacos` too), answering Nacos's RestResult `{code, message, data}`.
 * The member report itself belongs to the peer transports (gRPC, or the legacy HTTP routes).
 */
import type { FastifyInstance } from "fastify";
import type { NodeContext } from "./context.js";
import { membersJson, selfJson } from "./member-view.js";
import { Params } from "./params.js";

const ok = (data: unknown) => ({ code: 200, message: null, data });

export function clusterRoutes(app: FastifyInstance, ctx: NodeContext): void {
  app.get("/self", async () => ok(selfJson(ctx)));
  app.get("/nodes", async (req) => {
    const keyword = Params.of(req.query, undefined).optional("keyword", "");
    return ok(membersJson(ctx).filter((m) => m.address.startsWith(keyword)));
  });
  app.get("/simple/nodes", async () =>
    ok(
      ctx.node
        .cluster()
        .members.filter((m) => m.state === "UP")
        .map((m) => m.address),
    ),
  );
  app.get("/health", async () => ok(selfJson(ctx).state));
}
