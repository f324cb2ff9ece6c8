/**
 * Namespaces with real processes: they live in the cluster tables, so one created or changed on any node
 * reaches every member through the member reports, and an acknowledged change is on disk — a node SIGKILLed
 * and restarted from its data directory lists it before it hears from anyone.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const PATH = "/nacos/v1/console/namespaces";
const start = nodeStarter();

/** `id=show name` of every namespace a node lists, public (the empty id) first. */
async function namespacesOf(node: NodeProcess): Promise<string[]> {
  const res = await nacos(node.url, "GET", PATH);
  assert.equal(res.status, 200, res.text);
  return (res.json().data as Array<{ namespace: string; namespaceShowName: string }>).map((n) => `${n.namespace}=${n.namespaceShowName}`);
}

async function change(node: NodeProcess, method: string, params: Record<string, string>): Promise<void> {
  const res = await nacos(node.url, method, PATH, params);
  assert.deepEqual([res.status, res.text], [200, "true"], `${method} ${JSON.stringify(params)}`);
}

async function allList(nodes: readonly NodeProcess[], expected: readonly string[], what: string): Promise<void> {
  let seen: string[][] = [];
  await waitUntil(
    async () => {
      seen = await Promise.all(nodes.map(namespacesOf));
      return seen.every((list) => JSON.stringify(list) === JSON.stringify(expected));
    },
    20_000,
    () => `${what}: expected ${JSON.stringify(expected)} everywhere, saw ${JSON.stringify(seen)}`,
  );
}

test("standalone: namespaces survive SIGKILL and a restart from the data directory", { timeout: 60_000 }, async () => {
  const first = await start({});
  await change(first, "POST", { customNamespaceId: "dev", namespaceName: "Development", namespaceDesc: "for devs" });
  await change(first, "POST", { customNamespaceId: "gone", namespaceName: "Gone" });
  await change(first, "DELETE", { namespaceId: "gone" });
  await first.stop("SIGKILL");

  const second = await start({ port: first.port, dataDir: first.dataDir });
  assert.deepEqual(await namespacesOf(second), ["=public", "dev=Development"]);
  const detail = (await nacos(second.url, "GET", PATH, { show: "all", namespaceId: "dev" })).json();
  assert.equal(detail.namespaceDesc, "for devs");
});

test("a 3-node cluster: a namespace created or changed on one node reaches the others, and a restarted node catches up", {
  timeout: 120_000,
}, async () => {
  const ports = [await freePort(), await freePort(), await freePort()];
  const args = ["--members", ports.map((p) => `127.0.0.1:${p}`).join(","), "--report-interval-ms", "500"];
  const nodes = await Promise.all(ports.map((port) => start({ port, args, timeoutMs: 60_000 })));
  const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess];

  await change(a, "POST", { customNamespaceId: "team-a", namespaceName: "Team A" });
  await allList(nodes, ["=public", "team-a=Team A"], "created on A");
  await change(b, "PUT", { namespace: "team-a", namespaceShowName: "Team A2" });
  await allList(nodes, ["=public", "team-a=Team A2"], "renamed on B");

  await c.stop("SIGKILL");
  await change(a, "POST", { customNamespaceId: "late", namespaceName: "Late" });
  const restarted = await start({ port: c.port, dataDir: c.dataDir, args, timeoutMs: 60_000 });
  assert.ok((await namespacesOf(restarted)).includes("team-a=Team A2"), "its own data directory, before any report");
  await allList([a, b, restarted], ["=public", "late=Late", "team-a=Team A2"], "created while C was down");
  await change(restarted, "DELETE", { namespaceId: "team-a" });
  await allList([a, b, restarted], ["=public", "late=Late"], "deleted on the restarted node");
});

test("anonymous creation is rate-limited: of 1,000 POSTs within seconds only the burst and one a second are taken", {
  timeout: 60_000,
}, async () => {
  const node = await start({});
  const started = Date.now();
  let created = 0;
  for (let batch = 0; batch < 20 && Date.now() - started < 10_000; batch++) {
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        nacos(node.url, "POST", PATH, { customNamespaceId: `flood-${batch}-${i}`, namespaceName: "flood" }),
      ),
    );
    for (const a of answers) {
      if (a.status === 200) created++;
      else assert.match(`${a.status} ${a.text}`, /^429 too many namespaces created without signing in, try again in \d+ s$/);
    }
  }
  const seconds = Math.ceil((Date.now() - started) / 1000);
  assert.ok(created <= 20 + seconds, `${created} namespaces created in ${seconds} s`);
  assert.equal((await namespacesOf(node)).length, 1 + created, "the node holds exactly what it acknowledged");
});
