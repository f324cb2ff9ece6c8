/**
 * Every option of a node, declared once: its flag, environment variable, default, range and help. The table
 * produces `--help`, the runtime configuration (flags win over the environment, which wins over cluster.conf)
 * and the node configuration. Every default matches Nacos and lives only here; every value is validated here,
 * so a bad setting stops the node at start with a clear error.
 */
import { existsSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { HttpLimits } from "../api/app.js";
import type { AuthSettings } from "../api/auth/auth-settings.js";
import { MIN_TOKEN_KEY_BYTES, tokenKeyOf } from "../api/auth/token.js";
import { CLIENT_GRPC_PORT_OFFSET, GRPC_PORT_OFFSET, joinAddress, normalizeAddress, splitAddress } from "../core/address.js";
import type { NodeConfig } from "../node/naming-node.js";
import type { PeerTransportMode } from "../node/ports.js";
import type { PushConfig } from "../push/push-service.js";
import type { ClientPortLimits } from "../transport/nacos2/client-port.js";
import { MESSAGE_OVERHEAD_BYTES } from "../transport/grpc/connection-settings.js";
import { CLUSTER_SECRET_HEADER } from "../transport/peer-secret.js";
import { nearest } from "./did-you-mean.js";
import { fileFailure } from "./start-errors.js";

export class ConfigError extends Error {
  override name = "ConfigError";
}

const MiB = 1024 * 1024;
const HOUR_MS = 3_600_000;

type Raw = string | undefined;

interface Option<T> {
  readonly env: string;
  readonly help: string;
  /** Shown in `--help`; a default computed from other options says how. */
  readonly shown: string;
  readonly boolean?: true;
  readonly parse: (raw: Raw, flag: string) => T;
}

function integer(env: string, fallback: number, min: number, max: number, help: string): Option<number> {
  return {
    env,
    help,
    shown: String(fallback),
    parse(raw, flag) {
      if (raw === undefined || raw === "") return fallback;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new ConfigError(`--${flag} must be an integer in [${min}, ${max}], got '${raw}'`);
      return n;
    },
  };
}

function flag(env: string, fallback: boolean, help: string): Option<boolean> {
  return {
    env,
    help,
    shown: String(fallback),
    boolean: true,
    parse(raw, name) {
      if (raw === undefined || raw === "") return fallback;
      if (raw === "true" || raw === "false") return raw === "true";
      throw new ConfigError(`--${name} must be true or false, got '${raw}'`);
    },
  };
}

function text(env: string, help: string, shown = "—"): Option<string | undefined> {
  return { env, help, shown, parse: (raw) => (raw === undefined || raw === "" ? undefined : raw) };
}

function choice<T extends string>(env: string, values: readonly T[], fallback: T, help: string): Option<T> {
  return {
    env,
    help,
    shown: fallback,
    parse(raw, name) {
      if (raw === undefined || raw === "") return fallback;
      if ((values as readonly string[]).includes(raw)) return raw as T;
      throw new ConfigError(`--${name} must be ${values.slice(0, -1).join(", ")} or ${values.at(-1)}, got '${raw}'`);
    },
  };
}

/** `--trusted-proxies`, `--health-check-allow`: comma-separated IPs or CIDR blocks. */
function addresses(env: string, help: string): Option<string[]> {
  return {
    env,
    help,
    shown: "—",
    parse(raw, name) {
      if (raw === undefined || raw.trim() === "") return [];
      return raw.split(",").map((entry) => {
        const value = entry.trim();
        const [ip, bits, extra] = value.split("/");
        const family = isIP(ip ?? "");
        const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
        if (family === 0 || !bitsOk || extra !== undefined) {
          throw new ConfigError(`--${name} entries must be IP addresses or CIDR blocks, got '${value}'`);
        }
        return value;
      });
    },
  };
}

/** `--client-grpc-port`: a port, or `off` (also 0) for none; undefined when not given (HTTP port + 1000). */
function portOrOff(env: string, help: string): Option<number | "off" | undefined> {
  return {
    env,
    help,
    shown: `port + ${CLIENT_GRPC_PORT_OFFSET}`,
    parse(raw, name) {
      if (raw === undefined || raw === "") return undefined;
      if (raw === "off" || raw === "0") return "off";
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`--${name} must be a port in [1, 65535] or off, got '${raw}'`);
      return n;
    },
  };
}

/** pino's levels. */
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** `auto`: pretty on a terminal, JSON otherwise (runtime/logging.ts). */
export type LogFormat = "auto" | "json" | "pretty";

