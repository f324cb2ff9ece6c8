/**
 * A cluster's own settings, as Nacos 1.4's Cluster holds them: how the responsible node checks the health of
 * the cluster's persistent instances (a TCP connect, an HTTP GET, or not at all), on which port, and the
 * cluster's metadata. They live in the service's meta, so they are versioned and replicated with it. A cluster
 * nobody configured is checked by TCP on each instance's own port, as 1.4 creates clusters.
 *
 * Settings come from clients and peers alike, and an HTTP checker's path and headers end up in requests this
 * node sends, so every way in validates them here: bounded lengths, characters an HTTP request may carry.
 */
import { badRequest } from "./errors.js";
import { MAX_PORT, sameMetadata, type Metadata } from "./instance.js";

export type HealthChecker =
  | { readonly type: "TCP" }
  /** 1.4's Http checker: `headers` is its `name:value|name:value` text. */
  | { readonly type: "HTTP"; readonly path: string; readonly headers: string; readonly expectedResponseCode: number }
  /** No server-side check: health is what clients set (`PUT /health/instance`). */
  | { readonly type: "NONE" };

export type HealthCheckType = HealthChecker["type"];

export interface ClusterSettings {
  readonly healthChecker: HealthChecker;
  /** The port probed when `useInstancePort4Check` is off (1.4's `defCkport`). */
  readonly checkPort: number;
  /** Probe each instance's own port (1.4's `useIPPort4Check`). */
  readonly useInstancePort4Check: boolean;
  readonly metadata: Metadata;
}

export type ClusterMap = Readonly<Record<string, ClusterSettings>>;

export const DEFAULT_HTTP_CHECKER: HealthChecker = Object.freeze({ type: "HTTP", path: "", headers: "", expectedResponseCode: 200 });

/** 1.4's `new Cluster()`: TCP, check port 80, the instance's own port. */
export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = Object.freeze({
  healthChecker: Object.freeze({ type: "TCP" as const }),
  checkPort: 80,
  useInstancePort4Check: true,
  metadata: Object.freeze({}),
});

export const MAX_CHECK_PATH_LENGTH = 1024;
export const MAX_CHECK_HEADERS_LENGTH = 2048;

/** The settings of a cluster: its own, or the default. */
export function settingsOf(clusters: ClusterMap, clusterName: string): ClusterSettings {
  return Object.hasOwn(clusters, clusterName) ? clusters[clusterName]! : DEFAULT_CLUSTER_SETTINGS;
}

const PATH_CHARS = /^[\x21-\x7e]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * The headers of an HTTP checker as name/value pairs, from 1.4's `name:value|name:value` (blanks around each
 * part trimmed; a value may hold colons). A pair without a colon, or with characters a request header cannot
 * carry, is refused rather than skipped as 1.4 skips it, so what is stored is what is sent.
 */
export function parseCheckHeaders(headers: string): Array<[string, string]> {
  if (headers.length > MAX_CHECK_HEADERS_LENGTH) {
    throw badRequest(`health checker headers are longer than ${MAX_CHECK_HEADERS_LENGTH} characters`);
  }
  const pairs: Array<[string, string]> = [];
  for (const part of headers.split("|")) {
    if (part.trim() === "") continue;
    const colon = part.indexOf(":");
    const name = colon < 0 ? "" : part.slice(0, colon).trim();
    const value = colon < 0 ? "" : part.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) {
      throw badRequest(`health checker header '${part}' must look like name:value (header name characters, printable value)`);
    }
    pairs.push([name, value]);
  }
  return pairs;
}

/**
 * Headers an HTTP checker may not set: the probe names its own target and agent, so a check cannot pose as
 * another virtual host or client to whatever it reaches. Refused when a client writes a checker
 * (`refuseReservedHeaders`), dropped when one comes from a peer or an older data directory (`probeHeaders`).
 */
const RESERVED_CHECK_HEADERS: ReadonlySet<string> = new Set(["host", "user-agent"]);

/** The headers an HTTP probe sends: the checker's, less the reserved ones. */
export function probeHeaders(headers: string): Array<[string, string]> {
  return parseCheckHeaders(headers).filter(([name]) => !RESERVED_CHECK_HEADERS.has(name.toLowerCase()));
}

