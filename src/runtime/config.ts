/**
 * Node configuration from flags, environment and cluster.conf, in that order of precedence. Every default
 * matches Nacos; every value is validated here so a bad setting stops the node at start with a clear error.
 */
import { readFileSync, existsSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { joinAddress, normalizeAddress, splitAddress } from "../cluster/member.js";

export type PeerTransportChoice = "grpc" | "http" | "auto";

export interface RuntimeConfig {
  /** Address to bind HTTP, gRPC and UDP sockets to. */
  readonly host: string;
  /** The IP this node is known by in the member list. */
  readonly ip: string;
  readonly port: number;
  readonly grpcPort: number;
  /** Every member (`ip:port`), this node included; just this node when standalone. */
  readonly members: readonly string[];
  readonly standalone: boolean;
  readonly clusterSecret: string | undefined;
  readonly peerTransport: PeerTransportChoice;
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string | undefined } | undefined;
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  readonly maxMessageBytes: number;
  readonly peerTimeoutMs: number;
  readonly syncDelayMs: number;
  readonly syncRetryMs: number;
  readonly verifyIntervalMs: number;
  readonly reportIntervalMs: number;
  readonly suspicionTimeoutMs: number;
  readonly failThreshold: number;
  readonly snapshotChunkBytes: number;
  readonly expireInstances: boolean;
  /** Where the members came from, for the start-up log. */
  readonly membersSource: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const OPTIONS = {
  host: { type: "string" },
  ip: { type: "string" },
  port: { type: "string" },
  "grpc-port": { type: "string" },
  members: { type: "string" },
  "cluster-conf": { type: "string" },
  standalone: { type: "boolean" },
  "cluster-secret": { type: "string" },
  "peer-transport": { type: "string" },
  "grpc-tls-cert": { type: "string" },
  "grpc-tls-key": { type: "string" },
  "grpc-tls-ca": { type: "string" },
  "log-level": { type: "string" },
  "body-limit": { type: "string" },
  "max-message-bytes": { type: "string" },
  "peer-timeout-ms": { type: "string" },
  "sync-delay-ms": { type: "string" },
  "sync-retry-ms": { type: "string" },
  "verify-interval-ms": { type: "string" },
  "report-interval-ms": { type: "string" },
  "suspicion-timeout-ms": { type: "string" },
  "fail-threshold": { type: "string" },
  "snapshot-chunk-bytes": { type: "string" },
  "expire-instances": { type: "string" },
  help: { type: "boolean" },
} as const;

/** Flag name → environment variable, for the README table and `--help`. */
export const ENV_NAMES: Record<string, string> = {
  host: "NACOS_BIND_HOST",
  ip: "NACOS_SERVER_IP",
  port: "NACOS_SERVER_PORT",
  "grpc-port": "NACOS_GRPC_PORT",
  members: "NACOS_SERVERS",
  "cluster-conf": "NACOS_CLUSTER_CONF",
  standalone: "NACOS_STANDALONE",
  "cluster-secret": "NACOS_CLUSTER_SECRET",
  "peer-transport": "NACOS_PEER_TRANSPORT",
  "grpc-tls-cert": "NACOS_GRPC_TLS_CERT",
  "grpc-tls-key": "NACOS_GRPC_TLS_KEY",
  "grpc-tls-ca": "NACOS_GRPC_TLS_CA",
  "log-level": "NACOS_LOG_LEVEL",
  "body-limit": "NACOS_BODY_LIMIT",
  "max-message-bytes": "NACOS_MAX_MESSAGE_BYTES",
  "peer-timeout-ms": "NACOS_PEER_TIMEOUT_MS",
  "sync-delay-ms": "NACOS_SYNC_DELAY_MS",
  "sync-retry-ms": "NACOS_SYNC_RETRY_MS",
  "verify-interval-ms": "NACOS_VERIFY_INTERVAL_MS",
  "report-interval-ms": "NACOS_REPORT_INTERVAL_MS",
  "suspicion-timeout-ms": "NACOS_SUSPICION_TIMEOUT_MS",
  "fail-threshold": "NACOS_FAIL_THRESHOLD",
  "snapshot-chunk-bytes": "NACOS_SNAPSHOT_CHUNK_BYTES",
  "expire-instances": "NACOS_EXPIRE_INSTANCES",
};

export const HELP = `Usage: npm start -- [options]   (every option also reads the environment variable shown)
${Object.entries(ENV_NAMES)
  .map(([flag, env]) => `  --${flag.padEnd(22)} ${env}`)
  .join("\n")}`;

/**
 * cluster.conf in Nacos 1.4's format: `ip[:port]` per entry (port 8848 by default), several entries per line
 * separated by commas, `#` starts a comment (whole-line or trailing), IPv6 as `[addr]:port`.
 */
export function parseClusterConf(text: string): string[] {
  const members: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/#.*$/, "").trim();
    if (line === "") continue;
    for (const entry of line.split(/[,\s]+/)) if (entry !== "") members.push(normalizeAddress(entry));
  }
  return members;
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`--${name} must be an integer in [${min}, ${max}], got '${raw}'`);
  }
  return n;
}