/** The table. Order is the order of `--help`. */
const OPTIONS = {
  port: integer("NACOS_SERVER_PORT", 8848, 1, 65535, "HTTP port (client API, 1.4 peer API; also NACOS_APPLICATION_PORT)"),
  "grpc-port": { ...integer("NACOS_GRPC_PORT", 0, 1, 65535, "gRPC peer port"), shown: `port + ${GRPC_PORT_OFFSET}` },
  host: { ...text("NACOS_BIND_HOST", "address the HTTP, gRPC and UDP sockets bind to"), shown: "0.0.0.0" },
  ip: { ...text("NACOS_SERVER_IP", "this node's IP in the member list"), shown: "detected" },
  members: text("NACOS_SERVERS", "ip[:port] or host[:port] list of every member, comma- or space-separated"),
  "members-dns": text("NACOS_MEMBERS_DNS", "name[:port] whose address records are the members (a headless Service)"),
  "members-refresh-ms": integer("NACOS_MEMBERS_REFRESH_MS", 5000, 100, HOUR_MS, "how often members named by host name are resolved again"),
  "cluster-conf": {
    ...text("NACOS_CLUSTER_CONF", "member file in Nacos 1.4 format"),
    shown: "$NACOS_HOME/conf/cluster.conf or ./conf/cluster.conf",
  },
  standalone: flag("NACOS_STANDALONE", false, "run alone even if members are configured (also MODE=standalone)"),
  "data-dir": {
    ...text("NACOS_DATA_DIR", "directory for what outlives a restart (persistent instances, service settings, switches)"),
    shown: "$NACOS_HOME/data or ./data",
  },
  "cluster-secret-file": text("NACOS_CLUSTER_SECRET_FILE", "file holding the secret every peer call carries"),
  "cluster-secret": text("NACOS_CLUSTER_SECRET", "the secret itself (as a flag it shows in ps)"),
  "peer-transport": choice<PeerTransportMode>(
    "NACOS_PEER_TRANSPORT",
    ["grpc", "http", "auto"],
    "auto",
    "peer protocol: grpc, http (Nacos 1.4) or auto",
  ),
  "grpc-tls-cert": text("NACOS_GRPC_TLS_CERT", "PEM certificate of the gRPC peer port"),
  "grpc-tls-key": text("NACOS_GRPC_TLS_KEY", "PEM key of the gRPC peer port"),
  "grpc-tls-ca": text("NACOS_GRPC_TLS_CA", "PEM CA: mutual TLS on the gRPC peer port"),
  "client-grpc-port": portOrOff("NACOS_CLIENT_GRPC_PORT", "port Nacos 2.x clients connect to (gRPC), or off"),
  "client-grpc-tls-cert": text("NACOS_CLIENT_GRPC_TLS_CERT", "PEM certificate of the 2.x client port"),
  "client-grpc-tls-key": text("NACOS_CLIENT_GRPC_TLS_KEY", "PEM key of the 2.x client port"),
  "client-grpc-tls-ca": text("NACOS_CLIENT_GRPC_TLS_CA", "PEM CA: clients of the 2.x client port must present a certificate it signed"),
  "client-max-connections": integer("NACOS_CLIENT_MAX_CONNECTIONS", 16_384, 1, 1_000_000, "2.x client connections at once"),
  "client-max-connections-per-ip": integer("NACOS_CLIENT_MAX_CONNECTIONS_PER_IP", 1024, 1, 1_000_000, "2.x client connections from one IP"),
  "log-level": choice("NACOS_LOG_LEVEL", LOG_LEVELS, "info", "pino level"),
  "log-format": choice<LogFormat>("NACOS_LOG_FORMAT", ["auto", "json", "pretty"], "auto", "json, pretty, or auto: pretty on a terminal"),
  "body-limit": integer("NACOS_BODY_LIMIT", 4 * MiB, 1024, 1 << 30, "largest HTTP body, client and 1.4 peer requests"),
  "max-message-bytes": integer("NACOS_MAX_MESSAGE_BYTES", 4 * MiB, MiB, 1 << 30, "largest gRPC message, both directions"),
  "peer-timeout-ms": integer("NACOS_PEER_TIMEOUT_MS", 3000, 100, 600_000, "deadline of every unary peer call"),
  "sync-delay-ms": integer("NACOS_SYNC_DELAY_MS", 1000, 0, 600_000, "longest a write waits to merge with others before it is replicated"),
  "sync-retry-ms": integer("NACOS_SYNC_RETRY_MS", 3000, 100, HOUR_MS, "first retry delay of a failed sync"),
  "verify-interval-ms": integer("NACOS_VERIFY_INTERVAL_MS", 5000, 100, HOUR_MS, "Distro verify (anti-entropy) period"),
  "report-interval-ms": integer("NACOS_REPORT_INTERVAL_MS", 2000, 100, 600_000, "member report period"),
  "suspicion-timeout-ms": integer("NACOS_SUSPICION_TIMEOUT_MS", 8000, 100, HOUR_MS, "a failing member is DOWN after this long at most"),
  "fail-threshold": integer("NACOS_FAIL_THRESHOLD", 3, 0, 1000, "... or after more consecutive failed reports than this"),
  "snapshot-chunk-bytes": integer("NACOS_SNAPSHOT_CHUNK_BYTES", 256 * 1024, 1024, 8 * MiB, "size budget of one snapshot stream message"),
  "max-snapshot-streams": integer("NACOS_MAX_SNAPSHOT_STREAMS", 4, 1, 1000, "snapshot streams served at once"),
  "snapshot-stall-ms": integer("NACOS_SNAPSHOT_STALL_MS", 30_000, 100, HOUR_MS, "a snapshot stream whose reader stalls this long is cut"),
  "expire-instances": flag("NACOS_EXPIRE_INSTANCES", true, "remove instances silent past their delete timeout"),
  "max-clock-skew-ms": integer("NACOS_MAX_CLOCK_SKEW_MS", 60_000, 1000, HOUR_MS, "versions further ahead of the clock are refused"),
  "tombstone-ttl-ms": integer(
    "NACOS_TOMBSTONE_TTL_MS",
    10 * 60_000,
    1000,
    24 * HOUR_MS,
    "removed instances and table rows are remembered at least this long, and until every member holds the removal",
  ),
  "connection-grace-ms": integer(
    "NACOS_CONNECTION_GRACE_MS",
    30_000,
    1000,
    HOUR_MS,
    "a DOWN node's (or a previous life's) 2.x client connections' instances are removed after this long",
  ),
  "trusted-proxies": addresses("NACOS_TRUSTED_PROXIES", "IPs/CIDRs of proxies whose X-Forwarded-For names the client"),
  "health-check-allow": {
    ...addresses("NACOS_HEALTH_CHECK_ALLOW", "IPs/CIDRs server-side health checks may probe"),
    shown: "any but link-local, multicast, unspecified and this node's ports",
  },
  "health-check-loopback": flag("NACOS_HEALTH_CHECK_LOOPBACK", true, "server-side health checks may probe loopback addresses"),
  "http-headers-timeout-ms": integer("NACOS_HTTP_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000, "time to send a request's headers"),
  "http-request-timeout-ms": integer("NACOS_HTTP_REQUEST_TIMEOUT_MS", 30_000, 100, HOUR_MS, "time to send a whole request"),
  "http-keep-alive-timeout-ms": integer("NACOS_HTTP_KEEP_ALIVE_TIMEOUT_MS", 5_000, 100, 600_000, "idle time of a keep-alive connection"),
  "http-max-connections": integer("NACOS_HTTP_MAX_CONNECTIONS", 4096, 16, 1_000_000, "open HTTP connections at once"),
  "shutdown-timeout-ms": integer("NACOS_SHUTDOWN_TIMEOUT_MS", 5_000, 0, 600_000, "time a graceful stop gives each of its steps"),
  "auth-enabled": flag("NACOS_AUTH_ENABLE", false, "client authentication and authorization, as Nacos 1.4's"),
  "auth-token-secret": text("NACOS_AUTH_TOKEN", "base64 key (32+ bytes) tokens are signed with; required with auth"),
  "auth-token-expire-seconds": integer("NACOS_AUTH_TOKEN_EXPIRE_SECONDS", 18_000, 1, 31_536_000, "lifetime of an access token"),
  "admin-password": text("NACOS_ADMIN_PASSWORD", "password of the first admin user 'nacos' (else a random one is logged)"),
} as const;

type Table = typeof OPTIONS;
type Values = { -readonly [K in keyof Table]: ReturnType<Table[K]["parse"]> };

export const HELP = `Usage: npm start -- [options]   (every option also reads the environment variable shown; --version prints the version)
${Object.entries(OPTIONS)
  .map(([name, o]) => `  --${name.padEnd(28)} ${o.env.padEnd(34)} ${o.help} (default: ${o.shown})`)
  .join("\n")}`;

/** PEM files of a TLS port; with a CA, callers must present a certificate it signed. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
}

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
  readonly peerTransport: PeerTransportMode;
  readonly tls: TlsFiles | undefined;
  /** The port Nacos 2.x clients connect to; undefined: none (`--client-grpc-port off`). */
  readonly clientGrpcPort: number | undefined;
  readonly clientTls: TlsFiles | undefined;
  readonly clientMaxConnections: number;
  readonly clientMaxConnectionsPerIp: number;
  readonly logLevel: string;
  readonly logFormat: LogFormat;
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
  /** How long removals (instance and table-row tombstones) are remembered at least. */
  readonly tombstoneTtlMs: number;
  /** How long a DOWN node's (or a previous life's) 2.x client connections' instances stay. */
  readonly connectionGraceMs: number;
  /** Addresses (IPs or CIDRs) of reverse proxies whose X-Forwarded-For names the client. */
  readonly trustedProxies: readonly string[];
  /** Which targets server-side health checks may probe (runtime/probe-targets.ts applies it). */
  readonly healthCheck: {
    /** IPs/CIDRs a target must be in; empty: any address not refused otherwise. */
    readonly allow: readonly string[];
    readonly loopback: boolean;
  };
  readonly http: HttpLimits;
  /** On SIGTERM, how long each step of a graceful stop may take. */
  readonly shutdownTimeoutMs: number;
  /** Where the node keeps what outlives it (absolute). */
  readonly dataDir: string;
  /** Where the members came from, for the start-up log. */
  readonly membersSource: string;
  /** Client authentication and authorization; undefined when off (the default). */
  readonly auth: AuthSettings | undefined;
  /** How often host-name members (and `membersDns`) are resolved again (a member's name on a failure too). */
  readonly membersRefreshMs: number;
  /** The member list as a DNS name's address records, each member at `port`; undefined: the configured list. */
  readonly membersDns: { readonly name: string; readonly port: number } | undefined;
  /** The image's variables that are set but mean nothing here (names only: their values may be passwords). */
  readonly ignoredImageVariables: readonly string[];
}

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

