import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { hostname } from "node:os";
import {
  ConfigError,
  effectivePeerTransport,
  IMAGE_VARIABLES,
  loadConfig,
  nodeConfigOf,
  parseClusterConf,
} from "../../src/runtime/options.js";

test("cluster.conf: comments, several entries per line, default port, IPv6", () => {
  const text = ["#2026-11-22 header written by nacos", "127.0.0.1:8848  # first", "127.0.0.2, 127.0.0.3:9000", "", "[::1]:8850"].join("\n");
  assert.deepEqual(parseClusterConf(text), ["127.0.0.1:8848", "127.0.0.2:8848", "127.0.0.3:9000", "[::1]:8850"]);
  assert.throws(() => parseClusterConf("127.0.0.1:99999"), /invalid port/);
  assert.throws(() => parseClusterConf("not an address!"), /invalid member address/);
});

test("defaults: standalone on 8848, gRPC on port + 1001, Nacos timers", () => {
  const c = loadConfig([], {}, mkdtempSync(join(tmpdir(), "cfg-")));
  assert.equal(c.port, 8848);
  assert.equal(c.grpcPort, 9849);
  assert.equal(c.standalone, true);
  assert.deepEqual(c.members, ["127.0.0.1:8848"]);
  assert.equal(c.peerTransport, "auto");
  assert.equal(c.syncDelayMs, 1000);
  assert.equal(c.verifyIntervalMs, 5000);
  assert.equal(c.reportIntervalMs, 2000);
});

test("flags beat environment; environment beats cluster.conf", () => {
  const home = mkdtempSync(join(tmpdir(), "cfg-"));
  mkdirSync(join(home, "conf"));
  writeFileSync(join(home, "conf", "cluster.conf"), "127.0.0.1:7001\n127.0.0.1:7002\n");
  const fromConf = loadConfig(["--port", "7001"], { NACOS_HOME: home });
  assert.deepEqual(fromConf.members, ["127.0.0.1:7001", "127.0.0.1:7002"]);
  assert.equal(fromConf.standalone, false);
  assert.equal(fromConf.membersSource, join(home, "conf", "cluster.conf"));
  const fromEnv = loadConfig([], { NACOS_HOME: home, NACOS_SERVER_PORT: "7101", NACOS_SERVERS: "127.0.0.1:7101,127.0.0.1:7102" });
  assert.deepEqual(fromEnv.members, ["127.0.0.1:7101", "127.0.0.1:7102"]);
  const fromFlags = loadConfig(["--port", "7201", "--members", "127.0.0.1:7201,127.0.0.1:7202", "--grpc-port", "7300"], {
    NACOS_SERVERS: "127.0.0.1:7101",
    NACOS_SERVER_PORT: "7101",
  });
  assert.equal(fromFlags.port, 7201);
  assert.equal(fromFlags.grpcPort, 7300);
  assert.deepEqual(fromFlags.members, ["127.0.0.1:7201", "127.0.0.1:7202"]);
});

test("bad settings stop the node with a clear error", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--port", "0"], /--port must be an integer in \[1, 65535\], got '0'/],
    [["--port", "abc"], /--port must be an integer/],
    [["--peer-transport", "carrier-pigeon"], /--peer-transport must be grpc, http or auto/],
    [["--members", "127.0.0.1:1,127.0.0.1:2", "--port", "3"], /is not in the member list/],
    [["--grpc-tls-cert", "x.pem"], /go together/],
    [["--max-message-bytes", "1048576", "--snapshot-chunk-bytes", "524288"], /at most a quarter of --max-message-bytes/],
    [["--no-such-flag"], /^unknown option --no-such-flag \(--help lists every option\)$/],
    [
      ["--cluster-conf", "/nonexistent/cluster.conf", "--port", "8848"],
      /^cannot read \/nonexistent\/cluster.conf: no such file or directory \(--cluster-conf \/ NACOS_CLUSTER_CONF\)$/,
    ],
    [
      ["--grpc-tls-cert", "c.pem", "--grpc-tls-key", "k.pem", "--peer-transport", "http"],
      /would send peer traffic and the secret in plaintext/,
    ],
    [["--cluster-secret", "a", "--cluster-secret-file", "/x"], /exclude each other/],
    [
      ["--cluster-secret-file", "/nonexistent/secret"],
      /^cannot read \/nonexistent\/secret: no such file or directory \(--cluster-secret-file \/ NACOS_CLUSTER_SECRET_FILE\)$/,
    ],
    [["--trusted-proxies", "10.0.0.0/33"], /--trusted-proxies entries must be IP addresses or CIDR blocks, got '10.0.0.0\/33'/],
    [["--trusted-proxies", "proxy.example"], /--trusted-proxies entries must be/],
    [["--http-headers-timeout-ms", "20000", "--http-request-timeout-ms", "10000"], /must be at least --http-headers-timeout-ms/],
    [["--max-clock-skew-ms", "10"], /--max-clock-skew-ms must be an integer in \[1000, 3600000\]/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => loadConfig(argv, {}, tmpdir()),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
      argv.join(" "),
    );
  }
});