function bool(name: string, raw: string | boolean | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === "") return fallback;
  if (typeof raw === "boolean") return raw;
  if (raw === "true" || raw === "false") return raw === "true";
  throw new ConfigError(`--${name} must be true or false, got '${raw}'`);
}

function membersFrom(
  flags: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { members: string[]; source: string } {
  const list = (text: string): string[] => text.split(",").filter((s) => s.trim() !== "").map((s) => normalizeAddress(s));
  if (flags.members !== undefined) return { members: list(flags.members), source: "--members" };
  const confPath = flags["cluster-conf"] ?? join(env.NACOS_HOME ?? cwd, "conf", "cluster.conf");
  if (flags["cluster-conf"] !== undefined || existsSync(confPath)) {
    try {
      return { members: parseClusterConf(readFileSync(confPath, "utf8")), source: confPath };
    } catch (err) {
      throw new ConfigError(`cannot read cluster.conf at ${confPath}: ${(err as Error).message}`);
    }
  }
  return { members: [], source: "none (standalone)" };
}

/** Without --ip, this node is the member entry on our port whose IP belongs to this host (else 127.0.0.1). */
function detectIp(members: readonly string[], port: number): string {
  const local = new Set(["127.0.0.1", "::1", "localhost"]);
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) local.add(a.address);
  const mine = members.map(splitAddress).filter((m) => m.port === port && local.has(m.host));
  return mine.length === 1 ? mine[0]!.host : "127.0.0.1";
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): RuntimeConfig {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${HELP}`);
  }
  if (parsed.values.help === true) throw new ConfigError(HELP);
  const flags: Record<string, string | undefined> = {};
  for (const name of Object.keys(ENV_NAMES)) {
    const value = (parsed.values as Record<string, string | boolean | undefined>)[name];
    flags[name] = typeof value === "boolean" ? String(value) : (value ?? env[ENV_NAMES[name]!]);
  }
  try {
    const port = integer("port", flags.port, 8848, 1, 65535);
    const { members, source } = membersFrom(flags, env, cwd);
    const ip = flags.ip ?? detectIp(members, port);
    const self = normalizeAddress(joinAddress(ip, port));
    const standalone = bool("standalone", flags.standalone, false) || members.every((m) => m === self);
    if (!standalone && !members.includes(self)) {
      throw new ConfigError(`this node (${self}) is not in the member list [${members.join(", ")}]; set --ip/--port to match`);
    }
    const peerTransport = flags["peer-transport"] ?? "auto";
    if (peerTransport !== "grpc" && peerTransport !== "http" && peerTransport !== "auto") {
      throw new ConfigError(`--peer-transport must be grpc, http or auto, got '${peerTransport}'`);
    }
    const maxMessageBytes = integer("max-message-bytes", flags["max-message-bytes"], 16 * 1024 * 1024, 1 << 20, 1 << 30);
    const snapshotChunkBytes = integer("snapshot-chunk-bytes", flags["snapshot-chunk-bytes"], 256 * 1024, 1024, 8 * 1024 * 1024);
    if (snapshotChunkBytes > maxMessageBytes / 4) {
      // A chunk may hold one large service beyond its budget; a quarter of the limit leaves that headroom.
      throw new ConfigError(`--snapshot-chunk-bytes (${snapshotChunkBytes}) must be at most a quarter of --max-message-bytes (${maxMessageBytes})`);
    }
    const cert = flags["grpc-tls-cert"];
    const key = flags["grpc-tls-key"];
    if ((cert === undefined) !== (key === undefined)) throw new ConfigError("--grpc-tls-cert and --grpc-tls-key go together");
    return {
      host: flags.host ?? "0.0.0.0",
      ip,
      port,
      grpcPort: integer("grpc-port", flags["grpc-port"], port + 1001, 1, 65535),
      members: standalone ? [self] : members,
      standalone,
      clusterSecret: flags["cluster-secret"] === "" ? undefined : flags["cluster-secret"],
      peerTransport,
      tls: cert !== undefined && key !== undefined ? { cert, key, ca: flags["grpc-tls-ca"] } : undefined,
      logLevel: flags["log-level"] ?? "info",
      bodyLimitBytes: integer("body-limit", flags["body-limit"], 1024 * 1024, 1024, 1 << 30),
      maxMessageBytes,
      peerTimeoutMs: integer("peer-timeout-ms", flags["peer-timeout-ms"], 3000, 100, 600_000),
      syncDelayMs: integer("sync-delay-ms", flags["sync-delay-ms"], 1000, 0, 600_000),
      syncRetryMs: integer("sync-retry-ms", flags["sync-retry-ms"], 3000, 100, 3_600_000),
      verifyIntervalMs: integer("verify-interval-ms", flags["verify-interval-ms"], 5000, 100, 3_600_000),
      reportIntervalMs: integer("report-interval-ms", flags["report-interval-ms"], 2000, 100, 600_000),
      suspicionTimeoutMs: integer("suspicion-timeout-ms", flags["suspicion-timeout-ms"], 8000, 100, 3_600_000),
      failThreshold: integer("fail-threshold", flags["fail-threshold"], 3, 0, 1000),
      snapshotChunkBytes,
      expireInstances: bool("expire-instances", flags["expire-instances"], true),
      membersSource: standalone && members.length === 0 ? "none (standalone)" : source,
    };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError((err as Error).message);
  }
}
