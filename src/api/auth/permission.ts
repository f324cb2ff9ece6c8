/**
 * What a request needs and whether a user has it, as Nacos 1.4 decides: a naming request touches the resource
 * `{namespaceId}:{group}:naming/{service}` (`{namespaceId}:*:naming/*` when it names no service) for reading
 * (`r`) or writing (`w`); a role's permission is a resource pattern where `*` matches anything, with `r`, `w`
 * or `rw`. Administrators (ROLE_ADMIN) may do everything.
 */
import { DEFAULT_GROUP, DEFAULT_NAMESPACE, GROUP_SEPARATOR } from "../../core/naming.js";
import type { Params } from "../params.js";
import type { AuthStore } from "./auth-store.js";

export interface Permission {
  readonly resource: string;
  readonly action: "r" | "w";
}

/** The resource a naming request touches, from its parameters the way 1.4's NamingResourceParser reads them. */
export function namingResource(p: Params): string {
  const namespaceId = p.optional("namespaceId", DEFAULT_NAMESPACE).trim();
  const name = p.optional("serviceName", "").trim();
  if (name === "") return `${namespaceId}:*:naming/*`;
  const at = name.indexOf(GROUP_SEPARATOR);
  const group = p.has("groupName") ? p.required("groupName").trim() : at < 0 ? DEFAULT_GROUP : name.slice(0, at);
  const service = at < 0 ? name : name.slice(at + GROUP_SEPARATOR.length);
  return `${namespaceId}:${group}:naming/${service}`;
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
