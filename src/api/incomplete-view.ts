/**
 * Client reads of the registry on a node whose registry is not complete yet answer 503. A node loading what its
 * peers hold (at start; also restarted from its data directory, when it holds its persistent instances and none
 * of the ephemeral ones) would otherwise answer 200 with some of a service's instances or none — and a 1.x SDK
 * believes a 200: its subscribers are told providers are gone that are not. Any other status makes the SDKs ask
 * the next server (Java 1.x NamingProxy.reqApi and nacos-naming's `_reqAPI` try each server in turn and keep
 * their cached answer when all fail), as Nacos 1.4 answers every client 503 while STARTING. Writes still pass
 * (versions decide), and so do peers.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { TEXT } from "../transport/http-common.js";
import type { NodeContext } from "./context.js";
import { fromPeer } from "./request-info.js";

/** The naming routes that answer from the registry, with the methods that read (undefined: every method). */
const REGISTRY_READS: ReadonlyMap<string, readonly string[] | undefined> = new Map([
  ["/instance", ["GET"]],
  ["/instance/list", undefined],
  ["/instance/statuses", undefined],
  ["/service", ["GET"]],
  ["/service/list", undefined],
  ["/service/names", undefined],
  ["/catalog/services", undefined],
  ["/catalog/service", undefined],
  ["/catalog/instances", undefined],
]);

function readsRegistry(path: string, method: string): boolean {
  if (!REGISTRY_READS.has(path)) return false;
  const methods = REGISTRY_READS.get(path);
  return methods === undefined || methods.includes(method);
}

/**
 * An onRequest hook for the naming routes under `prefix`: 503 for client reads of the registry until the node's
 * registry is complete.
 */
export function refuseIncompleteReads(ctx: NodeContext, prefix: string) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (ctx.node.registryComplete) return;
    const route = req.routeOptions.url ?? "";
    if (!route.startsWith(prefix) || !readsRegistry(route.slice(prefix.length), req.method) || fromPeer(req, ctx.peerSecret)) return;
    const progress = ctx.node.loadProgress;
    const loaded = progress === undefined ? "" : ` (${progress.instancesDone} of ${progress.instancesTotal} instances so far)`;
    await reply
      .code(503)
      .type(TEXT)
      .send(
        `server is STARTING now: it is still loading the registry its peers hold${loaded} and could answer with instances missing, please try again later or ask another server!`,
      );
  };
}
