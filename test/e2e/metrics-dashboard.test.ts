/**
 * The metrics of real node processes (a 2-node cluster on loopback, as `npm start` runs them) against the Grafana
 * dashboard in the repository: the exposition parses, Node's process metrics are there, and every metric each
 * dashboard query selects — and every label it matches on — is in what the nodes expose, so the dashboard cannot
 * drift from the metrics.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RawNacos2Client } from "../support/nacos2-raw-client.js";
import { freePort, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";
import { parseExposition, selectableNames, type Family } from "../support/prometheus-text.js";

const DASHBOARD = fileURLToPath(new URL("../../deploy/grafana/ts-nacos-dashboard.json", import.meta.url));
const start = nodeStarter();

/** PromQL's functions, aggregations and keywords the dashboard uses; any other word outside a selector is a metric. */
const PROMQL_WORDS = new Set(["sum", "min", "max", "rate", "histogram_quantile", "by"]);
/** Labels Prometheus adds at scrape time, and a histogram's bucket bound. */
const SCRAPE_LABELS = new Set(["instance", "job", "le"]);

interface Selector {
  readonly metric: string;
  readonly labels: readonly string[];
}

/** The metrics an expression selects, with the label names its matchers use (`name{a="x",b=~"y"}`). */
function selectorsOf(expr: string): Selector[] {
  const out: Selector[] = [];
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\bby\s*\([^)]*\)/g, "");
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?/g)) {
    const [, word, matchers = ""] = m as unknown as [string, string, string | undefined];
    if (PROMQL_WORDS.has(word) && matchers === "") continue;
    out.push({ metric: word, labels: [...matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!=|!~|=)/g)].map((l) => l[1]!) });
  }
  return out;
}

interface Panel {
  readonly title?: string;
  readonly targets?: ReadonlyArray<{ readonly expr: string }>;
}

function dashboardQueries(): Array<{ where: string; expr: string }> {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
    panels: Panel[];
    templating: { list: Array<{ name: string; definition?: string }> };
  };
  const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
  for (const variable of dashboard.templating.list) {
    const metric = /^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*),/.exec(variable.definition ?? "")?.[1];
    if (metric !== undefined) queries.push({ where: `variable $${variable.name}`, expr: metric });
  }
  return queries;
}

/** Label names a family's samples carry (from their printed label text). */
function labelNamesOf(family: Family): Set<string> {
  const names = new Set<string>();
  for (const key of family.samples.keys()) for (const m of key.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) names.add(m[1]!);
  return names;
}

let nodes: NodeProcess[];
before(async () => {
  const ports = [await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  nodes = await Promise.all(
    ports.map((port) => start({ port, args: ["--members", members], env: { NACOS_CLUSTER_SECRET: "metrics-e2e" } })),
  );
  const [a] = nodes as [NodeProcess];
  const registered = await nacos(a.url, "POST", "/nacos/v1/ns/instance", { serviceName: "scraped", ip: "192.0.2.7", port: "80" });
  assert.equal(registered.status, 200, registered.text);
  // A 2.x client's requests, so the families labelled by request type and result have samples to check labels on.
  const client = new RawNacos2Client(`127.0.0.1:${a.port + 1000}`);
  try {
    await client.ready();
  } finally {
    client.close();
  }
  await waitUntil(
    async () => (await nacos(nodes[1]!.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: "scraped" })).json().hosts?.length === 1,
    20_000,
    () => "the instance replicated to the second node",
  );
});

const scrape = async (node: NodeProcess): Promise<Map<string, Family>> => {
  const res = await nacos(node.url, "GET", "/nacos/actuator/prometheus");
  assert.equal(res.status, 200);
  return parseExposition(res.text);
};

test("a node process's exposition parses, with Node's process metrics and typed counters", async () => {
  for (const node of nodes) {
    const families = await scrape(node);
    for (const [name, { type }] of families) if (type === "counter") assert.ok(name.endsWith("_total"), name);
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_heap_size_used_bytes",
      "nodejs_gc_duration_seconds",
      "nodejs_eventloop_lag_p99_seconds",
      "http_server_requests_seconds",
      "nacos_distro_peer_sync_pending",
    ]) {
      assert.ok(families.has(name), `${name} on ${node.address}`);
    }
    assert.equal(families.get("nacos_members")?.samples.get('{state="UP"}'), 2, node.address);
  }
  const answered = (await scrape(nodes[0]!)).get("nacos_client_request_duration_seconds");
  assert.equal(answered?.type, "histogram");
  assert.ok((answered.samples.get('_count{type="HealthCheckRequest"}') ?? 0) >= 1, "the 2.x client's requests, timed by type");
  // The register's owner (either node) sent it to the other.
  let sent = 0;
  for (const node of nodes) sent += (await scrape(node)).get("nacos_distro_datums_sent_total")?.samples.get("") ?? 0;
  assert.ok(sent >= 1, `the register was replicated: ${sent} datums sent`);
});

test("every metric and label the Grafana dashboard queries is in the nodes' /nacos/actuator/prometheus", async () => {
  const families = await scrape(nodes[0]!);
  const names = selectableNames(families);
  const queries = dashboardQueries();
  assert.ok(queries.length >= 20, `${queries.length} queries`);
  const missing: string[] = [];
  for (const { where, expr } of queries) {
    const selectors = selectorsOf(expr);
    if (selectors.length === 0) missing.push(`${where}: no metric in ${expr}`);
    for (const { metric, labels } of selectors) {
      if (!names.has(metric)) {
        missing.push(`${where}: ${metric}`);
        continue;
      }
      const family = families.get(metric) ?? families.get(metric.replace(/_(bucket|sum|count)$/, ""));
      const known = family === undefined ? new Set<string>() : labelNamesOf(family);
      for (const label of labels) if (!SCRAPE_LABELS.has(label) && !known.has(label)) missing.push(`${where}: ${metric}{${label}}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("every metric the console reads (console/*.js) is in a cluster node's exposition, with the labels it reads", async () => {
  const dir = fileURLToPath(new URL("../../console/", import.meta.url));
  const script = readdirSync(dir)
    .filter((file) => file.endsWith(".js"))
    .map((file) => readFileSync(join(dir, file), "utf8"))
    .join("\n");
  // get()/has() read a family's unlabelled sample, byLabel() its samples by one label (console/cluster.js).
  const plain = new Set([...script.matchAll(/(?:get|has)\("(nacos_[a-z0-9_]+)"\)/g)].map((m) => m[1]!));
  const labelled = [...script.matchAll(/byLabel\("(nacos_[a-z0-9_]+)", "([a-z_]+)"\)/g)].map((m) => [m[1]!, m[2]!] as const);
  assert.ok(plain.size >= 10 && labelled.length >= 2, `${plain.size} plain names, ${labelled.length} labelled`);
  const families = await scrape(nodes[0]!);
  assert.deepEqual(
    [...plain].filter((name) => families.get(name)?.samples.has("") !== true),
    [],
    "names the console reads as unlabelled samples",
  );
  const hasLabel = (name: string, label: string) =>
    [...(families.get(name)?.samples.keys() ?? [])].some((key) => key.includes(`${label}="`));
  assert.deepEqual(
    labelled.filter(([name, label]) => !hasLabel(name, label)),
    [],
    "names the console reads by a label",
  );
});
