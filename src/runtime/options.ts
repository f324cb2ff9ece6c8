/**
 * Node configuration from flags, environment and cluster.conf, in that order of precedence. Every default
 * matches Nacos; every value is validated here so a bad setting stops the node at start with a clear error.
 */
import { readFileSync, existsSync } from "node:fs";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { HttpLimits } from "../api/app.js";
import { joinAddress, normalizeAddress, splitAddress } from "../node/cluster/member.js";

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
  /** Where the secret came from, for the start-up log: a flag is visible to every local user in `ps`. */
  readonly clusterSecretSource: "flag" | "environment" | "file" | "none";
  /**
   * The peer transport asked for. With TLS configured, `auto` never falls back to the plaintext 1.4 HTTP peer
   * API (it would carry the secret in the clear), so it resolves to `grpc`; see `effectivePeerTransport`.
   */
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
  readonly maxSnapshotStreams: number;
  readonly snapshotStallMs: number;
  readonly expireInstances: boolean;
  /** How far ahead of this node's clock a peer's version may be before it is refused. */
  readonly maxClockSkewMs: number;
  /** Addresses (IPs or CIDRs) of reverse proxies whose X-Forwarded-For names the client. */
  readonly trustedProxies: readonly string[];
  readonly http: HttpLimits;
  /** On SIGTERM, how long pending replication may take to reach peers before the node exits anyway. */
  readonly shutdownTimeoutMs: number;
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
  "cluster-secret-file": { type: "string" },
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
  "max-snapshot-streams": { type: "string" },
  "snapshot-stall-ms": { type: "string" },
  "expire-instances": { type: "string" },
  "max-clock-skew-ms": { type: "string" },
  "trusted-proxies": { type: "string" },
  "http-headers-timeout-ms": { type: "string" },
  "http-request-timeout-ms": { type: "string" },
  "http-keep-alive-timeout-ms": { type: "string" },
  "http-max-connections": { type: "string" },
  "shutdown-timeout-ms": { type: "string" },
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
  "cluster-secret-file": "NACOS_CLUSTER_SECRET_FILE",
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
  "max-snapshot-streams": "NACOS_MAX_SNAPSHOT_STREAMS",
  "snapshot-stall-ms": "NACOS_SNAPSHOT_STALL_MS",
  "expire-instances": "NACOS_EXPIRE_INSTANCES",
  "max-clock-skew-ms": "NACOS_MAX_CLOCK_SKEW_MS",
  "trusted-proxies": "NACOS_TRUSTED_PROXIES",
  "http-headers-timeout-ms": "NACOS_HTTP_HEADERS_TIMEOUT_MS",
  "http-request-timeout-ms": "NACOS_HTTP_REQUEST_TIMEOUT_MS",
  "http-keep-alive-timeout-ms": "NACOS_HTTP_KEEP_ALIVE_TIMEOUT_MS",
  "http-max-connections": "NACOS_HTTP_MAX_CONNECTIONS",
  "shutdown-timeout-ms": "NACOS_SHUTDOWN_TIMEOUT_MS",
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

/** The cluster secret from a flag, the environment or a file (whose trailing newline is not part of it). */
function secretFrom(
  flags: Record<string, string | undefined>,
  argv: readonly string[],
): { secret: string | undefined; source: RuntimeConfig["clusterSecretSource"] } {
  const file = flags["cluster-secret-file"];
  const inline = flags["cluster-secret"];
  if (file !== undefined && inline !== undefined) throw new ConfigError("--cluster-secret and --cluster-secret-file exclude each other");
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError(`cannot read --cluster-secret-file ${file}: ${(err as Error).message}`);
    }
    const secret = text.replace(/\r?\n$/, "");
    if (secret === "") throw new ConfigError(`--cluster-secret-file ${file} is empty`);
    return { secret, source: "file" };
  }
  if (inline === undefined || inline === "") return { secret: undefined, source: "none" };
  const onCommandLine = argv.some((a) => a === "--cluster-secret" || a.startsWith("--cluster-secret="));
  return { secret: inline, source: onCommandLine ? "flag" : "environment" };
}