function membersFrom(v: Values, env: NodeJS.ProcessEnv, cwd: string): { members: string[]; source: string } {
  const list = (value: string): string[] =>
    value
      .split(/[,\s]+/)
      .filter((s) => s !== "")
      .map((s) => normalizeAddress(s));
  if (v.members !== undefined) return { members: list(v.members), source: "--members" };
  const explicit = v["cluster-conf"];
  const confPath = explicit ?? join(env.NACOS_HOME ?? cwd, "conf", "cluster.conf");
  if (explicit !== undefined || existsSync(confPath)) {
    try {
      return { members: parseClusterConf(readFileSync(confPath, "utf8")), source: confPath };
    } catch (err) {
      throw new ConfigError(fileFailure(err, confPath, optionNames("cluster-conf")));
    }
  }
  return { members: [], source: "none (standalone)" };
}

/** `--members-dns name[:port]` (the port is the HTTP port every member listens on, 8848 by default). */
function membersDnsOf(v: Values): { name: string; port: number } | undefined {
  const raw = v["members-dns"];
  if (raw === undefined) return undefined;
  let address: string;
  try {
    address = normalizeAddress(raw);
  } catch {
    throw new ConfigError(`--members-dns must be name[:port], got '${raw}'`);
  }
  const { host, port } = splitAddress(address);
  return { name: host, port };
}

