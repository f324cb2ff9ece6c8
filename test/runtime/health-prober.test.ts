/**
 * The network prober against real listeners on loopback: a refused target is never connected to (by IP or by a
 * name that resolves to it), an allowed one is probed as before, and an HTTP probe names its own host and agent.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingHttpHeaders } from "node:http";
import { createServer, type Server } from "node:net";
import { after, test } from "node:test";
import { probeHeaders } from "../../src/core/cluster-settings.js";
import { networkProber } from "../../src/runtime/health-prober.js";
import { ProbeTargets, type ProbeTargetRules } from "../../src/runtime/probe-targets.js";

const servers: Array<{ close(): unknown }> = [];
after(() => {
  for (const s of servers) s.close();
});

const prober = (overrides: Partial<ProbeTargetRules> = {}) =>
  networkProber(new ProbeTargets({ allow: [], loopback: true, ownPorts: [], localAddresses: [], ...overrides }));

/** A TCP listener on 127.0.0.1 counting the connections it accepts. */
async function listener(): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  return { port: (server.address() as { port: number }).port, accepted: () => accepted };
}

test("a refused target is never connected to, by its IP or by a name resolving to it; an allowed one is probed", async () => {
  const target = await listener();
  const closed = prober({ loopback: false });
  for (const host of ["127.0.0.1", "localhost"]) {
    const tcp = await closed.tcp(host, target.port, 1000);
    assert.equal(tcp.result, "refused", `${host}: ${tcp.detail}`);
    assert.match(tcp.detail, /^tcp:refused:.*a loopback address/);
    const http = await closed.http({ ip: host, port: target.port, path: "/", headers: [], expectedStatus: 200 }, 1000);
    assert.equal(http.result, "refused", `${host}: ${http.detail}`);
  }
  const own = await prober({ ownPorts: [target.port] }).tcp("127.0.0.1", target.port, 1000);
  assert.deepEqual([own.result, own.detail], ["refused", `tcp:refused:127.0.0.1:${target.port} is a port of this node`]);
  assert.equal((await prober().tcp("169.254.169.254", 80, 1000)).result, "refused");
  assert.equal(target.accepted(), 0, "no connection reached the refused target");
  assert.deepEqual(await prober().tcp("127.0.0.1", target.port, 1000), { result: "up", detail: "tcp:ok" });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(target.accepted(), 1);
});

test("an HTTP probe sends the checker's headers but its own Host and User-Agent, whatever the checker says", async () => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createHttpServer((req, res) => {
    seen.push(req.headers);
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  const port = (server.address() as { port: number }).port;
  // What a peer (or an older data directory) may still carry: the reserved names are dropped, not sent.
  const headers = probeHeaders("Host:evil.example|user-agent:x|X-Probe:nacos|HOST:again");
  assert.deepEqual(headers, [["X-Probe", "nacos"]]);
  const outcome = await prober().http({ ip: "127.0.0.1", port, path: "/health", headers, expectedStatus: 200 }, 2000);
  assert.equal(outcome.result, "up", outcome.detail);
  assert.equal(seen[0]!.host, `127.0.0.1:${port}`);
  assert.equal(seen[0]!["user-agent"], "VIPServer");
  assert.equal(seen[0]!["x-probe"], "nacos");
  // Even headers that were never filtered cannot displace the agent: the probe's own comes last.
  await prober().http({ ip: "127.0.0.1", port, path: "/", headers: [["User-Agent", "x"]], expectedStatus: 200 }, 2000);
  assert.equal(seen[1]!["user-agent"], "VIPServer");
});
