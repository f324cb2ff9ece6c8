/**
 * The done-when of issue 18: nodes started with only the nacos/nacos-server image's variables
 * (`MODE=cluster NACOS_SERVERS="a:P b:P c:P" PREFER_HOST_MODE=hostname NACOS_SERVER_IP=<name>`) form a cluster
 * when the names resolve (through a hosts file the test controls, bind-mounted over /etc/hosts in each node's
 * private mount namespace) to loopback addresses; a member that comes back at a new address is the same member
 * and gets the data again. Three nodes share one network namespace here, so each binds the address its name
 * resolves to (NACOS_BIND_HOST, the one variable that stands for a pod's own network) — which also makes its old
 * address refuse connections once it moved, so only resolving the name again finds it.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { freePort, nacos, waitUntil } from "../support/node-process.js";

const MAIN = fileURLToPath(new URL("../../dist/src/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "image-hostnames-"));
const HOSTS = join(dir, "hosts");
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Rewrites the hosts file in place (same inode, so every node's bind mount sees it). */
const writeHosts = (names: Record<string, string>) =>
  writeFileSync(
    HOSTS,
    `127.0.0.1 localhost\n${Object.entries(names)
      .map(([n, ip]) => `${ip} ${n}`)
      .join("\n")}\n`,
  );

