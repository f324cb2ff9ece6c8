/**
 * The data directory with real processes: what is not ephemeral (persistent instances, service settings,
 * switches) survives SIGKILL of a standalone node, of every node of a cluster at once, and of one node while
 * the others change it — nothing deleted comes back — and a torn last record is survived with a warning. A full
 * disk (RLIMIT_FSIZE on the node) refuses the write it cannot take and loses nothing acknowledged after it; bytes
 * flipped in a real log cost only the records they hit.
 * Switches set on one node reach every node. Persistent instances are health-checked by TCP: each points at a
 * listener this test keeps open on 127.0.0.1, so every one stays healthy and the views compared are stable.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { execFileSync } from "node:child_process";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type LogRecord, logRecords, replayRecords } from "../support/log-records.js";
import { freePort, freshDataDir, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const listeners: Server[] = [];
const PORTS: string[] = [];

before(async () => {
  for (let i = 0; i < 6; i++) {
    const server = createServer((socket) => socket.destroy());
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    listeners.push(server);
    PORTS.push(String((server.address() as { port: number }).port));
  }
});

after(() => {
  for (const l of listeners) l.close();
});

const start = nodeStarter();

async function ok(base: string, method: string, path: string, params: Record<string, string>): Promise<void> {
  const res = await nacos(base, method, path, params);
  assert.equal(res.status, 200, `${method} ${path} ${JSON.stringify(params)}: ${res.status} ${res.text}`);
}

/** The n-th persistent instance (1-based): 127.0.0.1 on the n-th listener. */
const address = (n: number) => ({ ip: "127.0.0.1", port: PORTS[n - 1]! });
const register = (base: string, serviceName: string, n: number, extra: Record<string, string> = {}) =>
  ok(base, "POST", "/nacos/v1/ns/instance", { serviceName, ...address(n), ephemeral: "false", ...extra });
const deregister = (base: string, serviceName: string, n: number) =>
  ok(base, "DELETE", "/nacos/v1/ns/instance", { serviceName, ...address(n), ephemeral: "false" });

interface Host {
  readonly ip: string;
  readonly port: number;
}

/** What a client sees of a service: its hosts (by port, without per-answer stamps) and its detail. */
async function view(base: string, serviceName: string, extra: Record<string, string> = {}): Promise<{ hosts: Host[]; detail: unknown }> {
  const list = (await nacos(base, "GET", "/nacos/v1/ns/instance/list", { serviceName, ...extra })).json() as { hosts: Host[] };
  const detail = await nacos(base, "GET", "/nacos/v1/ns/service", { serviceName, ...extra });
  return { hosts: [...list.hosts].sort((a, b) => a.port - b.port), detail: detail.status === 200 ? detail.json() : detail.status };
}

/** Which of the numbered instances a node lists (an ephemeral one on another port shows as 0). */
const listed = async (base: string, serviceName: string): Promise<number[]> =>
  (await view(base, serviceName)).hosts.map((h) => PORTS.indexOf(String(h.port)) + 1).sort((x, y) => x - y);

const switchesOf = async (base: string): Promise<Record<string, unknown>> =>
  (await nacos(base, "GET", "/nacos/v1/ns/operator/switches")).json();

