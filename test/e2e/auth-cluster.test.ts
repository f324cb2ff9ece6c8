/**
 * Auth in a 3-node cluster of real processes: the admin is created once for the whole cluster (one log line,
 * one one-time password that works on every node, from the first member by address), a user, role
 * and permission made on one node let that user in on every node, and all of it survives a SIGKILL of every
 * node and a restart from their data directories.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { freePort, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const start = nodeStarter();
const WRITER = { username: "writer", password: "writer-pass" };
/** Filled in once the admin's one-time password is read from the log of the node that created it. */
const ADMIN = { username: "nacos", password: "" };

/** The bootstrap's log lines across `nodes`: one per admin created. */
const creations = (nodes: readonly NodeProcess[]): string[] =>
  nodes.flatMap((n) => n.output().split("\n")).filter((line) => line.includes("created the admin user"));

async function login(node: NodeProcess, who: { username: string; password: string }): Promise<string | undefined> {
  const res = await nacos(node.url, "POST", "/nacos/v1/auth/users/login", who);
  return res.status === 200 ? (res.json().accessToken as string) : undefined;
}

/**
 * An admin call on `node`, retried while it refuses what another node has just created (`user ... not
 * found`): the tables reach the other nodes with the next member reports, within a few seconds.
 */
async function admin(node: NodeProcess, method: string, path: string, params: Record<string, string>): Promise<void> {
  let last = "";
  await waitUntil(
    async () => {
      const accessToken = await login(node, ADMIN);
      const res = await nacos(node.url, method, path, { ...params, accessToken: accessToken ?? "" });
      last = `${res.status} ${res.text}`;
      return res.status === 200;
    },
    15_000,
    () => `${method} ${path} on ${node.address}: ${last}`,
  );
}

test("users, roles and permissions made on one node work on every node, and survive a restart of all", { timeout: 120_000 }, async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  // No --admin-password: a node that creates the admin prints its own one-time password, so two creations
  // would show as two lines and two passwords, of which only the last written works.
  const env = {
    NACOS_AUTH_ENABLE: "true",
    NACOS_AUTH_TOKEN: randomBytes(32).toString("base64"),
    NACOS_CLUSTER_SECRET: randomBytes(16).toString("hex"),
  };
  const args = ["--members", members, "--report-interval-ms", "500"];
  const nodes = await Promise.all(ports.map((port) => start({ port, args, env, timeoutMs: 60_000 })));
  const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];
  await waitUntil(
    () => creations(nodes).length > 0,
    20_000,
    () => "some node creates the admin",
  );
  ADMIN.password = /one-time password (\S+)/.exec(creations(nodes)[0]!)?.[1] ?? "";
  await waitUntil(
    async () => (await Promise.all(nodes.map((n) => login(n, ADMIN)))).every((t) => t !== undefined),
    20_000,
    () => "the admin can log in on every node with the one password printed",
  );
  assert.equal(creations(nodes).length, 1, `one creation for the cluster:\n${creations(nodes).join("\n")}`);
  const first = [...nodes].sort((x, y) => (x.address < y.address ? -1 : 1))[0]!;
  assert.equal(creations([first]).length, 1, "by the first member by address");

  await admin(a, "POST", "/nacos/v1/auth/users", { username: WRITER.username, password: WRITER.password });
  await admin(b, "POST", "/nacos/v1/auth/roles", { role: "writers", username: WRITER.username });
  await admin(c, "POST", "/nacos/v1/auth/permissions", { role: "writers", resource: "public:*:*", action: "rw" });
  const register = (n: NodeProcess, ip: string) =>
    nacos(n.url, "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip, port: "8080", ...WRITER });
  await waitUntil(
    async () => (await Promise.all(nodes.map((n, i) => register(n, `192.0.2.${i + 1}`)))).every((r) => r.status === 200),
    20_000,
    () => "the writer may register through every node",
  );
  const anonymous = await nacos(a.url, "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip: "192.0.2.9", port: "8080" });
  assert.deepEqual([anonymous.status, anonymous.text], [403, "user not found!"]);

  await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
  const again = await Promise.all(nodes.map((n, i) => start({ port: ports[i]!, dataDir: n.dataDir, args, env, timeoutMs: 60_000 })));
  for (const n of again) assert.ok(await login(n, WRITER), `${n.address}: the writer logs in after the restart`);
  for (const [i, n] of again.entries())
    assert.equal((await register(n, `192.0.2.${i + 4}`)).status, 200, `${n.address}: and may still register`);
  const hosts = await nacos(a.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "orders", ...WRITER });
  assert.ok(!JSON.stringify(hosts.json().hosts).includes("192.0.2.9"), "the refused register left nothing");
  for (const n of again) assert.ok(await login(n, ADMIN), `${n.address}: the admin's password survived the restart`);
  assert.equal(creations([...nodes, ...again]).length, 1, "and nobody created the admin again, before or after the restart");
});
