/**
 * The client-facing HTTP server: Nacos 1.x's naming OpenAPI under `/nacos/v1/ns` and `/v1/ns`, 2.x's v2 naming
 * OpenAPI (v2/, with its own envelope), the core cluster endpoints, probes and metrics. Parsing and answers follow
 * Nacos 1.4; every refusal is a NacosError mapped here to its status and plain-text message, and nothing a
 * request contains can crash the process.
 */
import type { Server } from "node:http";
import formbody from "@fastify/formbody";
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyHttpOptions,
} from "fastify";
import type { Logger } from "pino";
import { clusterAccess, namespaceAccess, namingAccess } from "./auth/access-rules.js";
import { setUpAuth } from "./auth/auth.js";
import { catalogRoutes } from "./catalog-routes.js";
import { clusterRoutes } from "./cluster-routes.js";
import { consolePage } from "./console-page.js";
import { consoleRoutes } from "./console-routes.js";
import type { NodeContext } from "./context.js";
import { healthRoutes } from "./health-routes.js";
import { refuseIncompleteReads } from "./incomplete-view.js";
import { instanceRoutes } from "./instance-routes.js";
import { loaderRoutes } from "./loader-routes.js";
import { namespaceRoutes } from "./namespace-routes.js";
import { operatorRoutes } from "./operator-routes.js";
import { instrumentHttp } from "./prom-client-metrics.js";
import { CONTEXT_PATHS, isServerFailure, sendError, TEXT } from "../transport/http-common.js";
import { fromPeer } from "./request-info.js";
import { serviceRoutes } from "./service-routes.js";
import { v2NamingApi } from "./v2/naming-api.js";

/** What the HTTP server allows a connection (slowloris and idle-connection bounds). */
export interface HttpLimits {
  /** Time to receive a request's headers. */
  readonly headersTimeoutMs: number;
  /** Time to receive a whole request, body included. */
  readonly requestTimeoutMs: number;
  /** Idle time a keep-alive connection is kept between requests. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections at once; more are closed on arrival. */
  readonly maxConnections: number;
}

export interface HttpAppOptions {
  /** A pino logger for request logs; none (silent) when omitted. */
  readonly logger?: Logger;
  /** Largest accepted request body in bytes (413 above it). */
  readonly bodyLimit?: number;
  /** Timeouts and the connection cap (see RuntimeConfig); Node's defaults when omitted (tests). */
  readonly limits?: HttpLimits;
  /** Proxies whose X-Forwarded-For names the real client (and so the address UDP pushes go to). */
  readonly trustedProxies?: readonly string[];
}

export const NAMING_PREFIXES = CONTEXT_PATHS.map((p) => `${p}/v1/ns`);
const CLUSTER_PREFIXES = CONTEXT_PATHS.map((p) => `${p}/v1/core/cluster`);
const LOADER_PREFIXES = CONTEXT_PATHS.map((p) => `${p}/v2/core/loader`);

const pathOf = (url: string): string => url.split("?")[0] ?? url;
const isNamingPath = (path: string): boolean => NAMING_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));
/** Peer endpoints pass the traffic filter whatever the server status, as in 1.4. */
const isPeerPath = (path: string): boolean => /\/v1\/ns\/(distro\/|service\/status$)/.test(path);

function onError(ctx: NodeContext, app: FastifyInstance) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (isServerFailure(err)) req.log.error({ err, node: ctx.node.cluster().selfAddress }, "request failed");
    return sendError(reply, err, app.initialConfig.bodyLimit ?? 0);
  };
}

/** 1.4's TrafficReviseFilter: a node whose status is not UP turns clients away (peers still pass). */
function trafficFilter(ctx: NodeContext) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const status = ctx.node.serverStatus;
    if (status === "UP") return;
    const path = pathOf(req.url);
    if (!isNamingPath(path) || isPeerPath(path) || fromPeer(req, ctx.peerSecret)) return;
    if (status === "WRITE_ONLY" && req.method !== "GET") return;
    if (status === "READ_ONLY" && req.method === "GET") return;
    await reply.code(503).type(TEXT).send(`server is ${status}now, please try again later!`);
  };
}

/**
 * Server settings that bound what one connection may hold: the time to send headers and a whole request (a
 * slowloris client is cut), the idle time of a keep-alive connection, and socket inactivity.
 */
function serverOptions(
  limits: HttpLimits | undefined,
): Pick<FastifyHttpOptions<Server>, "requestTimeout" | "keepAliveTimeout" | "connectionTimeout" | "http"> {
  if (limits === undefined) return {};
  return {
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionTimeout: limits.requestTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
  };
}

export function createHttpApp(ctx: NodeContext, options: HttpAppOptions = {}): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const base = {
    bodyLimit,
    ...serverOptions(options.limits),
    ...(options.trustedProxies === undefined || options.trustedProxies.length === 0 ? {} : { trustProxy: [...options.trustedProxies] }),
  } as const;
  const app: FastifyInstance =
    options.logger === undefined
      ? Fastify({ ...base, logger: false })
      : // Beats arrive every 5 s per instance: per-request lines would drown everything else.
        (Fastify({
          ...base,
          loggerInstance: options.logger,
          logController: new LogController({ disableRequestLogging: true }),
        }) as unknown as FastifyInstance);
  if (options.limits !== undefined) app.server.maxConnections = options.limits.maxConnections;
  void app.register(formbody);
  // Nacos clients send odd or absent content types; a body that is not a form is simply not parameters.
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, _body, done) => done(null, undefined));
  const promClientText = instrumentHttp(app);
  app.setErrorHandler(onError(ctx, app));
  app.setNotFoundHandler((req, reply) => {
    const path = pathOf(req.url);
    if (isNamingPath(path)) return reply.code(501).type(TEXT).send(`no such api:${req.method}:${path}`);
    return reply.code(404).type(TEXT).send(`no such path: ${req.method} ${path}`);
  });
  app.addHook("onRequest", trafficFilter(ctx));
  const protect = setUpAuth(app, ctx);
  for (const prefix of NAMING_PREFIXES) {
    void app.register(
      async (scope) => {
        // Before authentication: a request refused anyway costs no password check.
        scope.addHook("onRequest", refuseIncompleteReads(ctx, prefix));
        protect(scope, namingAccess);
        instanceRoutes(scope, ctx);
        serviceRoutes(scope, ctx);
        operatorRoutes(scope, ctx);
        healthRoutes(scope, ctx);
        catalogRoutes(scope, ctx);
      },
      { prefix },
    );
  }
  for (const prefix of CLUSTER_PREFIXES) {
    void app.register(
      async (scope) => {
        protect(scope, clusterAccess);
        clusterRoutes(scope, ctx);
      },
      { prefix },
    );
  }
  for (const prefix of LOADER_PREFIXES) {
    void app.register(
      async (scope) => {
        // Moving clients between members is the operator's.
        protect(scope, () => "admin");
        loaderRoutes(scope, ctx);
      },
      { prefix },
    );
  }
  v2NamingApi(app, ctx, protect);
  consoleRoutes(app, ctx, promClientText);
  void app.register(async (scope) => {
    protect(scope, namespaceAccess);
    namespaceRoutes(scope, ctx);
  });
  consolePage(app);
  return app;
}
