/**
 * `/v1/auth/*` (under `/nacos` too), as Nacos 1.4's UserController, RoleController and PermissionController
 * answer: login returns a token, lists are 1.4 pages, changes answer a RestResult. User lists never carry
 * password hashes (1.4's did).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { NacosError } from "../../core/errors.js";
import { page, positive } from "../paging.js";
import { paramsOf, type Params } from "../params.js";
import type { AuthStore } from "./auth-store.js";
import type { Authenticator } from "./authenticator.js";
import { remoteIp } from "../request-info.js";
import { userOf } from "./guard.js";

const done = (message: string) => ({ code: 200, message, data: null });

/** 1.4's `Page`, which its console and API clients read; both numbers required, as 1.4's `@RequestParam int`. */
function pageOf<T>(p: Params, items: readonly T[]) {
  const pageNo = positive(p, "pageNo");
  const pageSize = positive(p, "pageSize");
  return {
    totalCount: items.length,
    pageNumber: pageNo,
    pagesAvailable: Math.ceil(items.length / pageSize),
    pageItems: page(items, pageNo, pageSize),
  };
}

/** The distinct `names` that contain `text`, sorted. */
const containing = (names: readonly string[], text: string): string[] => [...new Set(names.filter((n) => n.includes(text)))].sort();

/** An optional filter parameter: blank means none, as 1.4's `defaultValue = ""`. */
const filter = (p: Params, name: string): string | undefined => (p.has(name) ? p.required(name) : undefined);

export function authRoutes(app: FastifyInstance, store: AuthStore, authenticator: Authenticator): void {
  const login = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = paramsOf(req);
    const result = await authenticator.login({
      username: p.required("username"),
      password: p.required("password"),
      address: remoteIp(req),
    });
    return reply.header("Authorization", `Bearer ${result.accessToken}`).send(result);
  };
  app.post("/login", login);
  app.post("/users/login", login);

  /** A change answered as 1.4's RestResult, with the message `act` returns. */
  const change = (method: "POST" | "PUT" | "DELETE", url: string, act: (p: Params, req: FastifyRequest) => Promise<string>) =>
    app.route({ method, url, handler: async (req) => done(await act(paramsOf(req), req)) });

  app.get("/users", async (req) =>
    pageOf(
      paramsOf(req),
      store.usernames().map((username) => ({ username })),
    ),
  );
  // The console's typeahead (1.4.1+): names containing the text, as SQL's LIKE '%text%'.
  app.get("/users/search", async (req) => containing(store.usernames(), paramsOf(req).optional("username", "")));
  app.get("/roles/search", async (req) =>
    containing(
      store.roles().map((r) => r.role),
      paramsOf(req).optional("role", ""),
    ),
  );
  change("POST", "/users", async (p) => {
    await store.createUser(p.required("username"), p.required("password"));
    return "create user ok!";
  });
  change("PUT", "/users", async (p, req) => {
    const username = p.required("username");
    const caller = userOf(req);
    // Administrators change anyone's password, users their own.
    if (caller !== undefined && caller !== username && !store.isAdmin(caller)) throw new NacosError(403, "authorization failed!");
    await store.updatePassword(username, p.required("newPassword"));
    return "update user ok!";
  });
  change("DELETE", "/users", async (p) => {
    await store.deleteUser(p.required("username"));
    return "delete user ok!";
  });

  app.get("/roles", async (req) => {
    const p = paramsOf(req);
    const username = filter(p, "username");
    return pageOf(p, username === undefined ? store.roles() : store.rolesOf(username));
  });
  change("POST", "/roles", async (p) => {
    await store.addRole(p.required("role"), p.required("username"));
    return "add role ok!";
  });
  change("DELETE", "/roles", async (p) => {
    const username = filter(p, "username");
    await store.deleteRole(p.required("role"), username);
    return `delete role of user ${username ?? ""} ok!`;
  });

  app.get("/permissions", async (req) => {
    const p = paramsOf(req);
    const role = filter(p, "role");
    return pageOf(p, role === undefined ? store.permissions() : store.permissionsOf(role));
  });
  change("POST", "/permissions", async (p) => {
    await store.addPermission(p.required("role"), p.required("resource"), p.required("action"));
    return "add permission ok!";
  });
  change("DELETE", "/permissions", async (p) => {
    await store.deletePermission(p.required("role"), p.required("resource"), p.required("action"));
    return "delete permission ok!";
  });
}
