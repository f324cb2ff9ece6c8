/**
 * Authentication and authorization as Nacos 1.4 has them, when turned on: `/v1/auth/*` (login, users, roles,
 * permissions), a guard on every client route, and the first administrator. Off, nothing is served or checked.
 */
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { Log } from "../../core/log.js";
import type { NodeContext } from "../context.js";
import { authAccess, type AccessRule } from "./access-rules.js";
import { bootstrapAdmin } from "./admin-bootstrap.js";
import { authRoutes } from "./auth-routes.js";
import { AuthStore } from "./auth-store.js";
import { Authenticator } from "./authenticator.js";
import { guard } from "./guard.js";
import { PasswordHasher } from "./password.js";

/** Puts the guard in front of a scope's routes, with what `rule` says each needs. */
export type Protect = (scope: FastifyInstance, rule: AccessRule) => void;

const AUTH_PREFIXES = ["/nacos/v1/auth", "/v1/auth"];
const BOOTSTRAP_RETRY_MS = 1000;

const logOf = (logger: FastifyBaseLogger): Log => ({
  debug: (message, fields) => logger.debug(fields ?? {}, message),
  info: (message, fields) => logger.info(fields ?? {}, message),
  warn: (message, fields) => logger.warn(fields ?? {}, message),
  error: (message, fields) => logger.error(fields ?? {}, message),
});

/** Who may do what, shared by every way in (HTTP and the 2.x client port), so one back-off and one cache serve both. */
export interface AuthServices {
  readonly store: AuthStore;
  readonly authenticator: Authenticator;
}

const servicesByContext = new WeakMap<NodeContext, AuthServices>();

/** The node's auth services when auth is on (made once per context); undefined when off. */
export function authServicesOf(ctx: NodeContext, log: Log): AuthServices | undefined {
  const settings = ctx.auth;
  if (settings === undefined) return undefined;
  const made = servicesByContext.get(ctx);
  if (made !== undefined) return made;
  // One hasher for every scrypt this server runs (users written and checked): its bound is on libuv's thread pool.
  const hasher = new PasswordHasher();
  const store = new AuthStore(ctx.node, hasher);
  const tokens = { key: settings.tokenKey, ttlSeconds: settings.tokenTtlSeconds };
  const services = { store, authenticator: new Authenticator(store, tokens, () => ctx.node.scheduler.now(), log, hasher) };
  servicesByContext.set(ctx, services);
  return services;
}

/** Serves `/v1/auth/*` and bootstraps the admin when auth is on; returns how to guard a scope (a no-op when off). */
export function setUpAuth(app: FastifyInstance, ctx: NodeContext): Protect {
  const settings = ctx.auth;
  const log = logOf(app.log);
  const services = authServicesOf(ctx, log);
  if (settings === undefined || services === undefined) return () => {};
  const { store, authenticator } = services;
  const protect: Protect = (scope, rule) => scope.addHook("preHandler", guard({ authenticator, store, peerSecret: ctx.peerSecret }, rule));
  for (const prefix of AUTH_PREFIXES) {
    void app.register(
      async (scope) => {
        protect(scope, authAccess);
        authRoutes(scope, store, authenticator);
      },
      { prefix },
    );
  }
  keepBootstrapping(app, () => bootstrapAdmin(ctx.node, store, settings.adminPassword, log));
  return protect;
}

/** Tries once when the server is ready (a started node creates the admin before it serves), then each second. */
function keepBootstrapping(app: FastifyInstance, attempt: () => Promise<string>): void {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const again = async (): Promise<void> => {
    const outcome = await attempt().catch((err: unknown) => {
      app.log.warn({ err }, "creating the admin user failed; retrying");
      return "waiting";
    });
    if (outcome === "waiting" && !closed) timer = setTimeout(() => void again(), BOOTSTRAP_RETRY_MS).unref();
  };
  app.addHook("onReady", again);
  app.addHook("onClose", async () => {
    closed = true;
    clearTimeout(timer);
  });
}
