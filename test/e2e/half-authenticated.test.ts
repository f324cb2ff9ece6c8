/**
 * A cluster whose secret reached only some nodes (the README's block split over terminals) runs
 * half-authenticated: the node without the secret is refused by the other, which it still accepts. Neither may
 * then say it is ready: readiness answers 503 naming the member and the fix on both, each logs one warning,
 * and once both share the secret both are ready.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { freePort, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const start = nodeStarter();
const READINESS = "/nacos/v1/console/health/readiness";

async function readiness(node: NodeProcess): Promise<string> {
  try {
    const res = await fetch(`${node.url}${READINESS}`, { signal: AbortSignal.timeout(5000) });
    return `${res.status} ${await res.text()}`;
  } catch (err) {
    return `unreachable: ${String(err)}`;
  }
}

test("one node with the cluster secret, one without: both readiness 503 naming the member, one warning each; same secret: ready", {
  timeout: 120_000,
}, async () => {
  const ports = [await freePort(), await freePort()] as const;
  const [withSecret, without] = ports.map((p) => `127.0.0.1:${p}`) as [string, string];
  const args = ["--members", `${withSecret},${without}`, "--report-interval-ms", "500"];
  const secret = randomBytes(16).toString("hex");
  const a = await start({ port: ports[0], args, env: { NACOS_CLUSTER_SECRET: secret }, waitFor: "listening" });
  const b = await start({ port: ports[1], args, env: { NACOS_CLUSTER_SECRET: "" }, waitFor: "listening" });
  let seen = ["", ""];
  await waitUntil(
    async () => {
      seen = [await readiness(a), await readiness(b)];
      return seen[0]!.includes(`we refuse ${without}'s peer calls`) && seen[1]!.includes(`${withSecret} refuses our peer calls`);
    },
    30_000,
    () => `readiness: ${seen.join(" | ")}`,
  );
  for (const answer of seen) {
    assert.match(answer, /^503 not ready: /);
    assert.match(answer, /give every node the same --cluster-secret-file or NACOS_CLUSTER_SECRET/);
  }
  // A few more report rounds change nothing and add no warning.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.match(await readiness(a), /^503 /);
  const warnings = (node: NodeProcess, text: string) =>
    node
      .output()
      .split("\n")
      .filter((l) => l.includes(text)).length;
  assert.equal(warnings(a, "refusing a member's peer calls"), 1, a.output());
  assert.equal(warnings(b, "member refuses our peer calls as unauthenticated"), 1, b.output());

  // The node without it restarts with the secret: the cluster is whole and both are ready.
  await b.stop();
  const fixed = await start({ port: ports[1], args, env: { NACOS_CLUSTER_SECRET: secret }, dataDir: b.dataDir, waitFor: "listening" });
  await waitUntil(
    async () => {
      seen = [await readiness(a), await readiness(fixed)];
      return seen.every((s) => s.startsWith("200"));
    },
    40_000,
    () => `readiness after the fix: ${seen.join(" | ")}`,
  );
});