test("the secret comes from a flag, the environment or a file (trailing newline dropped), and says where from", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  writeFileSync(join(dir, "secret"), "from-file\n");
  const file = loadConfig(["--cluster-secret-file", join(dir, "secret")], {}, dir);
  assert.deepEqual([file.clusterSecret, file.clusterSecretSource], ["from-file", "file"]);
  const env = loadConfig([], { NACOS_CLUSTER_SECRET: "from-env" }, dir);
  assert.deepEqual([env.clusterSecret, env.clusterSecretSource], ["from-env", "environment"]);
  const envFile = loadConfig([], { NACOS_CLUSTER_SECRET_FILE: join(dir, "secret") }, dir);
  assert.equal(envFile.clusterSecret, "from-file");
  const flag = loadConfig(["--cluster-secret", "from-flag"], {}, dir);
  assert.deepEqual([flag.clusterSecret, flag.clusterSecretSource], ["from-flag", "flag"]);
  assert.deepEqual(loadConfig([], {}, dir).clusterSecretSource, "none");
});

test("with TLS, auto never falls back to the plaintext HTTP peer API; limits and proxies parse", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  const tls = loadConfig(["--grpc-tls-cert", "c.pem", "--grpc-tls-key", "k.pem"], {}, dir);
  assert.equal(effectivePeerTransport(tls), "grpc");
  assert.equal(effectivePeerTransport(loadConfig([], {}, dir)), "auto");
  const c = loadConfig(["--trusted-proxies", "10.0.0.1, 192.168.0.0/16,::1", "--http-max-connections", "100"], {}, dir);
  assert.deepEqual(c.trustedProxies, ["10.0.0.1", "192.168.0.0/16", "::1"]);
  assert.equal(c.http.maxConnections, 100);
  assert.deepEqual([c.maxMessageBytes, c.bodyLimitBytes, c.maxClockSkewMs], [4 * 1024 * 1024, 4 * 1024 * 1024, 60_000]);
});

test("every boolean option can be turned on and off by flag: --flag, --flag true|false, --flag=false, --no-flag", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  const expire = (argv: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(argv, env, dir).expireInstances;
  assert.equal(expire([]), true);
  assert.equal(expire(["--expire-instances", "false"]), false);
  assert.equal(expire(["--expire-instances=false"]), false);
  assert.equal(expire(["--no-expire-instances"]), false);
  assert.equal(expire(["--expire-instances"], { NACOS_EXPIRE_INSTANCES: "false" }), true, "a bare flag is true and beats the environment");
  assert.equal(expire(["--expire-instances", "true"], { NACOS_EXPIRE_INSTANCES: "false" }), true);
  assert.equal(expire(["--no-expire-instances"], { NACOS_EXPIRE_INSTANCES: "true" }), false);
  // A bare boolean flag followed by another flag takes nothing from it.
  const c = loadConfig(["--standalone", "--port", "7001", "--no-health-check-loopback", "--auth-enabled=false"], {}, dir);
  assert.deepEqual([c.standalone, c.port, c.healthCheck.loopback, c.auth], [true, 7001, false, undefined]);
  assert.equal(
    loadConfig(["--standalone", "false", "--members", "127.0.0.1:7001,127.0.0.1:7002", "--port", "7001"], {}, dir).standalone,
    false,
  );
  for (const argv of [["--expire-instances", "no"], ["--expire-instances=1"]]) {
    assert.throws(
      () => loadConfig(argv, {}, dir),
      (err: unknown) => err instanceof ConfigError && /--expire-instances must be true or false/.test(err.message),
      argv.join(" "),
    );
  }
  assert.throws(
    () => loadConfig(["--no-port"], {}, dir),
    (err: unknown) => err instanceof ConfigError && /^unknown option --no-port \(--help lists every option\)$/.test(err.message),
  );
});

