/**
 * Nacos 2.x's v2 naming OpenAPI (Nacos ≥ 2.2) under `/nacos/v2/ns` — and, like every path here, without the
 * context path (2.x serves its context path, `/nacos` unless configured otherwise): instances, services,
 * health, clients, switches and metrics, the catalog's instances. Answers are 2.x's `{code, message, data}`
 * (result.ts) and so are refusals, with 2.x's statuses and detail codes (refusals.ts). The parameters, the
 * writes, authorization and the 503 while the registry loads are the 1.x API's.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { CONTEXT_PATHS, isServerFailure, JSON_TYPE } from "../../transport/http-common.js";
import { v2NamingAccess } from "../auth/access-rules.js";
import type { Protect } from "../auth/auth.js";
import type { NodeContext } from "../context.js";
import { refuseIncompleteReads, type RegistryReads } from "../incomplete-view.js";
import { catalogRoutes } from "./catalog-routes.js";
import { clientRoutes } from "./client-routes.js";
import { ClientDirectory } from "./clients.js";
import { healthRoutes } from "./health-routes.js";
import { instanceRoutes } from "./instance-routes.js";
import { operatorRoutes } from "./operator-routes.js";
import { refusalOf } from "./refusals.js";
import { ApiError } from "./result.js";
import { serviceRoutes } from "./service-routes.js";

export const V2_NAMING_PREFIXES = CONTEXT_PATHS.map((p) => `${p}/v2/ns`);

/** The v2 routes that answer from the registry (DELETE /service checks that the service is empty). */
const REGISTRY_READS: RegistryReads = new Map([
  ["/instance", ["GET"]],
  ["/instance/list", undefined],
  ["/service", ["GET", "DELETE"]],
  ["/service/list", undefined],
  ["/catalog/instances", undefined],
  ["/client/list", undefined],
  ["/client", undefined],
  ["/client/publish/list", undefined],
  ["/client/subscribe/list", undefined],
  ["/client/service/publisher/list", undefined],
]);

function onError(ctx: NodeContext, bodyLimit: number) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (!(err instanceof ApiError) && isServerFailure(err)) req.log.error({ err, node: ctx.node.cluster().selfAddress }, "request failed");
    const refusal = refusalOf(err, undefined, bodyLimit);
    return reply.code(refusal.status).type(JSON_TYPE).send(refusal.result);
  };
}

export function v2NamingApi(app: FastifyInstance, ctx: NodeContext, protect: Protect): void {
  const clients = new ClientDirectory(ctx);
  for (const prefix of V2_NAMING_PREFIXES) {
    void app.register(
      async (scope) => {
        scope.setErrorHandler(onError(ctx, app.initialConfig.bodyLimit ?? 0));
        // Before authentication: a request refused anyway costs no password check.
        scope.addHook("onRequest", refuseIncompleteReads(ctx, prefix, REGISTRY_READS));
        protect(scope, v2NamingAccess);
        instanceRoutes(scope, ctx);
        serviceRoutes(scope, ctx);
        healthRoutes(scope, ctx);
        clientRoutes(scope, clients);
        operatorRoutes(scope, ctx, clients);
        catalogRoutes(scope, ctx);
      },
      { prefix },
    );
  }
}
