import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig, parseClusterConf } from "../../src/runtime/config.js";

test("cluster.conf: comments, several entries per line, default port, IPv6", () => {
  const text = [
    "#2026-11-22 header written by nacos",
    "127.0.0.1:8848  # first",
    "127.0.0.2, 127.0.0.3:9000",
    "",
    "[::1]:8850",
  ].join("\n");
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
    [["--no-such-flag"], /Unknown option/],
    [["--cluster-conf", "/nonexistent/cluster.conf", "--port", "8848"], /cannot read cluster.conf/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => loadConfig(argv, {}, tmpdir()), (err: unknown) => err instanceof ConfigError && message.test(err.message), argv.join(" "));
  }
});
