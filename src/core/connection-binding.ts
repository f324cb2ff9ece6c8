/**
 * What a connection binding (Instance.connection) may hold, checked the same way whoever hands one over: the
 * transport that accepted the connection, a peer's datum, the 1.4 HTTP extension. Its `node` is a member address
 * exactly as members write theirs, so a binding can be compared with the member list as it is.
 */
import { normalizeAddress } from "./address.js";
import { badRequest } from "./errors.js";
import type { ConnectionBinding } from "./instance.js";

/**
 * A member address (a 253-character host name, a port, brackets) and a connection id: Nacos's are
 * `{millis}_{clientIp}_{clientPort}`, some 60 characters with an IPv6 client.
 */
export const BINDING_LIMITS = Object.freeze({ nodeChars: 262, connectionIdChars: 128 });

/** Visible ASCII: an id is written into logs and listings as it is. */
const CONNECTION_ID = /^[\x21-\x7e]+$/;

export function sameBinding(a: ConnectionBinding | undefined, b: ConnectionBinding | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.node === b.node && a.connectionId === b.connectionId);
}

/** Why a binding is refused, or undefined when it is well formed. */
export function bindingProblem(b: ConnectionBinding): string | undefined {
  const { nodeChars, connectionIdChars } = BINDING_LIMITS;
  if (typeof b.node !== "string" || b.node.length === 0 || b.node.length > nodeChars) {
    return `connection node must be a member address of 1..${nodeChars} characters`;
  }
  let normal: string | undefined;
  try {
    normal = normalizeAddress(b.node, 0);
  } catch {
    normal = undefined;
  }
  if (normal !== b.node) return `connection node '${b.node}' is not a member address (ip:port)`;
  if (typeof b.connectionId !== "string" || b.connectionId.length > connectionIdChars || !CONNECTION_ID.test(b.connectionId)) {
    return `connection id must be 1..${connectionIdChars} visible ASCII characters`;
  }
  return undefined;
}

/** Refuses (400) a binding that is not well formed. */
export function checkBinding(b: ConnectionBinding): void {
  const problem = bindingProblem(b);
  if (problem !== undefined) throw badRequest(problem);
}