test("an unknown log level stops the node listing the allowed ones", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  assert.equal(loadConfig(["--log-level", "debug"], {}, dir).logLevel, "debug");
  for (const [argv, env] of [
    [["--log-level", "verbose"], {}],
    [[], { NACOS_LOG_LEVEL: "verbose" }],
  ] as const) {
    assert.throws(
      () => loadConfig(argv, env, dir),
      (err: unknown) =>
        err instanceof ConfigError && err.message === "--log-level must be fatal, error, warn, info, debug, trace or silent, got 'verbose'",
    );
  }
});

test("a token key published by Nacos is refused, whatever its spelling; a key of one's own is taken", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  const published = [
    "SecretKey012345678901234567890123456789012345678901234567890123456789",
    "VGhpc0lzTXlDdXN0b21TZWNyZXRLZXkwMTIzNDU2Nzg=",
    "VGhpc0lzTXlDdXN0b21TZWNyZXRLZXkwMTIzNDU2Nzg", // the same bytes without padding
    "U2VjcmV0S2V5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5",
  ];
  for (const key of published) {
    assert.throws(
      () => loadConfig(["--auth-enabled"], { NACOS_AUTH_TOKEN: key }, dir),
      (err: unknown) => err instanceof ConfigError && /--auth-token-secret is a key published in Nacos's own/.test(err.message),
      key,
    );
  }
  const own = Buffer.alloc(32, 7).toString("base64");
  assert.equal(loadConfig(["--auth-enabled", "--auth-token-secret", own], {}, dir).auth?.tokenKey.equals(Buffer.alloc(32, 7)), true);
});

test("health-check targets: loopback allowed unless turned off, an allow list of IPs/CIDRs", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  assert.deepEqual(loadConfig([], {}, dir).healthCheck, { allow: [], loopback: true });
  const c = loadConfig(["--health-check-allow", "10.0.0.0/8, 192.0.2.7", "--health-check-loopback", "false"], {}, dir);
  assert.deepEqual(c.healthCheck, { allow: ["10.0.0.0/8", "192.0.2.7"], loopback: false });
  assert.throws(
    () => loadConfig(["--health-check-allow", "metadata.internal"], {}, dir),
    (err: unknown) => err instanceof ConfigError && /--health-check-allow entries must be IP addresses or CIDR blocks/.test(err.message),
  );
});

test("--connection-grace-ms: 30 s unless given (flag or environment), at least a second, and what the node is configured with", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  assert.equal(loadConfig([], {}, dir).connectionGraceMs, 30_000);
  assert.equal(loadConfig(["--connection-grace-ms", "45000"], {}, dir).connectionGraceMs, 45_000);
  assert.equal(loadConfig([], { NACOS_CONNECTION_GRACE_MS: "12000" }, dir).connectionGraceMs, 12_000);
  assert.throws(() => loadConfig(["--connection-grace-ms", "10"], {}, dir), /--connection-grace-ms must be an integer/);
  assert.equal(nodeConfigOf(loadConfig(["--connection-grace-ms", "45000"], {}, dir), "test").connections.graceMs, 45_000);
});

test("the 2.x client port: HTTP port + 1000 by default, a port of its own, or off; never a port already taken; its TLS pair", () => {
  assert.equal(loadConfig([], {}).clientGrpcPort, 9848);
  assert.equal(loadConfig(["--port", "7201"], {}).clientGrpcPort, 8201);
  assert.equal(loadConfig(["--client-grpc-port", "7400"], {}).clientGrpcPort, 7400);
  assert.equal(loadConfig([], { NACOS_CLIENT_GRPC_PORT: "7401" }).clientGrpcPort, 7401);
  assert.equal(loadConfig(["--client-grpc-port", "off"], {}).clientGrpcPort, undefined);
  assert.equal(loadConfig(["--client-grpc-port", "0"], {}).clientGrpcPort, undefined);
  assert.throws(() => loadConfig(["--client-grpc-port", "70000"], {}), /--client-grpc-port must be a port in \[1, 65535\] or off/);
  assert.throws(() => loadConfig(["--client-grpc-port", "8848"], {}), /taken by the HTTP or the gRPC peer port/);
  assert.throws(() => loadConfig(["--client-grpc-port", "9849"], {}), /taken by the HTTP or the gRPC peer port/);
  assert.throws(() => loadConfig(["--client-grpc-tls-cert", "c.pem"], {}), /--client-grpc-tls-cert and --client-grpc-tls-key go together/);
  const tls = loadConfig(["--client-grpc-tls-cert", "c.pem", "--client-grpc-tls-key", "k.pem"], {});
  assert.deepEqual(tls.clientTls, { cert: "c.pem", key: "k.pem", ca: undefined });
  assert.equal(tls.tls, undefined, "the peer port's TLS is its own");
  const limits = loadConfig(["--client-max-connections", "100", "--client-max-connections-per-ip", "10"], {});
  assert.deepEqual([limits.clientMaxConnections, limits.clientMaxConnectionsPerIp], [100, 10]);
});

