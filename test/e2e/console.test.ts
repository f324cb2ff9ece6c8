/**
 * The web console in a real browser (test/support/console-browser.ts). An operator's round: log in when auth
 * is on, find a service by search, open it, disable an instance (the client list then hides it) and edit a
 * weight.
 *
 * `CONSOLE_SCREENSHOTS=docs/` also saves the services page as docs/console-services.png, the README's screenshot.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Page } from "playwright-core";
import { ADMIN, AUTH_ARGS, type Client, clientOf, loginToken, screenshot, withConsole } from "../support/console-browser.js";
import type { NodeProcess } from "../support/node-process.js";

const SERVICE = "orders-console";
/** Metadata is user input: it must show as text, never run. */
const HOSTILE = '<img src=x onerror="window.__xss=1">';
const A = { ip: "192.0.2.10", port: 8080 };
const B = { ip: "192.0.2.11", port: 8080 };

/** A few services for the list (and the screenshot); ours has two instances, one with hostile metadata. */
async function register(client: Client): Promise<void> {
  const instances: Array<Record<string, string>> = [
    { serviceName: SERVICE, ...strings(A), weight: "1", metadata: JSON.stringify({ zone: "a", note: HOSTILE }) },
    { serviceName: SERVICE, ...strings(B), weight: "1", metadata: JSON.stringify({ zone: "b" }) },
    { serviceName: "payments", ip: "192.0.2.20", port: "9000", clusterName: "EU" },
    { serviceName: "inventory", ip: "192.0.2.30", port: "7000", groupName: "STOCK" },
    { serviceName: "orders-history", ip: "192.0.2.40", port: "7100" },
  ];
  for (const params of instances) {
    const res = await client("POST", "/nacos/v1/ns/instance", params);
    assert.equal(res.status, 200, res.text);
  }
}

const strings = (a: { ip: string; port: number }) => ({ ip: a.ip, port: String(a.port) });
const row = (page: Page, a: { ip: string; port: number }) => page.locator(`tr[data-instance="${a.ip}:${a.port}"]`);

/** The operator's round through the console, checked against the client API. */
async function operate(page: Page, node: NodeProcess, client: Client, withLogin: boolean): Promise<void> {
  await page.goto(`${node.url}/nacos`);
  assert.equal(new URL(page.url()).pathname, "/nacos/", "/nacos redirects to /nacos/");
  if (withLogin) {
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator("#login-message", { hasText: "Login failed" }).waitFor();
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
  }
  const services = page.locator("#service-rows");
  await services.getByRole("link", { name: "payments" }).waitFor();
  assert.equal(await page.locator("#login").isHidden(), true, "no login form once in");
  await screenshot(page, "services");

  await page.getByLabel("Service name").fill(SERVICE);
  await page.getByRole("button", { name: "Search" }).click();
  await services.getByRole("link", { name: "payments" }).waitFor({ state: "detached" });
  await services.getByRole("link", { name: SERVICE, exact: true }).click();

  await row(page, A).waitFor();
  assert.match((await row(page, A).textContent()) ?? "", /<img src=x onerror=/, "metadata shows as text");
  assert.equal(await row(page, A).locator("img").count(), 0, "metadata adds no element");
  assert.equal(await page.evaluate("window.__xss"), undefined, "metadata never runs");

  await row(page, A).getByRole("button", { name: "Disable" }).click();
  await row(page, A).getByRole("button", { name: "Enable" }).waitFor();
  const list = (await client("GET", "/nacos/v1/ns/instance/list", { serviceName: SERVICE })).json();
  assert.deepEqual(
    list.hosts.map((h: { ip: string }) => h.ip),
    [B.ip],
    "the disabled instance is no longer listed",
  );

  await row(page, B).getByRole("button", { name: "Edit weight" }).click();
  await row(page, B).getByLabel("Weight").fill("3.5");
  await row(page, B).getByRole("button", { name: "Save" }).click();
  await row(page, B)
    .locator("td.weight", { hasText: /^3\.5$/ })
    .waitFor();
  const detail = (await client("GET", "/nacos/v1/ns/instance", { serviceName: SERVICE, ...strings(B) })).json();
  assert.equal(detail.weight, 3.5);
}

/** The cluster view: each member's 2.x connections as the API reports them ("—" for a member that does not say). */
async function clusterView(page: Page, node: NodeProcess, client: Client): Promise<void> {
  await page.goto(`${node.url}/nacos/#/cluster`);
  const members = (await client("GET", "/nacos/v1/core/cluster/nodes")).json().data as Array<{ address: string; connectionCount?: number }>;
  assert.equal(members.length, 1);
  for (const m of members) {
    const cell = page.locator(`tr[data-member="${m.address}"] td.connections`);
    await cell.waitFor();
    assert.equal(await cell.textContent(), String(m.connectionCount ?? "—"), m.address);
  }
  assert.equal(members[0]!.connectionCount, 0, "a node holding no connection says so");
  assert.equal(await page.locator("#cluster th", { hasText: "Connections" }).count(), 1);
}

test("console: services, an instance disabled and its weight edited (auth off)", { timeout: 90_000 }, async () => {
  await withConsole([], async (page, node) => {
    const client = clientOf(node, undefined);
    await register(client);
    await operate(page, node, client, false);
    await clusterView(page, node, client);
  });
});

test("console: login, then the same round (auth on)", { timeout: 90_000 }, async () => {
  await withConsole(AUTH_ARGS, async (page, node) => {
    const client = clientOf(node, await loginToken(node));
    await register(client);
    await operate(page, node, client, true);
  });
});
