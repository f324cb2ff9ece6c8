/**
 * The first administrator. With auth on and no user anywhere in the cluster, the user `nacos` is created with
 * ROLE_ADMIN and the password from `--admin-password`, else a random one printed once in the log — never a
 * well-known default.
 *
 * Users live in the cluster tables, which members spread in their reports, so "no admin" is known only once
 * this node is ready and has heard from every member (a new node in a running cluster must not overwrite the
 * admin it has not yet received). And only the first member by address creates it: two nodes creating it at
 * once would each print a password, and the later write would silently void the other's.
 *
 * Only the admin itself counts as "exists": before it, nobody could create users (the user API needs an
 * administrator and is not served with auth off), so other rows — a user, a ROLE_ADMIN for another name —
 * came from no operator and must not keep the operator's admin from being made.
 */
import { randomBytes } from "node:crypto";
import type { Log } from "../../core/log.js";
import type { NodeView } from "../context.js";
import { ADMIN_USER, type AuthStore } from "./auth-store.js";

export type BootstrapOutcome = "created" | "exists" | "waiting";

function mayCreate(node: NodeView): boolean {
  if (!node.ready) return false;
  const { members, selfAddress } = node.cluster();
  const others = members.filter((m) => m.address !== selfAddress);
  return others.every((m) => m.state === "UP" && m.info !== undefined) && members[0]?.address === selfAddress;
}

/** One attempt; the caller repeats it while `waiting`. */
export async function bootstrapAdmin(node: NodeView, store: AuthStore, password: string | undefined, log: Log): Promise<BootstrapOutcome> {
  if (store.hasAdmin()) return "exists";
  if (!mayCreate(node)) return "waiting";
  const chosen = password ?? randomBytes(18).toString("base64url");
  await store.ensureAdmin(ADMIN_USER, chosen);
  if (password === undefined) {
    log.warn(
      `created the admin user '${ADMIN_USER}' with the one-time password ${chosen} — it is shown only this once: log in and change it (PUT /nacos/v1/auth/users)`,
    );
  } else {
    log.info(`created the admin user '${ADMIN_USER}' with the password from --admin-password`);
  }
  return "created";
}
