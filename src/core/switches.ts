/**
 * The SwitchDomain of Nacos 1.4: run-time tunables readable and writable through /operator/switches.
 * Cluster-wide: node/cluster-switches.ts versions and spreads them (1.4 replicates them through Raft).
 */
import { badRequest } from "./errors.js";

export interface Switches {
  name: string;
  masters: string[] | null;
  adWeightMap: Record<string, number>;
  defaultPushCacheMillis: number;
  clientBeatInterval: number;
  defaultCacheMillis: number;
  distroThreshold: number;
  healthCheckEnabled: boolean;
  autoChangeHealthCheckEnabled: boolean;
  distroEnabled: boolean;
  enableStandalone: boolean;
  pushEnabled: boolean;
  checkTimes: number;
  httpHealthParams: { max: number; min: number; factor: number };
  tcpHealthParams: { max: number; min: number; factor: number };
  mysqlHealthParams: { max: number; min: number; factor: number };
  incrementalList: string[];
  serverStatusSynchronizationPeriodMillis: number;
  serviceStatusSynchronizationPeriodMillis: number;
  disableAddIP: boolean;
  sendBeatOnly: boolean;
  lightBeatEnabled: boolean;
  limitedUrlMap: Record<string, number>;
  distroServerExpiredMillis: number;
  pushGoVersion: string;
  pushJavaVersion: string;
  pushPythonVersion: string;
  pushCVersion: string;
  pushCSharpVersion: string;
  enableAuthentication: boolean;
  overriddenServerStatus: string | null;
  defaultInstanceEphemeral: boolean;
  healthCheckWhiteList: string[];
  checksum: string | null;
}

export function defaultSwitches(): Switches {
  return {
    name: "00-00---000-NACOS_SWITCH_DOMAIN-000---00-00",
    masters: null,
    adWeightMap: {},
    defaultPushCacheMillis: 10_000,
    clientBeatInterval: 5_000,
    defaultCacheMillis: 3_000,
    distroThreshold: 0.7,
    healthCheckEnabled: true,
    autoChangeHealthCheckEnabled: true,
    distroEnabled: true,
    enableStandalone: true,
    pushEnabled: true,
    checkTimes: 3,
    httpHealthParams: { max: 5000, min: 500, factor: 0.85 },
    tcpHealthParams: { max: 5000, min: 1000, factor: 0.75 },
    mysqlHealthParams: { max: 3000, min: 2000, factor: 0.65 },
    incrementalList: [],
    serverStatusSynchronizationPeriodMillis: 2_000,
    serviceStatusSynchronizationPeriodMillis: 5_000,
    disableAddIP: false,
    sendBeatOnly: false,
    lightBeatEnabled: true,
    limitedUrlMap: {},
    distroServerExpiredMillis: 10_000,
    pushGoVersion: "0.1.0",
    pushJavaVersion: "0.1.0",
    pushPythonVersion: "0.4.3",
    pushCVersion: "1.0.12",
    pushCSharpVersion: "0.9.0",
    enableAuthentication: false,
    overriddenServerStatus: null,
    defaultInstanceEphemeral: true,
    healthCheckWhiteList: [],
    checksum: null,
  };
}

const SERVER_STATUSES = ["UP", "DOWN", "STARTING", "PAUSED", "WRITE_ONLY", "READ_ONLY"];

function parseBool(entry: string, value: string): boolean {
  if (value === "true" || value === "false") return value === "true";
  throw badRequest(`Param 'value' of entry '${entry}' must be true or false, got: ${value}`);
}

/** Java's `Long.parseLong` (and `Integer.parseInt`), with its NumberFormatException message. */
function parseJavaInteger(value: string, bits: 32 | 64): bigint {
  const max = bits === 64 ? 2n ** 63n - 1n : 2n ** 31n - 1n;
  const n = /^[+-]?\d+$/.test(value) ? BigInt(value) : undefined;
  if (n === undefined || n > max || n < -max - 1n) throw badRequest(`For input string: "${value}"`);
  return n;
}

/**
 * A whole number as 1.4 parses it, then within [min, max]: `min` is 1.4's own minimum where it has one
 * (with its message); `max` keeps a value from doing harm (a beat interval no client could meet, a cache no
 * change would ever reach clients through).
 */
function integerIn(entry: string, value: string, min: number, max: number, bits: 32 | 64 = 64, tooSmall?: string): number {
  const n = parseJavaInteger(value, bits);
  if (n < BigInt(min) && tooSmall !== undefined) throw badRequest(tooSmall);
  if (n < BigInt(min) || n > BigInt(max)) throw badRequest(`Param 'value' of entry '${entry}' must be in [${min}, ${max}], got: ${value}`);
  return Number(n);
}

