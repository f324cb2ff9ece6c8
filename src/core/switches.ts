/**
 * The SwitchDomain of Nacos 1.4: run-time tunables readable and writable through /operator/switches.
 * Kept per node (1.4 replicates them through Raft; a cluster-wide switch is future work).
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

function parsePositive(entry: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw badRequest(`Param 'value' of entry '${entry}' must be a positive number, got: ${value}`);
  }
  return n;
}

type Setter = (s: Switches, value: string, entry: string) => void;

const number =
  (key: "clientBeatInterval" | "defaultPushCacheMillis" | "defaultCacheMillis" | "distroServerExpiredMillis" |
    "serverStatusSynchronizationPeriodMillis" | "serviceStatusSynchronizationPeriodMillis" | "checkTimes"): Setter =>
  (s, v, e) => {
    s[key] = parsePositive(e, v);
  };
const flag =
  (key: "pushEnabled" | "healthCheckEnabled" | "distroEnabled" | "disableAddIP" | "sendBeatOnly" | "enableStandalone" |
    "defaultInstanceEphemeral" | "lightBeatEnabled" | "autoChangeHealthCheckEnabled"): Setter =>
  (s, v, e) => {
    s[key] = parseBool(e, v);
  };

/** Entry names as 1.4's `PUT /operator/switches?entry=` accepts them. */
const SETTERS: Record<string, Setter> = {
  clientBeatInterval: number("clientBeatInterval"),
  pushCacheMillis: number("defaultPushCacheMillis"),
  defaultCacheMillis: number("defaultCacheMillis"),
  distroServerExpiredMillis: number("distroServerExpiredMillis"),
  serverStatusSynchronizationPeriodMillis: number("serverStatusSynchronizationPeriodMillis"),
  serviceStatusSynchronizationPeriodMillis: number("serviceStatusSynchronizationPeriodMillis"),
  healthCheckTimes: number("checkTimes"),
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
    const n = parsePositive(e, v);
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
  const setter = SETTERS[entry];
  if (setter === undefined) {
    throw badRequest(`update entry not found: ${entry}, allowed: ${SWITCH_ENTRIES.join(", ")}`);
  }
  setter(switches, value, entry);
}
