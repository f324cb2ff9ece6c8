/**
 * The console's cluster view and its languages in a real browser (test/support/console-browser.ts), over a real
 * two-node cluster with a 2.x client connected to the first: both members UP and ready, each one's connections as
 * the API counts them, this node's connection list (a hostile client's labels shown as text, never run; a notice in
 * its place when the node refuses it), replication in words, a peer's backlog while it is frozen and "in sync" once it is back; the page in the browser's
 * language, and the header's switch changing it for good (kept across a reload).
 *
 * `CONSOLE_SCREENSHOTS=docs/` also saves docs/console-cluster.png, docs/console-cluster-zh.png and
 * docs/console-cluster-backlog.png.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { distroHash } from "../../src/node/distro/distro-mapper.js";
import { screenshot, withBrowser } from "../support/console-browser.js";
import { RawNacos2Client } from "../support/nacos2-raw-client.js";
import { freePort, nacos, nodeStarter, type NodeProcess, waitUntil } from "../support/node-process.js";

const start = nodeStarter();
/** A client's labels are its own input: they must show as text, never run. */
const HOSTILE = '<img src=x onerror="window.__xss=1">';
const WAIT_MS = 20_000;

interface Member {
  address: string;
  state: string;
  connectionCount?: number;
}

let a: NodeProcess;
let b: NodeProcess;
let client: RawNacos2Client;