/** `--trusted-proxies`: comma-separated IPs or CIDR blocks. */
function trustedProxies(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === "") return [];
  return raw.split(",").map((entry) => {
    const text = entry.trim();
    const [ip, bits, extra] = text.split("/");
    const family = isIP(ip ?? "");
    const maxBits = family === 4 ? 32 : 128;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined) {
      throw new ConfigError(`--trusted-proxies entries must be IP addresses or CIDR blocks, got '${text}'`);
    }
    return text;
  });
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
    const maxMessageBytes = integer("max-message-bytes", flags["max-message-bytes"], 4 * 1024 * 1024, 1 << 20, 1 << 30);
    const snapshotChunkBytes = integer("snapshot-chunk-bytes", flags["snapshot-chunk-bytes"], 256 * 1024, 1024, 8 * 1024 * 1024);
    if (snapshotChunkBytes > maxMessageBytes / 4) {
      // A chunk may hold one large service beyond its budget; a quarter of the limit leaves that headroom.
      throw new ConfigError(`--snapshot-chunk-bytes (${snapshotChunkBytes}) must be at most a quarter of --max-message-bytes (${maxMessageBytes})`);
    }
    const cert = flags["grpc-tls-cert"];
    const key = flags["grpc-tls-key"];
    if ((cert === undefined) !== (key === undefined)) throw new ConfigError("--grpc-tls-cert and --grpc-tls-key go together");
    if (cert !== undefined && peerTransport === "http") {
      throw new ConfigError("--grpc-tls-* secures the gRPC peer port; --peer-transport http would send peer traffic and the secret in plaintext");
    }
    const { secret, source: secretSource } = secretFrom(flags, argv);
    const headersTimeoutMs = integer("http-headers-timeout-ms", flags["http-headers-timeout-ms"], 10_000, 100, 600_000);
    const requestTimeoutMs = integer("http-request-timeout-ms", flags["http-request-timeout-ms"], 30_000, 100, 3_600_000);
    if (requestTimeoutMs < headersTimeoutMs) {
      throw new ConfigError(`--http-request-timeout-ms (${requestTimeoutMs}) must be at least --http-headers-timeout-ms (${headersTimeoutMs})`);
    }
    return {
      host: flags.host ?? "0.0.0.0",
      ip,
      port,
      grpcPort: integer("grpc-port", flags["grpc-port"], port + 1001, 1, 65535),
      members: standalone ? [self] : members,
      standalone,
      clusterSecret: secret,
      clusterSecretSource: secretSource,
      peerTransport,
      tls: cert !== undefined && key !== undefined ? { cert, key, ca: flags["grpc-tls-ca"] } : undefined,
      logLevel: flags["log-level"] ?? "info",
      bodyLimitBytes: integer("body-limit", flags["body-limit"], 4 * 1024 * 1024, 1024, 1 << 30),
      maxMessageBytes,
      peerTimeoutMs: integer("peer-timeout-ms", flags["peer-timeout-ms"], 3000, 100, 600_000),
      syncDelayMs: integer("sync-delay-ms", flags["sync-delay-ms"], 1000, 0, 600_000),
      syncRetryMs: integer("sync-retry-ms", flags["sync-retry-ms"], 3000, 100, 3_600_000),
      verifyIntervalMs: integer("verify-interval-ms", flags["verify-interval-ms"], 5000, 100, 3_600_000),
      reportIntervalMs: integer("report-interval-ms", flags["report-interval-ms"], 2000, 100, 600_000),
      suspicionTimeoutMs: integer("suspicion-timeout-ms", flags["suspicion-timeout-ms"], 8000, 100, 3_600_000),
      failThreshold: integer("fail-threshold", flags["fail-threshold"], 3, 0, 1000),
      snapshotChunkBytes,
      maxSnapshotStreams: integer("max-snapshot-streams", flags["max-snapshot-streams"], 4, 1, 1000),
      snapshotStallMs: integer("snapshot-stall-ms", flags["snapshot-stall-ms"], 30_000, 100, 3_600_000),
      expireInstances: bool("expire-instances", flags["expire-instances"], true),
      maxClockSkewMs: integer("max-clock-skew-ms", flags["max-clock-skew-ms"], 60_000, 1000, 3_600_000),
      trustedProxies: trustedProxies(flags["trusted-proxies"]),
      http: {
        headersTimeoutMs,
        requestTimeoutMs,
        keepAliveTimeoutMs: integer("http-keep-alive-timeout-ms", flags["http-keep-alive-timeout-ms"], 5_000, 100, 600_000),
        maxConnections: integer("http-max-connections", flags["http-max-connections"], 4096, 16, 1_000_000),
      },
      shutdownTimeoutMs: integer("shutdown-timeout-ms", flags["shutdown-timeout-ms"], 5_000, 0, 600_000),
      membersSource: standalone && members.length === 0 ? "none (standalone)" : source,
    };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError((err as Error).message);
  }
}

/** The peer transport actually used: `auto` never downgrades to plaintext HTTP when TLS is configured. */
export function effectivePeerTransport(config: Pick<RuntimeConfig, "peerTransport" | "tls">): PeerTransportChoice {
  return config.tls !== undefined && config.peerTransport === "auto" ? "grpc" : config.peerTransport;
}
