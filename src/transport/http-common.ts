/**
 * What both fastify faces of a node share — the client API (api/) and the Nacos 1.4 peer endpoints
 * (transport/nacos14/routes.ts): 1.4's context paths, reading parameters and addresses the way 1.4 does, and
 * one mapping of errors to statuses and plain-text bodies.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { plainIp } from "../core/address.js";
import { NacosError } from "../core/errors.js";
import { NotReadyError } from "../node/ports.js";

/** Every path is served under Nacos's context path and without it. */
export const CONTEXT_PATHS = ["/nacos", ""] as const;

export const TEXT = "text/plain; charset=utf-8";
export const JSON_TYPE = "application/json; charset=utf-8";

/** The first value of a repeated parameter, as a servlet's getParameter gives it. */
export function firstValue(v: unknown): string | undefined {
  if (Array.isArray(v)) return firstValue(v[0]);
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" ? v : String(v);
}

/** A query parameter as 1.4 reads it: the first value, trimmed; undefined when absent or blank. */
export function queryParam(req: FastifyRequest, name: string): string | undefined {
  const value = firstValue((req.query as Record<string, unknown> | undefined)?.[name])?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** The connection's own address: never a forwarded-for header, which a client can write. */
export const socketIp = (req: FastifyRequest): string => plainIp(req.socket.remoteAddress ?? "");

/**
 * How every failure is answered: a NacosError with its status and message, a fastify client error (body too
 * large, bad content type) with its own, anything else as 1.4's 500 `caused: ...;`. Returns undefined for the
 * last kind so the caller can log it.
 */
export function sendError(reply: FastifyReply, err: Error & { statusCode?: number; code?: string }, bodyLimit: number): FastifyReply {
  if (err instanceof NacosError) return reply.code(err.status).type(TEXT).send(err.message);
  if (err instanceof NotReadyError) return reply.code(503).type(TEXT).send(err.message);
  if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return reply.code(413).type(TEXT).send(`request body is larger than the limit of ${bodyLimit} bytes`);
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return reply.code(err.statusCode).type(TEXT).send(err.message);
  }
  return reply.code(500).type(TEXT).send(`caused: ${err.message};`);
}

/** Whether `sendError` answers this as a server failure (worth logging). */
export const isServerFailure = (err: Error & { statusCode?: number }): boolean =>
  !(err instanceof NacosError) &&
  !(err instanceof NotReadyError) &&
  !(err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500);