before(async () => {
  const ports = [await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  [a, b] = (await Promise.all(ports.map((port) => start({ port, args: ["--members", members] })))) as [NodeProcess, NodeProcess];
  client = new RawNacos2Client(`127.0.0.1:${a.port + 1000}`);
  await client.ready("", { AppName: "orders-web" });
  await waitUntil(
    async () => (await membersSeenBy(a)).every((m) => m.state === "UP"),
    WAIT_MS,
    () => "both members UP as the first sees them",
  );
});

after(() => client?.close());

const membersSeenBy = async (node: NodeProcess): Promise<Member[]> =>
  (await nacos(node.url, "GET", "/nacos/v1/core/cluster/nodes")).json().data as Member[];

const connectionsOn = async (node: NodeProcess): Promise<Record<string, { metaInfo: { appName: string } }>> =>
  (await nacos(node.url, "GET", "/nacos/v2/core/loader/current")).json();

const memberRow = (page: Page, node: NodeProcess) => page.locator(`tr[data-member="${node.address}"]`);
const cell = (page: Page, node: NodeProcess, n: number) => memberRow(page, node).locator("td").nth(n);
/** The member table's columns. */
const COL = { address: 0, state: 1, readiness: 2, connections: 3, lastReport: 5, failedReports: 6, backlog: 7 } as const;

/** Waits, bounded, until `selector` shows `text` (the page refreshes itself). */
async function shows(selector: Locator, text: string | RegExp): Promise<void> {
  await waitUntil(
    async () => {
      const now = (await selector.textContent().catch(() => null)) ?? "";
      return typeof text === "string" ? now === text : text.test(now);
    },
    WAIT_MS,
    () => `${String(text)} on the page`,
  );
}

test("cluster view: both members UP and ready, connections as the API counts them, replication in words", { timeout: 60_000 }, async () => {
  await withBrowser({ locale: "en-US" }, async (page) => {
    await page.goto(`${a.url}/nacos/#/cluster`);
    await page.getByRole("link", { name: "Cluster" }).waitFor();
    for (const node of [a, b]) {
      await shows(cell(page, node, COL.state), "UP");
      await shows(cell(page, node, COL.readiness), "ready");
      await shows(cell(page, node, COL.failedReports), "none");
    }
    assert.match((await cell(page, a, COL.address).textContent()) ?? "", /\(this node\)$/);
    // The first node holds the client; the second reports none. The page refreshes itself: it agrees with the API.
    await waitUntil(
      async () => {
        const members = await membersSeenBy(a);
        for (const node of [a, b]) {
          const count = members.find((m) => m.address === node.address)?.connectionCount;
          if ((await cell(page, node, COL.connections).textContent()) !== String(count ?? "—")) return false;
        }
        return members.find((m) => m.address === a.address)?.connectionCount === 1;
      },
      WAIT_MS,
      () => "the connection counts of the API on the page",
    );
    assert.match((await cell(page, b, COL.lastReport).textContent()) ?? "", /^(just now|\d+ s ago)$/);
    await shows(cell(page, b, COL.backlog), "in sync");
    assert.equal(await cell(page, a, COL.backlog).textContent(), "—", "no replication to itself");
    await page.locator("#progress dd", { hasText: "in sync with every peer" }).waitFor();
    await page.locator("#progress dd", { hasText: /^ready: the registry is complete$/ }).waitFor();

    const [id] = Object.keys(await connectionsOn(a));
    await page.locator(`tr[data-connection="${id}"] td.app`, { hasText: /^orders-web$/ }).waitFor();
    assert.equal(await page.locator("#connections-notice").isHidden(), true);
    await screenshot(page, "cluster");

    // A client's labels are its own input: a hostile one's show as text in the connection list.
    const hostile = new RawNacos2Client(`127.0.0.1:${a.port + 1000}`);
    try {
      await hostile.ready("", { AppName: HOSTILE, [HOSTILE]: "label-value" });
      const hostileId = Object.entries(await connectionsOn(a)).find(([, c]) => c.metaInfo.appName === HOSTILE)?.[0];
      assert.ok(hostileId !== undefined, "the API lists the hostile client's connection");
      const row = page.locator(`tr[data-connection="${hostileId}"]`);
      await row.waitFor();
      assert.equal(await row.locator("td.app").textContent(), HOSTILE, "its app name shows as text");
      assert.match((await row.textContent()) ?? "", /Nacos-Raw-Test:v2\.4\.0/);
      assert.equal((await row.textContent())?.split(HOSTILE).length, 4, "app name, label key and label value show as text");
      assert.equal(await page.locator("#cluster img").count(), 0, "labels add no element");
      assert.equal(await page.evaluate("window.__xss"), undefined, "labels never run");
    } finally {
      hostile.close();
    }

    // The connection list is an administrator's: a node refusing it gets a notice in its place, the rest stays.
    await page.route("**/nacos/v2/core/loader/current*", (route) => route.fulfill({ status: 403, body: "authorization failed!" }));
    await page.reload();
    await page.locator("#connections-notice", { hasText: "Only an administrator may see this node's connections." }).waitFor();
    await shows(cell(page, b, COL.state), "UP");
    assert.equal(await page.locator("#connections-table").isHidden(), true);
    assert.equal(await page.locator("#login").isHidden(), true, "no login asked for");
  });
});

test("language: the browser's Chinese shows Chinese; the switch changes the page and is kept across a reload", {
  timeout: 60_000,
}, async () => {
  await withBrowser({ locale: "zh-CN" }, async (page) => {
    await page.goto(`${a.url}/nacos/#/cluster`);
    await page.getByRole("link", { name: "集群管理" }).waitFor();
    assert.equal(await page.locator("html").getAttribute("lang"), "zh-CN");
    await page.locator("#cluster th", { hasText: "节点状态" }).waitFor();
    await shows(cell(page, b, COL.readiness), "就绪");
    await shows(cell(page, b, COL.backlog), "已同步");
    await shows(cell(page, b, COL.failedReports), "无");
    assert.match((await cell(page, b, COL.lastReport).textContent()) ?? "", /^(刚刚|\d+ 秒前)$/);
    assert.match((await cell(page, a, COL.address).textContent()) ?? "", /（本节点）$/);
    await page.locator("#progress dd", { hasText: "与所有节点已同步" }).waitFor();
    await screenshot(page, "cluster-zh");

    await page.locator("#language").selectOption("en");
    await page.getByRole("link", { name: "Cluster", exact: true }).waitFor();
    await shows(cell(page, b, COL.backlog), "in sync");
    assert.equal(await page.locator("#cluster th", { hasText: "节点状态" }).count(), 0, "no Chinese left in the table's head");

    await page.reload();
    await page.getByRole("link", { name: "Services", exact: true }).waitFor();
    await shows(cell(page, b, COL.readiness), "ready");
    assert.equal(await page.locator("html").getAttribute("lang"), "en");
    assert.equal(await page.locator("#language").inputValue(), "en", "the switch shows the choice");

    await page.locator("#language").selectOption("zh");
    await page.getByRole("link", { name: "服务列表" }).waitFor();
  });
});

test("cluster view: a frozen peer's backlog and failed reports in words, then in sync again", { timeout: 60_000 }, async () => {
  // Services the first node owns, so it is the one replicating them to the second.
  const sorted = [a.address, b.address].sort();
  const owned = Array.from({ length: 40 }, (_, i) => `backlog-${i}`)
    .filter((name) => sorted[distroHash(`DEFAULT_GROUP@@${name}`) % 2] === a.address)
    .slice(0, 3);
  assert.equal(owned.length, 3);
  await withBrowser({}, async (page) => {
    await page.goto(`${a.url}/nacos/#/cluster`);
    await shows(cell(page, b, COL.backlog), "in sync");
    b.child.kill("SIGSTOP");
    try {
      for (const serviceName of owned) {
        const res = await nacos(a.url, "POST", "/nacos/v1/ns/instance", { serviceName, ip: "192.0.2.60", port: "8080", ephemeral: "true" });
        assert.equal(res.text, "ok");
      }
      await shows(cell(page, b, COL.backlog), /^3 services waiting(, \d+ failed (batch|batches) in a row)?$/);
      await page.locator("#progress dd", { hasText: /^3 services waiting to be replicated$/ }).waitFor({ timeout: WAIT_MS });
      const metrics = (await nacos(a.url, "GET", "/nacos/actuator/prometheus")).text;
      assert.match(
        metrics,
        new RegExp(`^nacos_distro_peer_sync_pending\\{peer="${b.address}"\\} 3$`, "m"),
        "the page says what the metrics say",
      );
      await shows(cell(page, b, COL.failedReports), /^\d+ failed reports? in a row$/);
      await screenshot(page, "cluster-backlog");
    } finally {
      b.child.kill("SIGCONT");
    }
    await shows(cell(page, b, COL.backlog), "in sync");
    await shows(cell(page, b, COL.failedReports), "none");
    await page.locator("#progress dd", { hasText: "in sync with every peer" }).waitFor({ timeout: WAIT_MS });
  });
});
