/**
 * What each guarded route needs, as Nacos 1.4's `@Secured` annotations say, by method and route. Whatever
 * the tables do not name needs an administrator, so a route added later is closed until it is classified.
 */

/** `open`: anyone; `signed-in`: any user; `admin`: ROLE_ADMIN; `r`/`w`: that action on the naming resource. */
export type Access = "open" | "signed-in" | "admin" | "r" | "w";

/** Naming routes, below `/v1/ns`. The SDK's own calls (instances, services, beats, metrics) are all here. */
const NAMING: Readonly<Record<string, Access | Readonly<Record<string, Access>>>> = {
  "/instance": { GET: "r", POST: "w", PUT: "w", PATCH: "w", DELETE: "w" },
  "/instance/list": "r",
  "/instance/beat": "w",
  "/instance/metadata/batch": "w",
  "/service": { GET: "r", POST: "w", PUT: "w", DELETE: "w" },
  "/service/list": "r",
  "/service/names": "r",
  "/service/subscribers": "r",
  "/catalog/service": "r",
  "/catalog/services": "r",
  "/catalog/instances": "r",
  "/health": "w",
  "/health/instance": "w",
  "/health/checkers": "signed-in",
  "/cluster": "w",
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
export const authAccess: AccessRule = ruleOf("/v1/auth", AUTH);
export const clusterAccess: AccessRule = ruleOf("/v1/core/cluster", CLUSTER);
export const namespaceAccess: AccessRule = ruleOf("/v1/console/namespaces", NAMESPACES);
