/**
 * `/health*` and `/cluster`: how instances' health is decided. A cluster's settings (`PUT /cluster`) choose the
 * server-side check of its persistent instances (TCP, HTTP, or NONE); only where it is NONE may clients set
 * health themselves (`PUT /health/instance`), as in Nacos 1.4.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  DEFAULT_CLUSTER_SETTINGS,
  DEFAULT_HTTP_CHECKER,
  healthCheckerFromJson,
  refuseReservedHeaders,
  type HealthChecker,
} from "../core/cluster-settings.js";
import { badRequest } from "../core/errors.js";
import { MAX_PORT } from "../core/instance.js";
import type { ClientWrite } from "../core/ops.js";
import { writeOk } from "./client-write.js";
import type { NodeContext } from "./context.js";
import { paramsOf, parseBool, parseClusterName, parseInteger, parseMetadata, serviceOf, type Params } from "./params.js";
import { setHealthOf } from "./write-params.js";

/** Far above any valid checker (its path and headers are bounded), so parsing never sees a huge text. */
const MAX_CHECKER_JSON = 8192;

/** What `GET /health/checkers` lists: each supported type with its defaults (1.4 lists MYSQL too). */
const CHECKERS: Readonly<Record<string, HealthChecker>> = {
  TCP: DEFAULT_CLUSTER_SETTINGS.healthChecker,
  HTTP: DEFAULT_HTTP_CHECKER,
  NONE: { type: "NONE" },
};

function parseChecker(text: string): HealthChecker {
  const where = "Param 'healthChecker'";
  if (text.length > MAX_CHECKER_JSON) throw badRequest(`${where} is longer than ${MAX_CHECKER_JSON} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(`${where} must be JSON like {"type":"TCP"}, {"type":"HTTP","path":"/health"} or {"type":"NONE"}, current: ${text}`);
  }
  return refuseReservedHeaders(healthCheckerFromJson(parsed, where));
}

function parseCheckPort(text: string): number {
  const port = parseInteger(text.trim());
  if (port < 0 || port > MAX_PORT) throw badRequest(`Param 'checkPort' must be an integer in [0, ${MAX_PORT}], current: ${text}`);
  return port;
}

/** 1.4's ClusterController.update parameters: everything but the metadata is required. */
function updateClusterOf(p: Params): ClientWrite {
  return {
    type: "updateCluster",
    service: serviceOf(p),
    clusterName: parseClusterName(p.required("clusterName")),
    settings: {
      healthChecker: parseChecker(p.required("healthChecker")),
      checkPort: parseCheckPort(p.required("checkPort")),
      useInstancePort4Check: parseBool("useInstancePort4Check", p.required("useInstancePort4Check")),
      metadata: parseMetadata(p.optional("metadata", "")),
    },
  };
}

export function healthRoutes(app: FastifyInstance, ctx: NodeContext): void {
  const write = (op: (p: Params) => ClientWrite) => (req: FastifyRequest, reply: FastifyReply) =>
    writeOk(ctx, req, reply, op(paramsOf(req)));
  for (const path of ["/health", "/health/instance"]) app.put(path, write(setHealthOf));
  app.put("/cluster", write(updateClusterOf));
  app.all("/health/server", async () => ({
    msg: `Hello! I am Nacos-Naming and healthy! total services: ${ctx.node.registry.serviceCount}, local address:${ctx.node.cluster().selfAddress}`,
  }));
  app.get("/health/checkers", async () => CHECKERS);
}