/** With --members-dns and no --ip: this host's first non-internal IPv4 address (a pod's own), else 127.0.0.1. */
function interfaceIp(): string {
  const all = Object.values(networkInterfaces()).flatMap((addresses) => addresses ?? []);
  return all.find((a) => a.family === "IPv4" && !a.internal)?.address ?? "127.0.0.1";
}

/** Without --ip, this node is the member entry on our port whose IP belongs to this host (else 127.0.0.1). */
function detectIp(members: readonly string[], port: number): string {
  const local = new Set(["127.0.0.1", "::1", "localhost"]);
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) local.add(a.address);
  const mine = members.map(splitAddress).filter((m) => m.port === port && local.has(m.host));
  return mine.length === 1 ? mine[0]!.host : "127.0.0.1";
}

/** The cluster secret from a flag, the environment or a file (whose trailing newline is not part of it). */
function secretFrom(
  v: Values,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { secret: string | undefined; source: RuntimeConfig["clusterSecretSource"] } {
  const file = v["cluster-secret-file"];
  const inline = v["cluster-secret"];
  if (file !== undefined && inline !== undefined) throw new ConfigError("--cluster-secret and --cluster-secret-file exclude each other");
  if (file !== undefined) {
    let secret: string;
    try {
      secret = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new ConfigError(fileFailure(err, file, optionNames("cluster-secret-file")));
    }
    if (secret === "") throw new ConfigError(`--cluster-secret-file ${file} is empty`);
    return { secret, source: "file" };
  }
  if (inline === undefined) return identitySecret(env);
  const onCommandLine = argv.some((a) => a === "--cluster-secret" || a.startsWith("--cluster-secret="));
  return { secret: inline, source: onCommandLine ? "flag" : "environment" };
}

/**
 * Nacos's server identity (`NACOS_AUTH_IDENTITY_KEY`/`_VALUE`, 1.4's `nacos.core.auth.server.identity.*`) as the
 * cluster secret when none of ours is set: the value itself when the key is our secret header (what a Nacos 1.4
 * node sends then, so one configuration serves a mixed cluster), else `key:value`, so nodes that differ in either
 * refuse each other as Nacos's do.
 */
function identitySecret(env: NodeJS.ProcessEnv): { secret: string | undefined; source: RuntimeConfig["clusterSecretSource"] } {
  const key = env.NACOS_AUTH_IDENTITY_KEY ?? "";
  const value = env.NACOS_AUTH_IDENTITY_VALUE ?? "";
  if (key === "" && value === "") return { secret: undefined, source: "none" };
  if (key === "" || value === "") throw new ConfigError("NACOS_AUTH_IDENTITY_KEY and NACOS_AUTH_IDENTITY_VALUE go together");
  return { secret: key.toLowerCase() === CLUSTER_SECRET_HEADER.toLowerCase() ? value : `${key}:${value}`, source: "environment" };
}

/**
 * Token keys anyone can read in Nacos's files and documentation, compared as the key bytes they decode to (any
 * spelling of the same bytes is refused too): 1.4's `application.properties` default (what Nacos 2.2.0.1 stopped
 * shipping and refuses at start), the 2.x documentation's example, and that default in base64, the one
 * Nacos's Docker quick-starts pass as NACOS_AUTH_TOKEN.
 */
const PUBLISHED_TOKEN_KEYS: readonly Buffer[] = [
  "SecretKey012345678901234567890123456789012345678901234567890123456789",
  "VGhpc0lzTXlDdXN0b21TZWNyZXRLZXkwMTIzNDU2Nzg=",
  "U2VjcmV0S2V5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5",
].map((key) => tokenKeyOf(key)!);

/**
 * Auth settings when `--auth-enabled`: the token key is required and never defaulted (a known key would let
 * anyone mint tokens). In a cluster the cluster secret is required too, as 1.4 requires the server identity:
 * it is how a member forwarding a client's write is told from a client claiming to be one.
 */
function authOf(v: Values, standalone: boolean, clusterSecret: string | undefined): AuthSettings | undefined {
  if (!v["auth-enabled"]) return undefined;
  const secret = v["auth-token-secret"];
  const example = "e.g. `openssl rand -base64 32`";
  if (secret === undefined) throw new ConfigError(`--auth-enabled needs --auth-token-secret (NACOS_AUTH_TOKEN), ${example}`);
  const tokenKey = tokenKeyOf(secret);
  if (tokenKey === undefined) {
    throw new ConfigError(`--auth-token-secret must be base64 of at least ${MIN_TOKEN_KEY_BYTES} bytes, ${example}`);
  }
  if (PUBLISHED_TOKEN_KEYS.some((published) => published.equals(tokenKey))) {
    throw new ConfigError(
      `--auth-token-secret is a key published in Nacos's own configuration and documentation: anyone can sign tokens with it; choose your own, ${example}`,
    );
  }
  if (!standalone && clusterSecret === undefined) {
    throw new ConfigError("--auth-enabled in a cluster needs a cluster secret (--cluster-secret-file or NACOS_CLUSTER_SECRET)");
  }
  return { tokenKey, tokenTtlSeconds: v["auth-token-expire-seconds"], adminPassword: v["admin-password"] };
}

const isBoolean = (name: string): boolean => {
  const o = (OPTIONS as Record<string, Option<unknown>>)[name];
  return o !== undefined && o.boolean === true;
};

/**
 * Every boolean flag as `--name=value`, so each can be turned off as well as on: `--name` alone is true,
 * `--name false` / `--name=false` / `--no-name` are false (the word after a bare boolean flag is its value
 * unless it is another flag; anything but true or false is then refused by the flag's own check).
 */
function explicitBooleans(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = /^--([^=]+)$/.exec(arg)?.[1];
    if (name === undefined) out.push(arg);
    else if (name.startsWith("no-") && isBoolean(name.slice(3))) out.push(`--${name.slice(3)}=false`);
    else if (isBoolean(name)) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("--")) {
        out.push(`--${name}=${next}`);
        i++;
      } else out.push(`--${name}=true`);
    } else out.push(arg);
  }
  return out;
}

