/** What a request says about who sent it. */
import type { FastifyRequest } from "fastify";
import { plainIp } from "../core/address.js";
import { CLUSTER_SECRET_HEADER, secretMatches } from "../transport/peer-secret.js";

/** 1.4 identifies clients by User-Agent, falling back to Client-Version. */
export function agentOf(req: FastifyRequest): string {
  const ua = req.headers["user-agent"];
  const cv = req.headers["client-version"];
  const pick = (h: string | string[] | undefined): string => (Array.isArray(h) ? (h[0] ?? "") : (h ?? ""));
  return pick(ua) || pick(cv);
}

/**
 * A request proxied by a peer (1.4's DistroFilter sends `Nacos-Server` as its agent): it is executed here,
 * never forwarded again, and passes the server-status filter. Anyone can write that agent, so in a secured
 * cluster a request counts as a peer's only when it also carries the cluster secret (our forwards and 1.4
 * peers with `nacos.core.auth.server.identity.*` set send it).
 */
export function fromPeer(req: FastifyRequest, secret: string | undefined): boolean {
  if (!agentOf(req).includes("Nacos-Server")) return false;
  return secret === undefined || secretMatches(req.headers[CLUSTER_SECRET_HEADER.toLowerCase()], secret);
}

/**
 * The client's address: the socket's, or behind a proxy listed in `--trusted-proxies` the client its
 * X-Forwarded-For names (fastify's `trustProxy`); never what the request body or query claims.
 */
export const remoteIp = (req: FastifyRequest): string => plainIp(req.ip);
