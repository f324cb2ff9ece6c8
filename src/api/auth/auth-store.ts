/**
 * Users, roles and permissions as Nacos 1.4 keeps them, in the node's cluster tables (durable and replicated
 * to every member): `users` (name → password hash), `roles` (one row per role a user has) and `permissions`
 * (one row per resource and action a role may use). Refusals carry 1.4's messages.
 */
import { badRequest } from "../../core/errors.js";
import type { NodeView } from "../context.js";
import { DEFAULT_NAMESPACE } from "../../core/naming.js";
import { parseJsonOrUndefined } from "../lenient-json.js";
import type { PasswordHasher } from "./password.js";

/** The built-in role of administrators; it can be given only at bootstrap, never through the API. */
export const ADMIN_ROLE = "ROLE_ADMIN";
/** The one user the bootstrap makes an administrator, and so the only one that can be. */
export const ADMIN_USER = "nacos";
export const ACTIONS = ["r", "w", "rw"] as const;
export type Action = (typeof ACTIONS)[number];

export interface StoredUser {
  /** The whole row, as tokens are tied to it (token.ts `recordVersion`). */
  readonly record: string;
  readonly passwordHash: string;
  /** When this password was set (ms, the writing node's clock); undefined in rows written before it was kept. */
  readonly since: number | undefined;
}

export interface RoleInfo {
  readonly role: string;
  readonly username: string;
}

export interface PermissionInfo {
  readonly role: string;
  readonly resource: string;
  readonly action: Action;
}

const TABLE = { users: "users", roles: "roles", permissions: "permissions" } as const;
/** Bounds that keep every key within the tables' 256 characters (1.4's columns are 50 and 255 wide). */
const MAX_NAME = 50;
const MAX_RESOURCE = 128;
export const MAX_PASSWORD = 256;

/** Names and resources join into row keys with a line break, so no control character may appear in them. */
function checkText(what: string, value: string, max: number): string {
  if (value === "" || value.length > max || /\p{Cc}/u.test(value)) {
    throw badRequest(`${what} must have 1..${max} characters and no control characters`);
  }
  return value;
}

export function checkPassword(password: string): string {
  if (password === "" || password.length > MAX_PASSWORD) throw badRequest(`password must have 1..${MAX_PASSWORD} characters`);
  return password;
}

/** A table's rows of the shape `fields` names (each a string); rows of another shape, as a peer may send, are none. */
function values<T>(node: NodeView, table: string, fields: readonly (keyof T & string)[]): T[] {
  const out: T[] = [];
  for (const [, value] of node.tables.entries(table)) {
    const row = parseJsonOrUndefined(value) as Record<string, unknown> | undefined;
    if (row !== null && typeof row === "object" && fields.every((f) => typeof row[f] === "string")) out.push(row as T);
  }
  return out;
}

export class AuthStore {
  constructor(
    private readonly node: NodeView,
    private readonly hasher: PasswordHasher,
  ) {}

  /** A user as stored, undefined when there is no such user. */
  user(username: string): StoredUser | undefined {
    const record = this.node.tables.get(TABLE.users, username);
    if (record === undefined) return undefined;
    // Rows come from peers and the disk too: one of another shape is no user.
    const { password, since } = (parseJsonOrUndefined(record) ?? {}) as { password?: unknown; since?: unknown };
    if (typeof password !== "string") return undefined;
    return { record, passwordHash: password, since: typeof since === "number" ? since : undefined };
  }

  /** The stored password hash of a user, undefined when there is no such user. */
  passwordHashOf(username: string): string | undefined {
    return this.user(username)?.passwordHash;
  }

  /** Whether the bootstrap's administrator exists (other users, or admin roles of other names, do not count). */
  hasAdmin(): boolean {
    return this.user(ADMIN_USER) !== undefined && this.isAdmin(ADMIN_USER);
  }

  usernames(): string[] {
    return this.node.tables.entries(TABLE.users).map(([name]) => name);
  }

  async createUser(username: string, password: string): Promise<void> {
    checkText("username", username, MAX_NAME);
    if (this.passwordHashOf(username) !== undefined) throw badRequest(`user '${username}' already exist!`);
    await this.writeUser(username, password);
  }

  async updatePassword(username: string, password: string): Promise<void> {
    if (this.passwordHashOf(username) === undefined) throw badRequest(`user ${username} not exist!`);
    await this.writeUser(username, password);
  }