/**
 * Every variable of the `nacos/nacos-server` image (nacos-group/nacos-docker's documentation), and what it does
 * here: the one list the README's table and the deployment test check against. A name ending in `*` stands for
 * every variable with that prefix. Variables that mean nothing here are logged once at start, never silently.
 */
export const IMAGE_VARIABLES: Readonly<Record<string, { readonly here: string; readonly ignored?: true }>> = {
  MODE: { here: "`standalone` runs alone whatever the members say (as `--standalone`); `cluster` (the default) uses them" },
  NACOS_SERVERS: { here: "`--members`: `ip:port` or `host:port`, space- or comma-separated" },
  NACOS_SERVER_PORT: { here: "`--port`" },
  NACOS_APPLICATION_PORT: { here: "`--port` when NACOS_SERVER_PORT is not set" },
  NACOS_SERVER_IP: { here: "`--ip`: this node's own entry in the member list (an IP, or its host name)" },
  PREFER_HOST_MODE: {
    here: "`hostname`: this node is known by its host name (`hostname`, or NACOS_SERVER_IP) instead of a detected IP; `ip` (the default) detects it",
  },
  NACOS_AUTH_ENABLE: { here: "`--auth-enabled`" },
  NACOS_AUTH_TOKEN: { here: "`--auth-token-secret` (Nacos's published default keys are refused)" },
  NACOS_AUTH_TOKEN_EXPIRE_SECONDS: { here: "`--auth-token-expire-seconds`" },
  NACOS_AUTH_IDENTITY_KEY: { here: "with NACOS_AUTH_IDENTITY_VALUE, the cluster secret when none of ours is set (see below)" },
  NACOS_AUTH_IDENTITY_VALUE: { here: "see NACOS_AUTH_IDENTITY_KEY" },
  "JVM_*": { here: "ignored: there is no JVM", ignored: true },
  "MYSQL_*": { here: "ignored: the registry is in memory, its durable part in the data directory", ignored: true },
  SPRING_DATASOURCE_PLATFORM: { here: "ignored: no database", ignored: true },
  EMBEDDED_STORAGE: { here: "ignored: no database", ignored: true },
  DB_POOL_CONNECTION_TIMEOUT: { here: "ignored: no database", ignored: true },
  NACOS_DEBUG: { here: "ignored: no JVM remote debugging", ignored: true },
  TOMCAT_ACCESSLOG_ENABLED: { here: "ignored: no Tomcat", ignored: true },
  NACOS_AUTH_SYSTEM_TYPE: { here: "ignored: only Nacos's own user store (`nacos`) exists", ignored: true },
  NACOS_AUTH_CACHE_ENABLE: { here: "ignored: users and permissions are always held in memory", ignored: true },
  MEMBER_LIST: { here: "ignored: use NACOS_SERVERS", ignored: true },
  NACOS_CONSOLE_PORT: { here: "ignored: the console is served on the HTTP port", ignored: true },
  NACOS_CONSOLE_CONTEXT_PATH: { here: "ignored: the console is served on the HTTP port", ignored: true },
};

const imageVariableMatches = (pattern: string, name: string): boolean =>
  pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : name === pattern;

/** The image's variables set in `env` that mean nothing here, sorted (names only). */
function ignoredImageVariables(env: NodeJS.ProcessEnv): string[] {
  const ignored = Object.entries(IMAGE_VARIABLES).filter(([, v]) => v.ignored === true);
  return Object.keys(env)
    .filter((name) => env[name] !== undefined && ignored.some(([pattern]) => imageVariableMatches(pattern, name)))
    .sort();
}

/** `PREFER_HOST_MODE=hostname`: this node's identity is a host name. Any value but the image's two is refused. */
function preferHostname(env: NodeJS.ProcessEnv): boolean {
  const mode = env.PREFER_HOST_MODE?.trim() ?? "";
  if (mode !== "" && mode !== "ip" && mode !== "hostname") {
    throw new ConfigError(`PREFER_HOST_MODE must be ip or hostname (the nacos-server image's values), got '${env.PREFER_HOST_MODE}'`);
  }
  return mode === "hostname";
}