test("the nacos-server image's variables: MODE, NACOS_APPLICATION_PORT, a space-separated NACOS_SERVERS; ours win", () => {
  const cwd = mkdtempSync(join(tmpdir(), "cfg-"));
  const servers = "127.0.0.1:8880 127.0.0.1:8882  127.0.0.1:8884";
  const cluster = loadConfig([], { NACOS_APPLICATION_PORT: "8884", NACOS_SERVERS: servers, MODE: "cluster" }, cwd);
  assert.equal(cluster.port, 8884);
  assert.equal(cluster.standalone, false);
  assert.deepEqual(cluster.members, ["127.0.0.1:8880", "127.0.0.1:8882", "127.0.0.1:8884"]);
  const alone = loadConfig([], { NACOS_APPLICATION_PORT: "8884", NACOS_SERVERS: servers, MODE: "standalone" }, cwd);
  assert.equal(alone.standalone, true);
  assert.deepEqual(alone.members, ["127.0.0.1:8884"]);
  const ours = loadConfig(
    [],
    { NACOS_APPLICATION_PORT: "8884", NACOS_SERVER_PORT: "8880", NACOS_SERVERS: servers, MODE: "standalone", NACOS_STANDALONE: "false" },
    cwd,
  );
  assert.deepEqual([ours.port, ours.standalone], [8880, false]);
  const flags = loadConfig(["--port", "8882"], { NACOS_APPLICATION_PORT: "8884", NACOS_SERVERS: servers }, cwd);
  assert.equal(flags.port, 8882);
  assert.throws(
    () => loadConfig([], { MODE: "standlone" }, cwd),
    (err: Error) => err instanceof ConfigError && /MODE must be standalone or cluster/.test(err.message),
  );
});

test("the image's host-name mode: members by host name, this node known by NACOS_SERVER_IP or its host name", () => {
  const cwd = mkdtempSync(join(tmpdir(), "cfg-"));
  const servers = "nacos-0.nacos:8848 nacos-1.nacos:8848 nacos-2.nacos:8848";
  const named = loadConfig(
    [],
    { MODE: "cluster", NACOS_SERVERS: servers, PREFER_HOST_MODE: "hostname", NACOS_SERVER_IP: "nacos-1.nacos" },
    cwd,
  );
  assert.deepEqual(named.members, ["nacos-0.nacos:8848", "nacos-1.nacos:8848", "nacos-2.nacos:8848"]);
  assert.equal(nodeConfigOf(named, "x").self, "nacos-1.nacos:8848");
  const own = loadConfig([], { NACOS_SERVERS: `${hostname()}:8848 other:8848`, PREFER_HOST_MODE: "hostname" }, cwd);
  assert.equal(own.ip, hostname(), "without NACOS_SERVER_IP the node is its host name, not a detected IP");
  assert.equal(own.standalone, false);
  assert.throws(
    () => loadConfig(["--ip", "127.0.0.1"], { PREFER_HOST_MODE: "host" }, cwd),
    (err: Error) => err instanceof ConfigError && /PREFER_HOST_MODE must be ip or hostname/.test(err.message),
  );
  assert.equal(loadConfig(["--members-refresh-ms", "250"], {}, cwd).membersRefreshMs, 250);
});

