/** Names and keys shared by every layer: namespaces, groups, grouped service names and service keys. */
import { badRequest } from "./errors.js";

export const DEFAULT_NAMESPACE = "public";
export const DEFAULT_GROUP = "DEFAULT_GROUP";
export const DEFAULT_CLUSTER = "DEFAULT";
export const GROUP_SEPARATOR = "@@";
const KEY_SEPARATOR = "##";

/** A service as the registry knows it: namespace plus `group@@name`. */
export interface ServiceRef {
  readonly namespaceId: string;
  readonly groupedName: string;
}

/** Prefixes the group unless the name already carries one, as Nacos 1.4's DistroFilter does. */
export function toGroupedName(serviceName: string, groupName: string = DEFAULT_GROUP): string {
  return serviceName.includes(GROUP_SEPARATOR) ? serviceName : `${groupName}${GROUP_SEPARATOR}${serviceName}`;
}

export function splitGroupedName(groupedName: string): { group: string; name: string } {
  const at = groupedName.indexOf(GROUP_SEPARATOR);
  if (at < 0) return { group: DEFAULT_GROUP, name: groupedName };
  return { group: groupedName.slice(0, at), name: groupedName.slice(at + GROUP_SEPARATOR.length) };
}

/** `namespace##group@@name`: the registry's and Distro's key for one service. */
export function serviceKey(ref: ServiceRef): string {
  return `${ref.namespaceId}${KEY_SEPARATOR}${ref.groupedName}`;
}

export function parseServiceKey(key: string): ServiceRef {
  const at = key.indexOf(KEY_SEPARATOR);
  if (at < 0) return { namespaceId: DEFAULT_NAMESPACE, groupedName: key };
  return { namespaceId: key.slice(0, at), groupedName: key.slice(at + KEY_SEPARATOR.length) };
}

const SERVICE_NAME_CHARS = /^[0-9a-zA-Z@.:_-]+$/;
const CLUSTER_NAME_CHARS = /^[0-9a-zA-Z-]+$/;

/** Nacos 1.4's `checkServiceNameFormat` plus the character rule it applies when a service is created. */
export function checkGroupedName(groupedName: string): void {
  const parts = groupedName.split(GROUP_SEPARATOR);
  if (parts.length < 2) {
    throw badRequest("Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'");
  }
  if (parts[0] === "") throw badRequest("Param 'serviceName' is illegal, groupName can't be empty");
  if (parts[1] === "") {
    throw badRequest("Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'");
  }
  if (!SERVICE_NAME_CHARS.test(groupedName)) {
    throw badRequest(`dom name can only have these characters: 0-9a-zA-Z-._:, current: ${groupedName}`);
  }
}

/** Longest namespace id accepted anywhere (clients and peers alike). */
export const MAX_NAMESPACE_LENGTH = 128;

/** A service key as peers send it: `namespace##group@@name`, each part as a client write would accept it. */
export function checkServiceKey(key: string): void {
  const at = key.indexOf(KEY_SEPARATOR);
  if (at < 0) throw badRequest(`service key '${key}' must look like {namespace}##{group}@@{service}`);
  const { namespaceId, groupedName } = parseServiceKey(key);
  if (namespaceId === "" || namespaceId.length > MAX_NAMESPACE_LENGTH) {
    throw badRequest(`service key '${key}': the namespace must have 1 to ${MAX_NAMESPACE_LENGTH} characters`);
  }
  checkGroupedName(groupedName);
}

export function checkClusterName(clusterName: string): void {
  if (!CLUSTER_NAME_CHARS.test(clusterName)) {
    throw badRequest(`cluster name can only have these characters: 0-9a-zA-Z-, current: ${clusterName}`);
  }
}