/**
 * The `nacos/nacos-server` image's variables, read where ours are not set: `MODE` (`standalone` or `cluster`)
 * and `NACOS_APPLICATION_PORT` (Spring's `server.port`). Its `NACOS_SERVERS` is ours, space-separated there
 * (both separators are taken). A `MODE` the image does not know is refused rather than guessed.
 */
function withImageVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const mode = env.MODE?.trim();
  if (mode !== undefined && mode !== "" && mode !== "standalone" && mode !== "cluster") {
    throw new ConfigError(`MODE must be standalone or cluster (the nacos-server image's values), got '${env.MODE}'`);
  }
  return {
    ...(mode === "standalone" ? { NACOS_STANDALONE: "true" } : {}),
    ...(env.NACOS_APPLICATION_PORT === undefined ? {} : { NACOS_SERVER_PORT: env.NACOS_APPLICATION_PORT }),
    ...env,
  };
}

/** A flag of the table with its variable, as start-up errors name it: `--port / NACOS_SERVER_PORT`. */
export const optionNames = (name: keyof Table): string => `--${name} / ${OPTIONS[name].env}`;

/** A misspelt flag, answered with the nearest real one (`--version` and `--help` are main.ts's and the parser's). */
function unknownOption(err: unknown): string | undefined {
  if ((err as NodeJS.ErrnoException).code !== "ERR_PARSE_ARGS_UNKNOWN_OPTION") return undefined;
  const given = /'(-[^']*)'/.exec((err as Error).message)?.[1];
  if (given === undefined) return undefined;
  const names = Object.keys(OPTIONS);
  const flags = ["help", "version", ...names, ...names.filter(isBoolean).map((name) => `no-${name}`)].map((name) => `--${name}`);
  const guess = nearest(given, flags);
  return `unknown option ${given}${guess === undefined ? "" : `: did you mean ${guess}?`} (--help lists every option)`;
}

/** Every option's value: the flag, else the environment variable (ours, else the image's), else the default. */
function values(argv: readonly string[], given: NodeJS.ProcessEnv): Values {
  const env = withImageVariables(given);
  const spec = Object.fromEntries(Object.keys(OPTIONS).map((name) => [name, { type: "string" }])) as Record<string, { type: "string" }>;
  let parsed: { values: Record<string, string | boolean | undefined> };
  try {
    const args = explicitBooleans(argv);
    parsed = parseArgs({ args, options: { ...spec, help: { type: "boolean" } }, strict: true, allowPositionals: false });
  } catch (err) {
    throw new ConfigError(unknownOption(err) ?? `${(err as Error).message}\n${HELP}`);
  }
  if (parsed.values.help === true) throw new ConfigError(HELP);
  const out: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(OPTIONS)) {
    const given = parsed.values[name] as Raw;
    out[name] = (o.parse as (raw: Raw, flag: string) => unknown)(given ?? env[o.env], name);
  }
  return out as Values;
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): RuntimeConfig {
  try {
    return configOf(values(argv, env), argv, env, cwd);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError((err as Error).message);
  }
}

