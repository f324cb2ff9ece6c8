/**
 * What each guarded route needs, as Nacos 1.4's `@Secured` annotations say, by method and route. Whatever
 * the tables do not name needs an administrator, so a route added later is closed until it is classified.
 */

/**
 * What a naming route acts on, and so the resource its permission is checked on (permission.ts builds it from
 * the same parsed parameters the handler reads): `service` one service, `namespace` every service of one
 * namespace (a listing), `namespaces` the namespace named or, when none is, every namespace.
 */
export type Scope = "service" | "namespace" | "namespaces";
export type NamingAccess = `${"r" | "w"}:${Scope}`;

/** `open`: anyone; `signed-in`: any user; `admin`: ROLE_ADMIN; `r`/`w` on a scope: that action on its resource. */
export type Access = "open" | "signed-in" | "admin" | NamingAccess;

/** Naming routes, below `/v1/ns`. The SDK's own calls (instances, services, beats, metrics) are all here. */
const NAMING: Readonly<Record<string, Access | Readonly<Record<string, Access>>>> = {
  "/instance": { GET: "r:service", POST: "w:service", PUT: "w:service", PATCH: "w:service", DELETE: "w:service" },
  "/instance/list": "r:service",
  "/instance/beat": "w:service",
  "/instance/metadata/batch": "w:service",
  "/service": { GET: "r:service", POST: "w:service", PUT: "w:service", DELETE: "w:service" },
  "/service/list": "r:namespace",
  "/service/names": "r:namespaces",
  "/service/subscribers": "r:service",
  "/catalog/service": "r:service",
  "/catalog/services": "r:namespace",
  "/catalog/instances": "r:service",
  "/health": "w:service",
  "/health/instance": "w:service",
  "/health/checkers": "signed-in",
  "/cluster": "w:service",
  // Clients ask a node's status here (the SDKs' `getServerStatus`); the rest of `/operator` is the operator's.
  "/operator/metrics": "signed-in",
  "/ops/metrics": "signed-in",
};

/** Users, roles, permissions, below `/v1/auth`: logging in is open, changing one's own password needs a user. */
const AUTH: Readonly<Record<string, Access | Readonly<Record<string, Access>>>> = {
  "/login": "open",
  "/users/login": "open",
  "/users": { PUT: "signed-in" },
};

/** Namespaces (`/v1/console/namespaces`): any user may list them (the console's switcher), admins change them. */
const NAMESPACES: Readonly<Record<string, Readonly<Record<string, Access>>>> = { "": { GET: "signed-in" } };

/** `/v1/core/cluster/health` is a probe; the member list and the rest are the operator's. */
const CLUSTER: Readonly<Record<string, Access>> = { "/health": "open" };

export type AccessRule = (method: string, route: string) => Access;

/** A rule over the part of the route after `marker` (the context path and prefix vary). */
function ruleOf(marker: string, table: Readonly<Record<string, Access | Readonly<Record<string, Access>>>>): AccessRule {
  return (method, route) => {
    const at = route.indexOf(marker);
    const entry = at < 0 ? undefined : table[route.slice(at + marker.length)];
    if (entry === undefined || typeof entry === "string") return entry ?? "admin";
    // HEAD is GET without a body.
    return entry[method === "HEAD" ? "GET" : method] ?? "admin";
  };
}

export const namingAccess: AccessRule = ruleOf("/v1/ns", NAMING);
/**
 * 2.x's naming routes, below `/v2/ns`: each on the same resource as its 1.x namesake (2.x's `@Secured` agree);
 * `/client/*` (2.x: `nacos/admin`) and the switches, named nowhere, are the administrator's.
 */
export const v2NamingAccess: AccessRule = ruleOf("/v2/ns", NAMING);
export const authAccess: AccessRule = ruleOf("/v1/auth", AUTH);
export const clusterAccess: AccessRule = ruleOf("/v1/core/cluster", CLUSTER);
export const namespaceAccess: AccessRule = ruleOf("/v1/console/namespaces", NAMESPACES);
