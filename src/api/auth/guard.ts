/**
 * The check in front of every guarded route (1.4's AuthFilter): find out who calls, then whether they may
 * do what the route does. Members forwarding a client's write carry the cluster secret and pass, as 1.4
 * peers with `nacos.core.auth.server.identity.*` do; the agent alone never counts.
 */
import type { FastifyRequest } from "fastify";
import { NacosError } from "../../core/errors.js";
import { paramsOf } from "../params.js";
import { fromPeer, remoteIp } from "../request-info.js";
import type { AccessRule, Scope } from "./access-rules.js";
import type { AuthStore } from "./auth-store.js";
import type { Authenticator, Credentials } from "./authenticator.js";
import { hasPermission, namingResource } from "./permission.js";

const users = new WeakMap<FastifyRequest, string>();

/** The user a guarded request was let through as (undefined for open routes and forwarding members). */
export const userOf = (req: FastifyRequest): string | undefined => users.get(req);

function credentialsOf(req: FastifyRequest): Credentials {
  const p = paramsOf(req);
  const header = req.headers.authorization;
  const value = (name: string): string | undefined => (p.has(name) ? p.raw(name) : undefined);
  return {
    bearer: header?.startsWith("Bearer ") === true ? header.slice("Bearer ".length) : undefined,
    accessToken: value("accessToken"),
    username: value("username"),
    password: value("password"),
    address: remoteIp(req),
  };
}

export interface GuardDeps {
  readonly authenticator: Authenticator;
  readonly store: AuthStore;
  /** The cluster secret (undefined: a standalone node, where no member forwards). */
  readonly peerSecret: string | undefined;
}

/** A preHandler that lets a request through only with what `rule` says its route needs (403 otherwise). */
export function guard(deps: GuardDeps, rule: AccessRule) {
  return async (req: FastifyRequest): Promise<void> => {
    const access = rule(req.method, req.routeOptions.url ?? "");
    if (access === "open") return;
    if (deps.peerSecret !== undefined && fromPeer(req, deps.peerSecret)) return;
    const username = await deps.authenticator.identify(credentialsOf(req));
    users.set(req, username);
    if (access === "signed-in" || deps.store.isAdmin(username)) return;
    if (access === "admin") throw new NacosError(403, "authorization failed!");
    const [action, scope] = access.split(":") as ["r" | "w", Scope];
    if (!hasPermission(deps.store, username, { resource: namingResource(scope, paramsOf(req)), action })) {
      throw new NacosError(403, "authorization failed!");
    }
  };
}