function configOf(v: Values, argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): RuntimeConfig {
  const port = v.port;
  const { members, source } = membersFrom(v, env, cwd);
  const membersDns = membersDnsOf(v);
  if (membersDns !== undefined && (v.members !== undefined || v["cluster-conf"] !== undefined)) {
    throw new ConfigError("--members-dns replaces --members and --cluster-conf: give one of them");
  }
  const byHostname = preferHostname(env);
  const ip = v.ip ?? (membersDns !== undefined ? interfaceIp() : byHostname ? hostname() : detectIp(members, port));
  const self = normalizeAddress(joinAddress(ip, port));
  const standalone = v.standalone || (membersDns === undefined && members.every((m) => m === self));
  if (!standalone && membersDns === undefined && !members.includes(self)) {
    throw new ConfigError(`this node (${self}) is not in the member list [${members.join(", ")}]; set --ip/--port to match`);
  }
  const maxMessageBytes = v["max-message-bytes"];
  const snapshotChunkBytes = v["snapshot-chunk-bytes"];
  if (snapshotChunkBytes > maxMessageBytes / 4) {
    // A chunk may hold one large service beyond its budget; a quarter of the limit leaves that headroom.
    throw new ConfigError(
      `--snapshot-chunk-bytes (${snapshotChunkBytes}) must be at most a quarter of --max-message-bytes (${maxMessageBytes})`,
    );
  }
  const cert = v["grpc-tls-cert"];
  const key = v["grpc-tls-key"];
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError("--grpc-tls-cert and --grpc-tls-key go together");
  if (cert !== undefined && v["peer-transport"] === "http") {
    throw new ConfigError(
      "--grpc-tls-* secures the gRPC peer port; --peer-transport http would send peer traffic and the secret in plaintext",
    );
  }
  const clientCert = v["client-grpc-tls-cert"];
  const clientKey = v["client-grpc-tls-key"];
  if ((clientCert === undefined) !== (clientKey === undefined)) {
    throw new ConfigError("--client-grpc-tls-cert and --client-grpc-tls-key go together");
  }
  const grpcPort = v["grpc-port"] === 0 ? port + GRPC_PORT_OFFSET : v["grpc-port"];
  const clientOption = v["client-grpc-port"];
  const clientGrpcPort = clientOption === "off" ? undefined : (clientOption ?? port + CLIENT_GRPC_PORT_OFFSET);
  if (clientGrpcPort !== undefined && (clientGrpcPort === port || clientGrpcPort === grpcPort)) {
    throw new ConfigError(`--client-grpc-port ${clientGrpcPort} is taken by the HTTP or the gRPC peer port`);
  }
  const { secret, source: secretSource } = secretFrom(v, argv, env);
  const headersTimeoutMs = v["http-headers-timeout-ms"];
  const requestTimeoutMs = v["http-request-timeout-ms"];
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError(
      `--http-request-timeout-ms (${requestTimeoutMs}) must be at least --http-headers-timeout-ms (${headersTimeoutMs})`,
    );
  }
  return {
    host: v.host ?? "0.0.0.0",
    ip,
    port,
    // The gRPC port's default is computed, so its table entry's own default (0) means "not given".
    grpcPort,
    members: standalone || membersDns !== undefined ? [self] : members,
    standalone,
    clusterSecret: secret,
    clusterSecretSource: secretSource,
    peerTransport: v["peer-transport"],
    tls: cert !== undefined && key !== undefined ? { cert, key, ca: v["grpc-tls-ca"] } : undefined,
    clientGrpcPort,
    clientTls:
      clientCert !== undefined && clientKey !== undefined ? { cert: clientCert, key: clientKey, ca: v["client-grpc-tls-ca"] } : undefined,
    clientMaxConnections: v["client-max-connections"],
    clientMaxConnectionsPerIp: v["client-max-connections-per-ip"],
    logLevel: v["log-level"],
    logFormat: v["log-format"],
    bodyLimitBytes: v["body-limit"],
    maxMessageBytes,
    peerTimeoutMs: v["peer-timeout-ms"],
    syncDelayMs: v["sync-delay-ms"],
    syncRetryMs: v["sync-retry-ms"],
    verifyIntervalMs: v["verify-interval-ms"],
    reportIntervalMs: v["report-interval-ms"],
    suspicionTimeoutMs: v["suspicion-timeout-ms"],
    failThreshold: v["fail-threshold"],
    snapshotChunkBytes,
    maxSnapshotStreams: v["max-snapshot-streams"],
    snapshotStallMs: v["snapshot-stall-ms"],
    expireInstances: v["expire-instances"],
    maxClockSkewMs: v["max-clock-skew-ms"],
    tombstoneTtlMs: v["tombstone-ttl-ms"],
    connectionGraceMs: v["connection-grace-ms"],
    trustedProxies: v["trusted-proxies"],
    healthCheck: { allow: v["health-check-allow"], loopback: v["health-check-loopback"] },
    http: {
      headersTimeoutMs,
      requestTimeoutMs,
      keepAliveTimeoutMs: v["http-keep-alive-timeout-ms"],
      maxConnections: v["http-max-connections"],
    },
    shutdownTimeoutMs: v["shutdown-timeout-ms"],
    dataDir: resolve(cwd, v["data-dir"] ?? join(env.NACOS_HOME ?? cwd, "data")),
    membersSource:
      membersDns !== undefined && !standalone
        ? `DNS ${membersDns.name}:${membersDns.port}`
        : standalone && members.length === 0
          ? "none (standalone)"
          : source,
    auth: authOf(v, standalone, secret),
    membersRefreshMs: v["members-refresh-ms"],
    membersDns: standalone ? undefined : membersDns,
    ignoredImageVariables: ignoredImageVariables(env),
  };
}

/** The peer transport actually used: `auto` never downgrades to plaintext HTTP when TLS is configured. */
export function effectivePeerTransport(config: Pick<RuntimeConfig, "peerTransport" | "tls">): PeerTransportMode {
  return config.tls !== undefined && config.peerTransport === "auto" ? "grpc" : config.peerTransport;
}

// ---- the node configuration ----

/** Settings of the node that are not options: Nacos's own values, fixed by design. */
const FIXED = {
  /** Keys and instances per sync batch (1.4: batchSyncKeyCount 1000). */
  syncMaxKeys: 1000,
  syncMaxInstances: 20_000,
  /** The least time between two sync batches to one quiet peer: at most 50 calls a second per peer. */
  syncMinIntervalMs: 20,
  /** Retries of a failed sync back off up to this (or the first retry delay, if larger). */
  syncRetryMaxMs: 30_000,
  verifyBuckets: 64,
  verifyQueryBatchKeys: 1000,
  snapshotRetryDelayMs: 3000,
  /** A starting node whose peers have no snapshot to give for this long starts as the first node. */
  snapshotGiveUpMs: 10_000,
  heartbeatCheckPeriodMs: 5000,
  /** How often a node looks for the instances of connections gone with their node (connection-grace.ts). */
  connectionSweepMs: 5000,
  purgeIntervalMs: 5_000,
  /** A key a 1.4 owner stopped sending is dropped after this (1.4 retries a failed load after 30 s). */
  nacos14RemoveAfterMs: 30_000,
  nacos14FetchBatchKeys: 1000,
  /** 1.4's `serviceStatusSynchronizationPeriodMillis`. */
  nacos14StatusReportMs: 5000,
} as const;

