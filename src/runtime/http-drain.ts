/**
 * How a stopping node's HTTP port winds down. Once the stop begins, fastify answers every new request — the
 * readiness probe included — 503 at once; the requests already in flight are finished (for at most
 * `timeoutMs`) while the port goes on listening, so a probe or a client meets a clear 503 rather than a
 * refused connection; then the port closes.
 */
import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";

export function finishInFlightOnClose(app: FastifyInstance, timeoutMs: number): void {
  const inFlight = new Set<ServerResponse>();
  app.server.on("request", (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
  });
  // preClose runs after fastify starts refusing new requests with 503 and before it stops listening.
  app.addHook("preClose", async () => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all([...inFlight].map((res) => once(res, "close"))), deadline]);
    clearTimeout(timer);
  });
}