function startNode(
  name: string,
  ip: string,
  port: number,
  servers: string,
  dataDir: string,
  extra: NodeJS.ProcessEnv = {},
): { child: ChildProcess; output: () => string } {
  const env = {
    PATH: process.env.PATH,
    MODE: "cluster",
    ...(servers === "" ? {} : { NACOS_SERVERS: servers, PREFER_HOST_MODE: "hostname" }),
    NACOS_SERVER_IP: name,
    NACOS_APPLICATION_PORT: String(port),
    NACOS_BIND_HOST: ip,
    NACOS_DATA_DIR: dataDir,
    ...extra,
  };
  const script = `mount --bind "$1" /etc/hosts && exec "$2" "$3"`;
  const child = spawn("unshare", ["-m", "sh", "-c", script, "sh", HOSTS, process.execPath, MAIN], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  children.push(child);
  return { child, output: () => out };
}

const ready = async (url: string): Promise<boolean> => {
  try {
    return (await fetch(`${url}/nacos/v1/console/health/readiness`, { signal: AbortSignal.timeout(3000) })).status === 200;
  } catch {
    return false;
  }
};

const hostsOf = async (url: string, service: string): Promise<string[]> => {
  try {
    const res = await nacos(url, "GET", "/nacos/v1/ns/instance/list", { serviceName: service });
    return res.status === 200 ? (res.json().hosts as Array<{ ip: string }>).map((h) => h.ip).sort() : [];
  } catch {
    return [];
  }
};

test("only the image's variables: a 3-node cluster by host names, a member back at a new IP is the same member", {
  timeout: 240_000,
}, async () => {
  const port = await freePort();
  const servers = `a:${port} b:${port} c:${port}`;
  const ips: Record<string, string> = { a: "127.0.0.11", b: "127.0.0.12", c: "127.0.0.13" };
  writeHosts(ips);
  const nodes = Object.fromEntries(
    Object.entries(ips).map(([n, ip]) => [n, startNode(n, ip, port, servers, mkdtempSync(join(dir, `${n}-`)))]),
  );
  const url = (n: string) => `http://${ips[n]}:${port}`;
  const logs = () =>
    Object.entries(nodes)
      .map(([n, p]) => `--- ${n}\n${p.output().slice(-3000)}`)
      .join("\n");
  await waitUntil(async () => (await Promise.all(["a", "b", "c"].map((n) => ready(url(n))))).every(Boolean), 90_000, logs);
  const reg = await nacos(url("a"), "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80" });
  assert.equal(reg.status, 200, reg.text);
  await waitUntil(
    async () => (await hostsOf(url("c"), "orders")).length === 1,
    30_000,
    () => `c never got the instance\n${logs()}`,
  );

  // b stops; its name moves to a new address; b starts there (a fresh data directory: all it holds comes from peers).
  nodes.b!.child.kill("SIGTERM");
  await once(nodes.b!.child, "exit");
  ips.b = "127.0.0.22";
  writeHosts(ips);
  nodes.b = startNode("b", ips.b, port, servers, mkdtempSync(join(dir, "b2-")));
  const reg2 = await nacos(url("a"), "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip: "192.0.2.11", port: "80" });
  assert.equal(reg2.status, 200, reg2.text);
  await waitUntil(
    async () => (await hostsOf(url("b"), "orders")).join(",") === "192.0.2.10,192.0.2.11",
    90_000,
    () => `b at its new address never got both instances\n${logs()}`,
  );
  await waitUntil(async () => ready(url("b")), 60_000, logs);
  // And the others see b UP again: a write on b reaches them.
  const reg3 = await nacos(url("b"), "POST", "/nacos/v1/ns/instance", { serviceName: "payments", ip: "192.0.2.12", port: "80" });
  assert.equal(reg3.status, 200, reg3.text);
  for (const n of ["a", "c"]) {
    await waitUntil(
      async () => (await hostsOf(url(n), "payments")).length === 1,
      60_000,
      () => `${n} never got b's write\n${logs()}`,
    );
  }
  for (const p of Object.values(nodes)) p.child.kill("SIGTERM");
});

test("MODE=standalone runs alone whatever NACOS_SERVERS says; the image's meaningless variables are logged once, by name only", {
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      MODE: "standalone",
      NACOS_SERVERS: `a:${port} b:${port}`,
      NACOS_APPLICATION_PORT: String(port),
      NACOS_BIND_HOST: "127.0.0.1",
      NACOS_DATA_DIR: mkdtempSync(join(dir, "s-")),
      JVM_XMS: "1g",
      SPRING_DATASOURCE_PLATFORM: "mysql",
      MYSQL_SERVICE_PASSWORD: "hunter2-do-not-log",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  children.push(child);
  await waitUntil(
    () => ready(`http://127.0.0.1:${port}`),
    30_000,
    () => `standalone never ready\n${out}`,
  );
  const reg = await nacos(`http://127.0.0.1:${port}`, "POST", "/nacos/v1/ns/instance", { serviceName: "s", ip: "192.0.2.10", port: "80" });
  assert.equal(reg.status, 200, reg.text);
  const ignored = out.split("\n").filter((l) => l.includes("mean nothing to ts-nacos and are ignored"));
  assert.equal(ignored.length, 1, out);
  for (const name of ["JVM_XMS", "SPRING_DATASOURCE_PLATFORM", "MYSQL_SERVICE_PASSWORD"]) assert.ok(ignored[0]!.includes(name), name);
  assert.equal(out.includes("hunter2-do-not-log"), false, "never a value");
  child.kill("SIGTERM");
});

test("--members-dns: the members are a name's records; a third record joins the cluster, a removed one leaves it", {
  timeout: 240_000,
}, async () => {
  const port = await freePort();
  const ips = ["127.0.0.41", "127.0.0.42", "127.0.0.43"] as const;
  const hosts = (n: number) =>
    writeFileSync(
      HOSTS,
      `127.0.0.1 localhost\n${ips
        .slice(0, n)
        .map((ip) => `${ip} nacos-hs`)
        .join("\n")}\n`,
    );
  hosts(2);
  const extra = { NACOS_MEMBERS_DNS: `nacos-hs:${port}`, NACOS_MEMBERS_REFRESH_MS: "1000" };
  const url = (ip: string) => `http://${ip}:${port}`;
  const nodes = ips.slice(0, 2).map((ip) => startNode(ip, ip, port, "", mkdtempSync(join(dir, "dns-")), extra));
  const logs = () => nodes.map((p, i) => `--- ${ips[i]}\n${p.output().slice(-3000)}`).join("\n");
  await waitUntil(async () => (await Promise.all(ips.slice(0, 2).map((ip) => ready(url(ip))))).every(Boolean), 90_000, logs);
  const reg = await nacos(url(ips[0]), "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80" });
  assert.equal(reg.status, 200, reg.text);
  await waitUntil(
    async () => (await hostsOf(url(ips[1]), "orders")).length === 1,
    30_000,
    () => `the second never got it\n${logs()}`,
  );

  // Scaled up: a third record, a third node; it loads what the others hold and its writes reach them.
  hosts(3);
  nodes.push(startNode(ips[2], ips[2], port, "", mkdtempSync(join(dir, "dns-")), extra));
  await waitUntil(
    async () => (await hostsOf(url(ips[2]), "orders")).length === 1,
    90_000,
    () => `the third never got it\n${logs()}`,
  );
  const reg2 = await nacos(url(ips[2]), "POST", "/nacos/v1/ns/instance", { serviceName: "payments", ip: "192.0.2.11", port: "80" });
  assert.equal(reg2.status, 200, reg2.text);
  for (const ip of ips.slice(0, 2)) {
    await waitUntil(
      async () => (await hostsOf(url(ip), "payments")).length === 1,
      60_000,
      () => `${ip} never got the third's write\n${logs()}`,
    );
  }

  // Scaled down: the third stops and its record goes; the others forget it.
  nodes[2]!.child.kill("SIGTERM");
  await once(nodes[2]!.child, "exit");
  hosts(2);
  const forgot = (out: string) =>
    out.split("\n").some((l) => l.includes("member list changed") && l.includes(`${ips[2]}:${port}`) && l.includes("removed"));
  for (const node of nodes.slice(0, 2)) await waitUntil(() => forgot(node.output()), 30_000, logs);
  for (const p of nodes) p.child.kill("SIGTERM");
});