test("the image's auth variables: NACOS_AUTH_ENABLE/TOKEN/TOKEN_EXPIRE_SECONDS, the server identity as the cluster secret", () => {
  const cwd = mkdtempSync(join(tmpdir(), "cfg-"));
  const key = Buffer.alloc(32, 7).toString("base64");
  const identity = { NACOS_AUTH_IDENTITY_KEY: "serverIdentity", NACOS_AUTH_IDENTITY_VALUE: "s3cret" };
  const cluster = { NACOS_SERVERS: "127.0.0.1:8848 127.0.0.1:8850", NACOS_SERVER_IP: "127.0.0.1" };
  const on = loadConfig(
    [],
    { ...cluster, ...identity, NACOS_AUTH_ENABLE: "true", NACOS_AUTH_TOKEN: key, NACOS_AUTH_TOKEN_EXPIRE_SECONDS: "60" },
    cwd,
  );
  assert.equal(on.auth?.tokenTtlSeconds, 60);
  assert.equal(on.clusterSecret, "serverIdentity:s3cret");
  assert.equal(on.clusterSecretSource, "environment");
  const mixed = loadConfig([], { ...cluster, NACOS_AUTH_IDENTITY_KEY: "X-Nacos-Cluster-Secret", NACOS_AUTH_IDENTITY_VALUE: "s3cret" }, cwd);
  assert.equal(mixed.clusterSecret, "s3cret", "the header a 1.4 node sends then carries the value alone");
  const ours = loadConfig([], { ...cluster, ...identity, NACOS_CLUSTER_SECRET: "mine" }, cwd);
  assert.equal(ours.clusterSecret, "mine", "our own variable wins");
  assert.throws(
    () => loadConfig([], { NACOS_AUTH_IDENTITY_KEY: "k" }, cwd),
    /NACOS_AUTH_IDENTITY_KEY and NACOS_AUTH_IDENTITY_VALUE go together/,
  );
  assert.throws(
    () => loadConfig([], { NACOS_AUTH_ENABLE: "true", NACOS_AUTH_TOKEN: "VGhpc0lzTXlDdXN0b21TZWNyZXRLZXkwMTIzNDU2Nzg=" }, cwd),
    /published in Nacos's own configuration/,
    "the image quick-start's key is still refused",
  );
});

test("the image's variables that mean nothing here are listed by name (never value) to be logged once", () => {
  const cwd = mkdtempSync(join(tmpdir(), "cfg-"));
  const env = {
    JVM_XMS: "1g",
    MYSQL_SERVICE_PASSWORD: "hunter2",
    SPRING_DATASOURCE_PLATFORM: "mysql",
    EMBEDDED_STORAGE: "embedded",
    PATH: "/bin",
  };
  const c = loadConfig([], env, cwd);
  assert.deepEqual(c.ignoredImageVariables, ["EMBEDDED_STORAGE", "JVM_XMS", "MYSQL_SERVICE_PASSWORD", "SPRING_DATASOURCE_PLATFORM"]);
  assert.equal(JSON.stringify(c).includes("hunter2"), false);
  assert.deepEqual(loadConfig([], {}, cwd).ignoredImageVariables, []);
  for (const name of ["MODE", "NACOS_SERVERS", "PREFER_HOST_MODE", "NACOS_AUTH_IDENTITY_KEY", "JVM_*", "MYSQL_*"])
    assert.ok(name in IMAGE_VARIABLES, name);
});

test("--members-dns: the members are a name's records (a cluster even before any resolved), excluding --members", () => {
  const cwd = mkdtempSync(join(tmpdir(), "cfg-"));
  const c = loadConfig(["--members-dns", "nacos-headless:8850", "--ip", "127.0.0.41", "--port", "8850"], {}, cwd);
  assert.equal(c.standalone, false);
  assert.deepEqual(c.membersDns, { name: "nacos-headless", port: 8850 });
  assert.deepEqual(c.members, ["127.0.0.41:8850"]);
  assert.equal(c.membersSource, "DNS nacos-headless:8850");
  assert.deepEqual(nodeConfigOf(c, "x").membersDns, { name: "nacos-headless", port: 8850, refreshMs: 5000 });
  const env = loadConfig([], { NACOS_MEMBERS_DNS: "nacos-headless", NACOS_MEMBERS_REFRESH_MS: "1000" }, cwd);
  assert.deepEqual([env.membersDns?.port, env.membersRefreshMs], [8848, 1000]);
  assert.equal(loadConfig([], { NACOS_MEMBERS_DNS: "nacos-headless", MODE: "standalone" }, cwd).membersDns, undefined);
  assert.throws(() => loadConfig(["--members-dns", "a b"], {}, cwd), /--members-dns must be name\[:port\]/);
  assert.throws(() => loadConfig(["--members-dns", "x", "--members", "127.0.0.1:8848"], {}, cwd), /--members-dns replaces --members/);
});
