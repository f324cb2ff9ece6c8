/**
 * The metrics prom-client keeps: Node's process metrics (CPU, resident memory, heap, GC, event-loop lag, handles,
 * file descriptors) and the HTTP request duration histogram.
 *
 * The histogram is Spring's `http_server_requests_seconds` with the labels Nacos's Java server gives it (Micrometer's
 * `method`, `uri`, `status`), so dashboards built for Nacos read it: `uri` is the route's pattern without the
 * `/nacos` context path (both `/nacos/v1/ns/instance` and `/v1/ns/instance` are `/v1/ns/instance`, as Nacos
 * reports it), never the URL asked for, and every request that matches no route is `NOT_FOUND` (Micrometer's
 * value), so no client can add series by asking for new URLs.
 */
import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { CONTEXT_PATHS } from "../transport/http-common.js";

export const HTTP_REQUESTS_METRIC = "http_server_requests_seconds";
/** The `uri` of a request that matched no route. */
export const UNMATCHED_URI = "NOT_FOUND";

let processRegistry: Registry | undefined;

/**
 * The process's registry, one per process whatever number of HTTP apps it runs (tests run many): the default
 * metrics describe the process, and each collection starts a GC observer and an event-loop monitor that are never
 * stopped.
 */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const CONTEXT_PREFIXES = CONTEXT_PATHS.filter((p) => p !== "");

/** A route pattern as Nacos's `uri` label names it: without the context path. */
function uriOf(route: string): string {
  const prefix = CONTEXT_PREFIXES.find((p) => route.startsWith(`${p}/`));
  return prefix === undefined ? route : route.slice(prefix.length);
}

/**
 * Times every request `app` answers into its own histogram (an app's registry is its own, so apps in one process
 * never mix), and returns the text of that histogram and the process's metrics.
 */
export function instrumentHttp(app: FastifyInstance): () => Promise<string> {
  const registry = new Registry();
  const requests = new Histogram({
    name: HTTP_REQUESTS_METRIC,
    help: "HTTP requests answered, by method, route (uri) and status, in seconds",
    labelNames: ["method", "uri", "status"] as const,
    registers: [registry],
  });
  // Route pattern → label: a bounded map (one entry per route), so a request costs a lookup, not a new string.
  const uris = new Map<string, string>();
  const uriLabel = (route: string | undefined): string => {
    if (route === undefined) return UNMATCHED_URI;
    const known = uris.get(route);
    if (known !== undefined) return known;
    const uri = uriOf(route);
    uris.set(route, uri);
    return uri;
  };
  app.addHook("onResponse", async (req, reply) => {
    const labels = { method: req.method, uri: uriLabel(req.routeOptions.url), status: reply.statusCode };
    requests.observe(labels, reply.elapsedTime / 1000);
  });
  const process = processMetrics();
  return async () => `${await registry.metrics()}${await process.metrics()}`;
}