type Setter = (s: Switches, value: string, entry: string) => void;

type NumberSwitch =
  | "clientBeatInterval"
  | "defaultPushCacheMillis"
  | "defaultCacheMillis"
  | "distroServerExpiredMillis"
  | "serverStatusSynchronizationPeriodMillis"
  | "serviceStatusSynchronizationPeriodMillis"
  | "checkTimes";

const HOUR_MS = 3_600_000;

const number =
  (key: NumberSwitch, min: number, max: number, tooSmall?: string, bits: 32 | 64 = 64): Setter =>
  (s, v, e) => {
    s[key] = integerIn(e, v, min, max, bits, tooSmall);
  };
const flag =
  (
    key:
      | "pushEnabled"
      | "healthCheckEnabled"
      | "distroEnabled"
      | "disableAddIP"
      | "sendBeatOnly"
      | "enableStandalone"
      | "defaultInstanceEphemeral"
      | "lightBeatEnabled"
      | "autoChangeHealthCheckEnabled",
  ): Setter =>
  (s, v, e) => {
    s[key] = parseBool(e, v);
  };

/**
 * Entry names as 1.4's `PUT /operator/switches?entry=` accepts them, each validated as 1.4's SwitchManager
 * validates it (same minimums and messages), plus an upper bound 1.4 lacks. The beat interval is echoed to
 * every client in beat answers: above 10 s a client could miss the 15 s heartbeat timeout with one late beat.
 */
const SETTERS: Record<string, Setter> = {
  clientBeatInterval: number("clientBeatInterval", 1_000, 10_000),
  pushCacheMillis: number("defaultPushCacheMillis", 10_000, HOUR_MS, "min cache time for http or tcp is too small(<10000)"),
  defaultCacheMillis: number("defaultCacheMillis", 1_000, HOUR_MS, "min default cache time  is too small(<1000)"),
  distroServerExpiredMillis: number("distroServerExpiredMillis", 1_000, HOUR_MS),
  serverStatusSynchronizationPeriodMillis: number(
    "serverStatusSynchronizationPeriodMillis",
    15_000,
    HOUR_MS,
    "serverStatusSynchronizationPeriodMillis is too small(<15000)",
  ),
  serviceStatusSynchronizationPeriodMillis: number(
    "serviceStatusSynchronizationPeriodMillis",
    5_000,
    HOUR_MS,
    "serviceStatusSynchronizationPeriodMillis is too small(<5000)",
  ),
  healthCheckTimes: number("checkTimes", 1, 100, undefined, 32),
  pushEnabled: flag("pushEnabled"),
  check: flag("healthCheckEnabled"),
  distro: flag("distroEnabled"),
  disableAddIP: flag("disableAddIP"),
  sendBeatOnly: flag("sendBeatOnly"),
  enableStandalone: flag("enableStandalone"),
  defaultInstanceEphemeral: flag("defaultInstanceEphemeral"),
  lightBeatEnabled: flag("lightBeatEnabled"),
  autoChangeHealthCheckEnabled: flag("autoChangeHealthCheckEnabled"),
  distroThreshold: (s, v, e) => {
    const n = Number(v.trim());
    if (v.trim() === "" || !Number.isFinite(n)) throw badRequest(`For input string: "${v}"`);
    if (n <= 0) throw badRequest(`distroThreshold can not be zero or negative: ${v}`);
    if (n > 1) throw badRequest(`Param 'value' of entry '${e}' must be in (0, 1], got: ${v}`);
    s.distroThreshold = n;
  },
  overriddenServerStatus: (s, v) => {
    const status = v.trim();
    if (status === "" || status === "null") s.overriddenServerStatus = null;
    else if (SERVER_STATUSES.includes(status)) s.overriddenServerStatus = status;
    else throw badRequest(`Param 'value' must be one of ${SERVER_STATUSES.join(", ")}, got: ${v}`);
  },
  masters: (s, v) => {
    s.masters = v.trim() === "" ? null : v.split(",").map((m) => m.trim());
  },
};

export const SWITCH_ENTRIES = Object.keys(SETTERS);

export function updateSwitch(switches: Switches, entry: string, value: string): void {
  const setter = Object.hasOwn(SETTERS, entry) ? SETTERS[entry] : undefined;
  if (setter === undefined) {
    throw badRequest(`update entry not found: ${entry}, allowed: ${SWITCH_ENTRIES.join(", ")}`);
  }
  setter(switches, value, entry);
}
