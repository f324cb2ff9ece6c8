/**
 * Client reads of the registry on a node whose registry is not complete yet answer 503. A node loading what its
 * peers hold (at start; also restarted from its data directory, when it holds its persistent instances and none
 * of the ephemeral ones) would otherwise answer 200 with some of a service's instances or none — and a 1.x SDK
 * believes a 200: its subscribers are told providers are gone that are not. Any other status makes the SDKs ask
 * the next server (Java 1.x NamingProxy.reqApi and nacos-naming's `_reqAPI` try each server in turn and keep
 * their cached answer when all fail), as Nacos 1.4 answers every client 503 while STARTING. Writes still pass
 * (versions decide), and so do peers.
 */
import type { FastifyRequest } from "fastify";
import { NacosError } from "../core/errors.js";
import type { NodeContext } from "./context.js";
import { fromPeer } from "./request-info.js";

/** Routes that answer from the registry, each with the methods that read (undefined: every method). */
export type RegistryReads = ReadonlyMap<string, readonly string[] | undefined>;

/** The 1.x naming routes that answer from the registry. */
const REGISTRY_READS: RegistryReads = new Map([
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

function readsRegistry(reads: RegistryReads, path: string, method: string): boolean {
  if (!reads.has(path)) return false;
  const methods = reads.get(path);
  return methods === undefined || methods.includes(method);
}

/**
 * An onRequest hook for the routes under `prefix` (`reads`: the 1.x naming routes unless told): a 503 NacosError
 * for client reads of the registry until the node's registry is complete, answered by the scope's error handler
 * (plain text under `/v1`, 2.x's envelope under `/v2`).
 */
export function refuseIncompleteReads(ctx: NodeContext, prefix: string, reads: RegistryReads = REGISTRY_READS) {
  return async (req: FastifyRequest): Promise<void> => {
    if (ctx.node.registryComplete) return;
    const route = req.routeOptions.url ?? "";
    if (!route.startsWith(prefix) || !readsRegistry(reads, route.slice(prefix.length), req.method) || fromPeer(req, ctx.peerSecret)) return;
    const progress = ctx.node.loadProgress;
    const loaded = progress === undefined ? "" : ` (${progress.instancesDone} of ${progress.instancesTotal} instances so far)`;
    throw new NacosError(
      503,
      `server is STARTING now: it is still loading the registry its peers hold${loaded} and could answer with instances missing, please try again later or ask another server!`,
    );
  };
}