/** UDP push to 1.x subscribers (what each setting means: PushConfig). */
export const PUSH_CONFIG: PushConfig = Object.freeze({
  coalesceWindowMs: 1_000,
  minCoalesceWindowMs: 20,
  pushesPerServicePerSecond: 5_000,
  ackTimeoutMs: 10_000,
  maxRetries: 1,
  zombieTimeoutMs: undefined,
  sweepPeriodMs: 20_000,
  maxSubscriptionsPerClient: 4096,
  maxSubscriptionsPerConnection: 4096,
  maxSubscriptionsPerService: 10_000,
  maxFailedPushes: 3,
  mutedForMs: 5 * 60_000,
});

/**
 * The 2.x client port's fixed bounds (what each means: ClientPortLimits); Nacos's detection timing. The limits an
 * operator sizes (connections, message size) are options.
 */
export function clientPortLimits(c: RuntimeConfig): ClientPortLimits {
  return {
    maxMessageBytes: c.maxMessageBytes,
    // A request is small: a batch of a few thousand instances fits.
    maxRequestBytes: Math.min(c.maxMessageBytes, 1024 * 1024),
    maxConnections: c.clientMaxConnections,
    maxConnectionsPerIp: c.clientMaxConnectionsPerIp,
    maxCallsPerConnection: 32,
    maxServerRequestsPerConnection: 16,
    serverRequestTimeoutMs: 5_000,
    resetTimeoutMs: 1_000,
    idleMs: 20_000,
    detectionTimeoutMs: 5_000,
    sweepMs: 3_000,
  };
}

/** What one peer message may carry: one sync batch, one verify detail, one service. */
export const messageBudget = (maxMessageBytes: number): number => maxMessageBytes - MESSAGE_OVERHEAD_BYTES;

export function nodeConfigOf(c: RuntimeConfig, version: string): NodeConfig {
  const budget = messageBudget(c.maxMessageBytes);
  const mode = effectivePeerTransport(c);
  return {
    self: joinAddress(c.ip, c.port),
    members: c.members,
    membersDns: c.membersDns === undefined ? undefined : { ...c.membersDns, refreshMs: c.membersRefreshMs },
    version,
    grpcPort: c.grpcPort,
    abilities: { grpcPeer: mode !== "http", httpPeer: mode !== "grpc" },
    distro: {
      sync: {
        delayMs: c.syncDelayMs,
        retryBaseMs: c.syncRetryMs,
        retryMaxMs: Math.max(FIXED.syncRetryMaxMs, c.syncRetryMs),
        minIntervalMs: Math.min(FIXED.syncMinIntervalMs, c.syncDelayMs),
        maxKeys: FIXED.syncMaxKeys,
        maxInstances: FIXED.syncMaxInstances,
        maxBytes: budget,
      },
      verify: {
        intervalMs: c.verifyIntervalMs,
        bucketCount: FIXED.verifyBuckets,
        queryBatchKeys: FIXED.verifyQueryBatchKeys,
        maxDetailBytes: budget,
      },
      snapshot: {
        chunkBytes: c.snapshotChunkBytes,
        maxStreams: c.maxSnapshotStreams,
        retryDelayMs: FIXED.snapshotRetryDelayMs,
        giveUpAfterMs: FIXED.snapshotGiveUpMs,
      },
    },
    membership: {
      reportIntervalMs: c.reportIntervalMs,
      failThreshold: c.failThreshold,
      suspicionTimeoutMs: c.suspicionTimeoutMs,
      maxClockSkewMs: c.maxClockSkewMs,
    },
    heartbeat: { periodMs: FIXED.heartbeatCheckPeriodMs, expireInstances: c.expireInstances },
    connections: { graceMs: c.connectionGraceMs, sweepMs: FIXED.connectionSweepMs },
    nacos14: {
      removeAfterMs: FIXED.nacos14RemoveAfterMs,
      fetchBatchKeys: FIXED.nacos14FetchBatchKeys,
      statusReportMs: FIXED.nacos14StatusReportMs,
    },
    tombstoneTtlMs: c.tombstoneTtlMs,
    purgeIntervalMs: FIXED.purgeIntervalMs,
    maxServiceBytes: budget,
    maxTableBytes: tableBytes(budget, mode === "grpc" ? undefined : c.bodyLimitBytes),
  };
}

/**
 * The bytes the cluster tables may take. Every member report carries them whole (every 2 s), through gRPC and,
 * when a peer may be reached over HTTP, through the 1.4 report body: a quarter of the smaller limit leaves room
 * for the rest of the report, for an HTTP answer that carries it as an escaped JSON string, and keeps what every
 * report costs small.
 */
const tableBytes = (messageBudget: number, bodyLimitBytes: number | undefined): number =>
  Math.floor(Math.min(messageBudget, bodyLimitBytes ?? messageBudget) / 4);

/** The configuration with every option at its default (tests and the simulator). */
export const DEFAULTS: RuntimeConfig = configOf(values([], {}), [], {}, "/nonexistent");

/** A node at every default, as `self` among `members` (tests and the simulator). */
export function defaultNodeConfig(self: string, members: readonly string[] = []): NodeConfig {
  const { host, port } = splitAddress(self);
  const all = members.length === 0 ? [self] : members;
  return nodeConfigOf({ ...DEFAULTS, ip: host, port, members: all, standalone: all.every((m) => m === self) }, "0.1.0");
}
