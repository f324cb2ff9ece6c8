/**
 * The small bodies of 1.4's peer calls: the verify checksum map, the key list of a datum query, the health
 * statuses of a service and the service-status report.
 */
import { badRequest } from "../../../core/errors.js";
import { DEFAULT_NAMESPACE } from "../../../core/naming.js";
import { expectArray, expectObject, expectString, optionalString, parseJson, stringMap } from "./json.js";
import { fromLegacyKey, toLegacyKey } from "./keys.js";
import type { ServiceChecksums } from "../../../node/ports.js";

/** `{legacyKey: datumChecksum}`, the body of `PUT /distro/checksum?source=`. */
export function encodeChecksums(checksums: Iterable<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, checksum] of checksums) out[toLegacyKey(key)] = checksum;
  return out;
}

/** Service key → checksum; keys outside 1.4's Distro are ignored, as 1.4 ignores them. */
export function decodeChecksums(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const [legacyKey, checksum] of Object.entries(expectObject(value, "checksum map"))) {
    const key = fromLegacyKey(legacyKey);
    if (key !== undefined) out.set(key, expectString(checksum, `checksum of '${legacyKey}'`));
  }
  return out;
}

/** `{"keys":"k1,k2"}`, the body of `GET /distro/datum` (a GET with a body, as 1.4 sends it). */
export const encodeKeysBody = (keys: readonly string[]): string => JSON.stringify({ keys: keys.map(toLegacyKey).join(",") });

export function decodeKeysBody(value: unknown): string[] {
  const keys = expectString(expectObject(value, "body").keys, "body.keys");
  const out: string[] = [];
  for (const legacyKey of keys.split(",")) {
    const key = legacyKey === "" ? undefined : fromLegacyKey(legacyKey);
    if (key !== undefined) out.push(key);
  }
  return out;
}

/** `{"ips":["ip:port_true", ...]}` from `GET /instance/statuses` → health by `ip:port`. */
export function decodeStatuses(value: unknown): Map<string, boolean> {
  const out = new Map<string, boolean>();
  expectArray(expectObject(value, "statuses").ips, "statuses.ips").forEach((raw, n) => {
    const entry = expectString(raw, `statuses.ips[${n}]`);
    const at = entry.lastIndexOf("_");
    if (at <= 0) throw badRequest(`statuses.ips[${n}] must look like ip:port_true, got '${entry}'`);
    // Java's Boolean.parseBoolean: anything but "true" (any case) is false.
    out.set(entry.slice(0, at), entry.slice(at + 1).toLowerCase() === "true");
  });
  return out;
}

/** `{"statuses":"<ServiceChecksum JSON as a string>","clientIP":"<ip:port>"}`, the body of `POST /service/status`. */
export const encodeServiceStatus = (checksums: ServiceChecksums, clientIP: string): string =>
  JSON.stringify({ statuses: JSON.stringify(checksums), clientIP });

/** 1.4 URL-decodes the raw body before parsing it (`URLDecoder.decode`, so `+` is a space); so do we. */
export function decodeServiceStatus(raw: string): { readonly clientIP: string; readonly checksums: ServiceChecksums } {
  let text: string;
  try {
    text = decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    throw badRequest("service status body is not URL-decodable");
  }
  const body = expectObject(parseJson(text, "service status body"), "service status body");
  const clientIP = expectString(body.clientIP, "body.clientIP");
  const statuses = expectObject(parseJson(expectString(body.statuses, "body.statuses"), "body.statuses"), "body.statuses");
  return {
    clientIP,
    checksums: {
      namespaceId: optionalString(statuses, "namespaceId", "statuses", DEFAULT_NAMESPACE) || DEFAULT_NAMESPACE,
      serviceName2Checksum: stringMap(statuses.serviceName2Checksum, "statuses.serviceName2Checksum"),
    },
  };
}