/** A client's checker, refused when it sets a reserved header. */
export function refuseReservedHeaders(c: HealthChecker): HealthChecker {
  if (c.type !== "HTTP") return c;
  const reserved = parseCheckHeaders(c.headers).find(([name]) => RESERVED_CHECK_HEADERS.has(name.toLowerCase()));
  if (reserved !== undefined) {
    throw badRequest(`health checker header '${reserved[0]}' cannot be set: the server sends its own Host and User-Agent`);
  }
  return c;
}

/** Refuses a checker no request could be built from, with a message saying what is allowed. */
export function checkHealthChecker(c: HealthChecker): void {
  if (c.type !== "HTTP") return;
  if (c.path.length > MAX_CHECK_PATH_LENGTH || !PATH_CHARS.test(c.path)) {
    throw badRequest(
      `health checker path must be at most ${MAX_CHECK_PATH_LENGTH} printable ASCII characters without blanks, current: ${c.path}`,
    );
  }
  parseCheckHeaders(c.headers);
  if (!Number.isInteger(c.expectedResponseCode) || c.expectedResponseCode < 100 || c.expectedResponseCode > 599) {
    throw badRequest(`health checker expectedResponseCode must be an HTTP status in [100, 599], current: ${c.expectedResponseCode}`);
  }
}

export function checkClusterSettings(s: ClusterSettings): void {
  checkHealthChecker(s.healthChecker);
  if (!Number.isInteger(s.checkPort) || s.checkPort < 0 || s.checkPort > MAX_PORT) {
    throw badRequest(`checkPort must be an integer in [0, ${MAX_PORT}], current: ${s.checkPort}`);
  }
}

const SUPPORTED = "TCP, HTTP, NONE";

type Json = Readonly<Record<string, unknown>>;

function textField(o: Json, field: string, where: string): string {
  const v = o[field];
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw badRequest(`${where}.${field} must be a string`);
  return v;
}

function statusField(o: Json, where: string): number {
  const v = o.expectedResponseCode;
  if (v === undefined || v === null) return 200;
  const n = typeof v === "string" && /^\d{1,3}$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== "number") throw badRequest(`${where}.expectedResponseCode must be a number`);
  return n;
}

/**
 * A checker from its 1.4 JSON (`{"type":"TCP"}`, `{"type":"HTTP","path":..,"headers":..,"expectedResponseCode":..}`,
 * `{"type":"NONE"}`); absent HTTP fields take 1.4's defaults, unknown fields are ignored as Jackson ignores them.
 * MYSQL, which 1.4 knows, is refused: this server has no MySQL client to check with.
 */
export function healthCheckerFromJson(value: unknown, where: string): HealthChecker {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest(`${where} must be a JSON object`);
  const o = value as Json;
  const type = typeof o.type === "string" ? o.type.toUpperCase() : undefined;
  let checker: HealthChecker;
  if (type === "TCP" || type === "NONE") checker = { type };
  else if (type === "HTTP") {
    checker = {
      type,
      path: textField(o, "path", where),
      headers: textField(o, "headers", where),
      expectedResponseCode: statusField(o, where),
    };
  } else if (type === "MYSQL") {
    throw badRequest(`health checker type MYSQL is not supported by this server (supported: ${SUPPORTED})`);
  } else throw badRequest(`${where} has an unknown health checker type ${JSON.stringify(o.type)} (supported: ${SUPPORTED})`);
  checkHealthChecker(checker);
  return checker;
}

function sameChecker(a: HealthChecker, b: HealthChecker): boolean {
  if (a.type !== "HTTP" || b.type !== "HTTP") return a.type === b.type;
  return a.path === b.path && a.headers === b.headers && a.expectedResponseCode === b.expectedResponseCode;
}

function sameSettings(a: ClusterSettings, b: ClusterSettings): boolean {
  return (
    sameChecker(a.healthChecker, b.healthChecker) &&
    a.checkPort === b.checkPort &&
    a.useInstancePort4Check === b.useInstancePort4Check &&
    sameMetadata(a.metadata, b.metadata)
  );
}

export function sameClusters(a: ClusterMap, b: ClusterMap): boolean {
  const names = Object.keys(a);
  if (names.length !== Object.keys(b).length) return false;
  return names.every((n) => Object.hasOwn(b, n) && sameSettings(a[n]!, b[n]!));
}
