/**
 * What a request needs and whether a user has it, as Nacos 1.4 decides: a naming request touches the resource
 * `{namespaceId}:{group}:naming/{service}` (`{namespaceId}:*:naming/*` when it lists a namespace) for reading
 * (`r`) or writing (`w`); a role's permission is a resource pattern where `*` matches anything, with `r`, `w`
 * or `rw`. Administrators (ROLE_ADMIN) may do everything.
 */
import { splitGroupedName } from "../../core/naming.js";
import { namedNamespaceOf, namespaceOf, serviceOf, type Params } from "../params.js";
import type { Scope } from "./access-rules.js";
import type { AuthStore } from "./auth-store.js";

export interface Permission {
  readonly resource: string;
  readonly action: "r" | "w";
}

/**
 * The resource a naming request touches, in 1.4's form, built from the very service or namespace the route's
 * handler acts on (`serviceOf`, `namespaceOf`: parsed once per request), never from a second reading of the
 * parameters — 1.4's NamingResourceParser read `groupName` where the handler read the group in `serviceName`.
 */
export function namingResource(scope: Scope, p: Params): string {
  switch (scope) {
    case "service": {
      const { namespaceId, groupedName } = serviceOf(p);
      const { group, name } = splitGroupedName(groupedName);
      return `${namespaceId}:${group}:naming/${name}`;
    }
    case "namespace":
      return `${namespaceOf(p)}:*:naming/*`;
    case "namespaces":
      return `${namedNamespaceOf(p) ?? "*"}:*:naming/*`;
  }
}

/** Whether `pattern` (with `*` for any run of characters) matches all of `text`; linear, no regular expression. */
export function globMatches(pattern: string, text: string): boolean {
  const parts = pattern.split("*");
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (parts.length === 1) return pattern === text;
  if (!text.startsWith(first) || !text.endsWith(last) || text.length < first.length + last.length) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = text.indexOf(middle, at);
    if (found < 0 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

/** Whether any of the user's roles grants the permission (any role is enough, as in 1.4). */
export function hasPermission(store: AuthStore, username: string, wanted: Permission): boolean {
  const roles = store.rolesOf(username).map((r) => r.role);
  const permissions = store.permissions();
  return roles.some((role) =>
    permissions.some((p) => p.role === role && p.action.includes(wanted.action) && globMatches(p.resource, wanted.resource)),
  );
}