  /** Also takes the user's roles: a user created later under the same name must not inherit them. */
  async deleteUser(username: string): Promise<void> {
    if (this.isAdmin(username)) throw badRequest(`cannot delete admin: ${username}`);
    const roles = this.rolesOf(username);
    for (const r of roles) await this.node.setTableRow(TABLE.roles, roleKey(r), undefined);
    await this.node.setTableRow(TABLE.users, username, undefined);
  }

  /** Creates or resets a user with the admin role: the bootstrap's, never the API's. */
  async ensureAdmin(username: string, password: string): Promise<void> {
    await this.writeUser(username, password);
    const admin = { role: ADMIN_ROLE, username };
    await this.node.setTableRow(TABLE.roles, roleKey(admin), JSON.stringify(admin));
  }

  private async writeUser(username: string, password: string): Promise<void> {
    const hash = await this.hasher.hash(checkPassword(password));
    await this.node.setTableRow(TABLE.users, username, JSON.stringify({ password: hash, since: this.node.scheduler.now() }));
  }

  roles(): RoleInfo[] {
    return values<RoleInfo>(this.node, TABLE.roles, ["role", "username"]);
  }

  rolesOf(username: string): RoleInfo[] {
    return this.roles().filter((r) => r.username === username);
  }

  /**
   * Only the bootstrap grants ROLE_ADMIN, and only to `nacos`: a ROLE_ADMIN row naming anyone else came from
   * no operator (a peer's report, a hand-edited directory) and grants nothing.
   */
  isAdmin(username: string): boolean {
    return username === ADMIN_USER && this.node.tables.get(TABLE.roles, roleKey({ role: ADMIN_ROLE, username })) !== undefined;
  }

  async addRole(role: string, username: string): Promise<void> {
    checkText("role", role, MAX_NAME);
    if (this.passwordHashOf(username) === undefined) throw badRequest(`user '${username}' not found!`);
    if (role === ADMIN_ROLE) throw badRequest(`role '${ADMIN_ROLE}' is not permitted to create!`);
    await this.node.setTableRow(TABLE.roles, roleKey({ role, username }), JSON.stringify({ role, username }));
  }

  /** Removes a role from one user, or from everyone with `username` undefined (with its permissions). */
  async deleteRole(role: string, username: string | undefined): Promise<void> {
    if (role === ADMIN_ROLE) throw badRequest(`role '${ADMIN_ROLE}' cannot be deleted`);
    const rows = this.roles().filter((r) => r.role === role && (username === undefined || r.username === username));
    for (const r of rows) await this.node.setTableRow(TABLE.roles, roleKey(r), undefined);
    if (username !== undefined) return;
    for (const p of this.permissionsOf(role)) await this.node.setTableRow(TABLE.permissions, permissionKey(p), undefined);
  }

  permissions(): PermissionInfo[] {
    return values<PermissionInfo>(this.node, TABLE.permissions, ["role", "resource", "action"]);
  }

  permissionsOf(role: string): PermissionInfo[] {
    return this.permissions().filter((p) => p.role === role);
  }

  async addPermission(role: string, resource: string, action: string): Promise<void> {
    if (!this.roles().some((r) => r.role === role)) throw badRequest(`role ${role} not found!`);
    const permission = { role, resource: checkText("resource", withNamespace(resource), MAX_RESOURCE), action: checkAction(action) };
    await this.node.setTableRow(TABLE.permissions, permissionKey(permission), JSON.stringify(permission));
  }

  async deletePermission(role: string, resource: string, action: string): Promise<void> {
    const key = permissionKey({ role, resource, action: checkAction(action) });
    // Only rows that exist: a removal leaves a tombstone, which counts against the tables' bound.
    if (this.node.tables.get(TABLE.permissions, key) !== undefined) await this.node.setTableRow(TABLE.permissions, key, undefined);
  }
}

/** 1.4 names the public namespace by an empty id (`:*:*`); here it is `public`, as requests name it. */
export const withNamespace = (resource: string): string => (resource.startsWith(":") ? `${DEFAULT_NAMESPACE}${resource}` : resource);

function checkAction(action: string): Action {
  if (!(ACTIONS as readonly string[]).includes(action)) throw badRequest(`action must be ${ACTIONS.join(", ")}, current: ${action}`);
  return action as Action;
}

const roleKey = (r: RoleInfo): string => `${r.role}\n${r.username}`;
const permissionKey = (p: PermissionInfo): string => `${p.role}\n${p.resource}\n${p.action}`;
