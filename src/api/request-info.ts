/** What a request says about who sent it. */
import type { FastifyRequest } from "fastify";

/** 1.4 identifies clients by User-Agent, falling back to Client-Version. */
export function agentOf(req: FastifyRequest): string {
  const ua = req.headers["user-agent"];
  const cv = req.headers["client-version"];
  const pick = (h: string | string[] | undefined): string => (Array.isArray(h) ? (h[0] ?? "") : (h ?? ""));
  return pick(ua) || pick(cv);
}

/** A request proxied by a peer (1.4's DistroFilter sends `Nacos-Server` as its agent): never forward it again. */
export const fromPeer = (req: FastifyRequest): boolean => agentOf(req).includes("Nacos-Server");

/** The client's address as the socket sees it, for a `clientIP` the client left empty. */
export const remoteIp = (req: FastifyRequest): string => req.ip.replace(/^::ffff:/, "");