test("standalone: SIGKILL and a restart from the data directory bring back every persistent instance, service setting and switch", {
  timeout: 60_000,
}, async () => {
  const first = await start({});
  const { url } = first;
  await ok(url, "POST", "/nacos/v1/ns/service", {
    serviceName: "orders",
    protectThreshold: "0.5",
    metadata: "team=pay,tier=gold",
    selector: JSON.stringify({ type: "label", expression: "CONSUMER.label.zone = PROVIDER.label.zone" }),
  });
  await ok(url, "PUT", "/nacos/v1/ns/cluster", {
    serviceName: "orders",
    clusterName: "east",
    checkPort: "80",
    useInstancePort4Check: "true",
    healthChecker: JSON.stringify({ type: "TCP" }),
    metadata: JSON.stringify({ rack: "r1" }),
  });
  await register(url, "orders", 1, { weight: "2.5", metadata: JSON.stringify({ zone: "a" }), clusterName: "east" });
  await register(url, "orders", 2, { enabled: "false" });
  await register(url, "orders", 3);
  await deregister(url, "orders", 3);
  await register(url, "payments", 4, { groupName: "BILLING", namespaceId: "prod" });
  await ok(url, "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip: "192.0.2.4", port: "8080" }); // ephemeral
  await ok(url, "PUT", "/nacos/v1/ns/operator/switches", { entry: "clientBeatInterval", value: "7000" });
  await ok(url, "PUT", "/nacos/v1/ns/operator/switches", { entry: "pushEnabled", value: "false" });
  const before = await view(url, "orders");
  const payments = await view(url, "BILLING@@payments", { namespaceId: "prod" });
  const switches = await switchesOf(url);
  await first.stop("SIGKILL");

  const second = await start({ port: first.port, dataDir: first.dataDir });
  const after = await view(second.url, "orders");
  assert.deepEqual(
    after.hosts,
    before.hosts.filter((h) => h.ip !== "192.0.2.4"),
    "persistent instances, field for field; the ephemeral one is gone",
  );
  assert.deepEqual(after.detail, before.detail, "service and cluster settings");
  assert.deepEqual(await view(second.url, "BILLING@@payments", { namespaceId: "prod" }), payments, "another namespace and group");
  assert.deepEqual(await switchesOf(second.url), switches, "switches");
  assert.deepEqual(await listed(second.url, "orders"), [1], "the deregistered one stays gone (2 is disabled: not listed)");
});

test("a torn last record in the data directory is dropped with a warning; everything before it is back", { timeout: 60_000 }, async () => {
  const first = await start({});
  await register(first.url, "orders", 1);
  await register(first.url, "orders", 2);
  await first.stop("SIGKILL");
  const torn = Buffer.alloc(20);
  torn.writeUInt32LE(4096, 0); // a record head announcing more than follows: a write cut by the crash
  appendFileSync(join(first.dataDir, "naming.log"), torn);
  const second = await start({ port: first.port, dataDir: first.dataDir });
  assert.deepEqual(await listed(second.url, "orders"), [1, 2]);
  assert.match(second.output(), /torn or corrupt tail/);
});

/** Three members on fresh ports, each with its own data directory. */
async function cluster(): Promise<{ nodes: NodeProcess[]; restart(i: number): Promise<NodeProcess> }> {
  const ports = [await freePort(), await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const args = ["--members", members, "--verify-interval-ms", "1000", "--report-interval-ms", "500"];
  const nodes = await Promise.all(ports.map((port) => start({ port, args, timeoutMs: 60_000 })));
  return {
    nodes,
    restart: (i) => start({ port: ports[i]!, dataDir: nodes[i]!.dataDir, args, timeoutMs: 60_000 }),
  };
}

test("a 3-node cluster: a switch set on one node reaches all; after all three are SIGKILLed, every node lists everything within 30 s", {
  timeout: 120_000,
}, async () => {
  const { nodes, restart } = await cluster();
  await ok(nodes[1]!.url, "PUT", "/nacos/v1/ns/operator/switches", { entry: "clientBeatInterval", value: "8000" });
  await waitUntil(
    async () => (await Promise.all(nodes.map((n) => switchesOf(n.url)))).every((s) => s.clientBeatInterval === 8000),
    15_000,
    () => "the switch reaches every node",
  );
  const services = ["orders", "payments", "users", "stock", "mail", "search"];
  for (const [i, name] of services.entries()) {
    await ok(nodes[i % 3]!.url, "POST", "/nacos/v1/ns/service", { serviceName: name, protectThreshold: "0.25", metadata: `n=${i}` });
    for (let k = 1; k <= 3; k++) await register(nodes[(i + k) % 3]!.url, name, k);
  }
  const views = async (n: NodeProcess): Promise<string> =>
    JSON.stringify([await Promise.all(services.map((s) => view(n.url, s))), await switchesOf(n.url)]);
  let expected = "";
  await waitUntil(
    async () => {
      const seen = await Promise.all(nodes.map(views));
      expected = seen[0]!;
      const [serviceViews] = JSON.parse(expected) as [Array<{ hosts: unknown[] }>];
      return serviceViews.every((v) => v.hosts.length === 3) && seen.every((v) => v === expected);
    },
    20_000,
    () => "the cluster agrees before the crash",
  );
  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  const restartedAt = Date.now();
  const again = await Promise.all([0, 1, 2].map(restart));
  await waitUntil(
    async () => (await Promise.all(again.map(views))).every((v) => v === expected),
    30_000,
    () => "every node lists every persistent instance, service setting and switch",
  );
  assert.ok(Date.now() - restartedAt <= 30_000);
});

test("a node killed while others register and deregister persistent instances agrees with them after its restart; nothing deleted comes back", {
  timeout: 120_000,
}, async () => {
  const { nodes, restart } = await cluster();
  const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
  for (const n of [1, 2, 3]) await register(a.url, "orders", n);
  await waitUntil(
    async () => (await listed(c.url, "orders")).length === 3,
    20_000,
    () => "c holds the three instances",
  );
  await c.stop("SIGKILL");
  // The owner of `orders` may be c: writes go through once a and b see it DOWN and take its services over.
  await waitUntil(
    async () => {
      const lists = await Promise.all([a, b].map(async (n) => (await nacos(n.url, "GET", "/nacos/v1/core/cluster/nodes")).json()));
      return lists.every((l: { data: Array<{ address: string; state: string }> }) =>
        l.data.some((m) => m.address === c.address && m.state === "DOWN"),
      );
    },
    20_000,
    () => "a and b see c DOWN",
  );
  await deregister(b.url, "orders", 1);
  await deregister(a.url, "orders", 2);
  await register(b.url, "orders", 4);
  const expected = [3, 4];
  let lastSeen = "";
  const back = await restart(2);
  const all = [a, b, back];
  await waitUntil(
    async () => {
      lastSeen = JSON.stringify(await Promise.all(all.map((n) => listed(n.url, "orders"))));
      return lastSeen === JSON.stringify([expected, expected, expected]);
    },
    30_000,
    () => `all three list exactly the instances left (${expected}); last seen: ${lastSeen}`,
  );
  // A few verify rounds later (1 s each), still nothing removed has come back anywhere.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  for (const n of all) assert.deepEqual(await listed(n.url, "orders"), expected, n.address);
});

/** The persistent instances a node holds, as `service:ip:port`, from the catalog and each service's instance list. */
async function persistentInstances(base: string): Promise<string[]> {
  const catalog = (await nacos(base, "GET", "/nacos/v1/ns/catalog/services", { pageNo: "1", pageSize: "200" })).json() as {
    serviceList: Array<{ name: string }>;
  };
  const held: string[] = [];
  for (const { name } of catalog.serviceList) {
    const list = (await nacos(base, "GET", "/nacos/v1/ns/instance/list", { serviceName: name })).json() as { hosts: Host[] };
    for (const h of list.hosts) held.push(`${name}:${h.ip}:${h.port}`);
  }
  return held.sort();
}

const persistentAt = (base: string, serviceName: string, port: number) =>
  nacos(base, "POST", "/nacos/v1/ns/instance", { serviceName, ip: "192.0.2.10", port: String(port), ephemeral: "false" });

test("a full disk (RLIMIT_FSIZE): the failed write gets a 500 and is cut back; after space is back, 10 acknowledged writes survive a restart", {
  timeout: 90_000,
}, async () => {
  const first = await start({});
  const acknowledged: string[] = [];
  for (let i = 0; i < 5; i++) {
    assert.equal((await persistentAt(first.url, "orders", 8000 + i)).status, 200);
    acknowledged.push(`orders:192.0.2.10:${8000 + i}`);
  }
  const log = join(first.dataDir, "naming.log");
  const prlimit = (limit: string) => execFileSync("prlimit", ["--pid", String(first.child.pid), `--fsize=${limit}`]);
  prlimit(`${statSync(log).size + 600}:unlimited`); // room for about one more record (the soft limit: raised again later)
  let refused: { status: number; text: string } | undefined;
  for (let i = 0; i < 20 && refused === undefined; i++) {
    const res = await persistentAt(first.url, "orders", 9000 + i);
    if (res.status === 200) acknowledged.push(`orders:192.0.2.10:${9000 + i}`);
    else refused = res;
  }
  assert.equal(refused?.status, 500, "a write the disk cannot take is refused");
  assert.match(refused.text, /EFBIG/);
  prlimit("unlimited");
  for (let i = 0; i < 10; i++) {
    const res = await persistentAt(first.url, "payments", 7000 + i);
    assert.equal(res.status, 200, res.text);
    acknowledged.push(`payments:192.0.2.10:${7000 + i}`);
  }
  await first.stop("SIGKILL");
  const second = await start({ port: first.port, dataDir: first.dataDir });
  const held = await persistentInstances(second.url);
  for (const instance of acknowledged) assert.ok(held.includes(instance), `${instance} was acknowledged and is back`);
  assert.doesNotMatch(second.output(), /torn|damaged/, "nothing broken was left in the log");
});

/** The persistent instances the given records hold (the last record of a key wins), as `service:ip:port`. */
function instancesIn(records: readonly LogRecord[]): string[] {
  const held: string[] = [];
  for (const [key, value] of replayRecords(records)) {
    const entry = value as { key: string; instance: { ip: string; port: number } | null };
    if (key.startsWith("e\u0000") && entry.instance !== null)
      held.push(`${entry.key.split("@@")[1]}:${entry.instance.ip}:${entry.instance.port}`);
  }
  return held.sort();
}

test("bytes flipped at random offsets of a real log (fixed seeds): the node comes back with every intact record, or refuses naming the file and offset", {
  timeout: 180_000,
}, async () => {
  const writer = await start({});
  for (let i = 0; i < 50; i++) assert.equal((await persistentAt(writer.url, `service-${i}`, 8000 + i)).status, 200);
  await writer.stop();
  const bytes = readFileSync(join(writer.dataDir, "naming.log"));
  const records = logRecords(bytes);
  assert.equal(instancesIn(records).length, 50);
  let next = 0x2545f491; // a fixed seed: every run flips the same bytes
  const random = (below: number): number => {
    next = (Math.imul(next, 1103515245) + 12345) >>> 0;
    return next % below;
  };
  let midFile = 0;
  for (let round = 1; round <= 5; round++) {
    const offsets = Array.from({ length: 1 + random(3) }, () => random(bytes.length));
    const damaged = Buffer.from(bytes);
    for (const at of offsets) damaged[at]! ^= 1 + random(255);
    const dataDir = freshDataDir();
    writeFileSync(join(dataDir, "naming.log"), damaged);
    const intact = records.filter((r) => offsets.every((at) => at < r.at || at >= r.end));
    const node = await start({ dataDir, waitFor: "nothing" });
    await waitUntil(
      async () =>
        node.child.exitCode !== null || (await fetch(`${node.url}/nacos/v1/console/health/readiness`).catch(() => undefined))?.ok === true,
      30_000,
      () => `round ${round}: neither ready nor refused:\n${node.output()}`,
    );
    if (node.child.exitCode !== null) {
      assert.ok(
        offsets.some((at) => at < 12),
        `round ${round} (${offsets}): refused although the header is intact:\n${node.output()}`,
      );
      assert.match(node.output(), /naming\.log .*bytes? [0-9]/, `round ${round}: the refusal names the file and offset`);
      continue;
    }
    assert.deepEqual(await persistentInstances(node.url), instancesIn(intact), `round ${round}: flipped bytes ${offsets}`);
    const firstDamaged = records.find((r) => !intact.includes(r));
    if (firstDamaged !== undefined && firstDamaged !== records.at(-1)) {
      midFile++;
      assert.match(node.output(), /damaged records skipped/, `round ${round}`);
      assert.match(node.output(), new RegExp(`naming\\.log.*at byte ${firstDamaged.at} `), `round ${round}: said where`);
    }
    await node.stop("SIGKILL");
  }
  assert.ok(midFile > 0, "some round damaged a record with intact ones after it");
});
