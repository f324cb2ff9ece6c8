/**
 * The naming views of the console in a real browser (test/support/console-browser.ts), walked as an operator
 * would with auth off and as an administrator: a service created, edited and deleted (and refused while it holds
 * instances), a cluster's health checker edited, instances disabled, weighted, given metadata and (persistent)
 * removed, the subscribers paged. After each action the HTTP API says it took effect, or, for a refused one,
 * that nothing changed; hostile names and metadata show as text; an older load never paints over a newer one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { ADMIN, AUTH_ARGS, type Client, clientOf, loginToken, screenshot, WAIT_MS, withConsole } from "../support/console-browser.js";
import { RawNacos2Client } from "../support/nacos2-raw-client.js";
import { type NodeProcess, waitUntil } from "../support/node-process.js";

const SERVICE = "naming-walk";
const CREATED = { name: "naming-created", group: "TEAM-A" };
/** User input that must show as text, never become an element or run. */
const HOSTILE = '<img src=x onerror="window.__xss=1">';
const HOSTILE_KEY = '<img src=y onerror="window.__xss=2">';
const EPHEMERAL = { ip: "192.0.2.60", port: "8080" };
const PERSISTENT = { ip: "192.0.2.61", port: "8080" };
/** One more than the console's page of subscribers, so there is a second page. */
const SUBSCRIBERS = 11;
const LABEL_EXPRESSION = "CONSUMER.label.zone = PROVIDER.label.zone";

const address = (a: { ip: string; port: string }) => `${a.ip}:${a.port}`;
const row = (page: Page, a: { ip: string; port: string }) => page.locator(`tr[data-instance="${address(a)}"]`);

async function ok(res: Promise<{ status: number; text: string }>): Promise<void> {
  const { status, text } = await res;
  assert.equal(status, 200, text);
}

/** The service with an ephemeral instance (hostile metadata) and a persistent one, and its UDP subscribers. */
async function register(node: NodeProcess, client: Client, token: string | undefined): Promise<void> {
  await ok(
    client("POST", "/nacos/v1/ns/instance", {
      serviceName: SERVICE,
      ...EPHEMERAL,
      metadata: JSON.stringify({ zone: "a", [HOSTILE_KEY]: HOSTILE }),
    }),
  );
  await ok(client("POST", "/nacos/v1/ns/instance", { serviceName: SERVICE, ...PERSISTENT, ephemeral: "false" }));
  for (let n = 1; n <= SUBSCRIBERS; n++) {
    const query = new URLSearchParams({
      serviceName: SERVICE,
      udpPort: String(40_000 + n),
      app: `app-${n}`,
      ...(token === undefined ? {} : { accessToken: token }),
    });
    const res = await fetch(`${node.url}/nacos/v1/ns/instance/list?${query}`, { headers: { "user-agent": "Nacos-Java-Client:v1.4.1" } });
    assert.equal(res.status, 200, await res.text());
  }
}

const serviceDetail = async (client: Client, name: string, group = "DEFAULT_GROUP") =>
  client("GET", "/nacos/v1/ns/service", { serviceName: name, groupName: group });

async function instances(
  client: Client,
): Promise<Array<{ ip: string; enabled: boolean; weight: number; metadata: Record<string, string> }>> {
  const res = await client("GET", "/nacos/v1/ns/catalog/instances", {
    serviceName: SERVICE,
    clusterName: "DEFAULT",
    pageNo: "1",
    pageSize: "100",
  });
  assert.equal(res.status, 200, res.text);
  return res.json().list;
}

const instanceAt = async (client: Client, a: { ip: string }) => {
  const found = (await instances(client)).find((i) => i.ip === a.ip);
  assert.ok(found !== undefined, `${a.ip} is registered`);
  return found;
};

/** Nothing the page shows became an element or ran. */
async function noMarkup(page: Page, where: Locator): Promise<void> {
  assert.equal(await where.locator("img").count(), 0, "no element made of user input");
  assert.equal(await page.locator("#error img").count(), 0, "no element made of a refusal's message");
  assert.equal(await page.evaluate("window.__xss"), undefined, "no user input ran");
}

/** Fills a metadata editor's last row (adding one first). */
async function addEntry(editor: Locator, key: string, value: string): Promise<void> {
  await editor.getByRole("button", { name: "Add entry" }).click();
  await editor.getByLabel("Key").last().fill(key);
  await editor.getByLabel("Value").last().fill(value);
}

async function createAndEditService(page: Page, client: Client): Promise<void> {
  const create = page.locator("#service-create");
  await create.getByRole("button", { name: "Create service" }).click();
  const form = create.locator("form");
  // A name the API refuses: its message shows, as text, and nothing is created.
  await form.getByLabel("Service name").fill(HOSTILE);
  await form.getByRole("button", { name: "Save" }).click();
  await page.locator("#error", { hasText: "dom name can only have these characters" }).waitFor();
  assert.match((await page.locator("#error").textContent()) ?? "", /<img src=x onerror=/);
  await noMarkup(page, page.locator("#services"));

  await form.getByLabel("Service name").fill(CREATED.name);
  await form.getByLabel("Group").fill(CREATED.group);
  await form.getByLabel("Protect threshold").fill("0.3");
  await addEntry(form, HOSTILE_KEY, HOSTILE);
  await form.getByLabel("Selector type").selectOption("label");
  await form.getByLabel("Expression").fill(LABEL_EXPRESSION);
  await form.getByRole("button", { name: "Save" }).click();

  await page.locator("#service-title", { hasText: CREATED.name }).waitFor();
  const info = page.locator("#service-info");
  await info.getByText(`label: ${LABEL_EXPRESSION}`).waitFor();
  assert.match((await info.textContent()) ?? "", /<img src=y onerror=.*= <img src=x onerror=/s, "hostile metadata shows as text");
  await noMarkup(page, page.locator("#service"));
  const created = (await serviceDetail(client, CREATED.name, CREATED.group)).json();
  assert.equal(created.protectThreshold, 0.3);
  assert.deepEqual(created.metadata, { [HOSTILE_KEY]: HOSTILE });
  assert.deepEqual(created.selector, { type: "label", expression: LABEL_EXPRESSION });

  await info.getByRole("button", { name: "Edit service" }).click();
  const edit = info.locator("form");
  await edit.getByLabel("Protect threshold").fill("0.6");
  await edit.getByRole("button", { name: "Remove entry" }).click();
  await addEntry(edit, "owner", "team-a");
  await edit.getByLabel("Selector type").selectOption("none");
  await edit.getByRole("button", { name: "Save" }).click();
  await info.locator("dd", { hasText: /^0\.6$/ }).waitFor();
  const edited = (await serviceDetail(client, CREATED.name, CREATED.group)).json();
  assert.equal(edited.protectThreshold, 0.6);
  assert.deepEqual(edited.metadata, { owner: "team-a" });
  assert.deepEqual(edited.selector, { type: "none" });
  assert.equal(await info.getByText("owner").count(), 1, "the page shows what the server holds");
}

async function deleteServices(page: Page, client: Client): Promise<void> {
  await page.getByRole("link", { name: "← Services" }).click();
  await page.locator("#hide-empty").uncheck();
  await page.locator("#search-name").fill("naming-");
  await page.getByRole("button", { name: "Search" }).click();
  const walk = page.locator(`tr[data-service="DEFAULT_GROUP@@${SERVICE}"]`);
  const created = page.locator(`tr[data-service="${CREATED.group}@@${CREATED.name}"]`);
  await created.waitFor();

  // Refused while instances remain: the API's message, and the service keeps both instances.
  await walk.getByRole("button", { name: "Delete" }).click();
  await walk.getByText(`Delete service ${SERVICE}?`).waitFor();
  await walk.getByRole("button", { name: "Yes" }).click();
  await page.locator("#error", { hasText: "is not empty" }).waitFor();
  assert.doesNotMatch((await page.locator("#error").textContent()) ?? "", /"code"/, "the reason, not 2.x's whole Result");
  assert.equal((await serviceDetail(client, SERVICE)).status, 200, "the refused service is still there");
  assert.equal((await instances(client)).length, 2, "with its instances");
  await walk.getByRole("button", { name: "Delete" }).waitFor();

  await created.getByRole("button", { name: "Delete" }).click();
  await created.getByRole("button", { name: "No" }).click();
  assert.equal((await serviceDetail(client, CREATED.name, CREATED.group)).status, 200, "No deletes nothing");
  await created.getByRole("button", { name: "Delete" }).click();
  await created.getByRole("button", { name: "Yes" }).click();
  await created.waitFor({ state: "detached" });
  assert.equal((await serviceDetail(client, CREATED.name, CREATED.group)).status, 404, "the empty service is deleted");
  assert.equal(await page.locator("#error").isHidden(), true, "the refusal's message is gone with the next success");
}

async function editInstances(page: Page, client: Client): Promise<void> {
  await page.locator("#service-rows").getByRole("link", { name: SERVICE, exact: true }).click();
  const eph = row(page, EPHEMERAL);
  const per = row(page, PERSISTENT);
  await eph.waitFor();
  assert.match((await eph.textContent()) ?? "", /<img src=y onerror=.*<img src=x onerror=/s);
  await noMarkup(page, page.locator("#service"));
  assert.equal(await eph.locator("td.kind").textContent(), "ephemeral");
  assert.equal(await per.locator("td.kind").textContent(), "persistent");
  assert.equal(
    await eph.getByRole("button", { name: "Remove", exact: true }).count(),
    0,
    "an ephemeral instance is its client's to remove",
  );

  await eph.getByRole("button", { name: "Disable" }).click();
  await eph.locator("td.enabled", { hasText: "disabled" }).waitFor();
  assert.equal((await instanceAt(client, EPHEMERAL)).enabled, false);
  await eph.getByRole("button", { name: "Enable" }).click();
  await eph.locator("td.enabled", { hasText: /^enabled$/ }).waitFor();
  assert.equal((await instanceAt(client, EPHEMERAL)).enabled, true);

  await per.getByRole("button", { name: "Edit weight" }).click();
  await per.getByLabel("Weight").fill("2.5");
  await per.getByRole("button", { name: "Save" }).click();
  await per.locator("td.weight", { hasText: /^2\.5$/ }).waitFor();
  assert.equal((await instanceAt(client, PERSISTENT)).weight, 2.5);

  await eph.getByRole("button", { name: "Edit metadata" }).click();
  const editor = eph.locator("td.instance-metadata form");
  const zone = editor.locator(".metadata-row", { has: page.locator('input[value="zone"]') });
  await zone.getByLabel("Value").fill("b");
  await editor.locator(".metadata-row").nth(1).getByRole("button", { name: "Remove entry" }).click();
  await addEntry(editor, "k2", "v2");
  await editor.getByRole("button", { name: "Save" }).click();
  await eph.locator("td.instance-metadata", { hasText: "k2 = v2" }).waitFor();
  assert.deepEqual((await instanceAt(client, EPHEMERAL)).metadata, { zone: "b", k2: "v2" });
  assert.equal(await eph.locator("td.instance-metadata li").count(), 2, "the row shows what the server holds");
}

async function editCluster(page: Page, client: Client): Promise<void> {
  const cluster = page.locator('section[data-cluster="DEFAULT"]');
  const settings = async () => (await serviceDetail(client, SERVICE)).json().clusters[0];
  const before = await settings();
  await cluster.getByRole("button", { name: "Edit cluster" }).click();
  const form = cluster.locator("form.cluster-form");
  await form.getByLabel("Health check type").selectOption("HTTP");
  await form.getByLabel("Path").fill("/health");
  await form.getByLabel("Headers").fill("Host:evil.example");
  await form.getByLabel("Expected response code").fill("204");
  await form.getByLabel("Check port").fill("8081");
  await form.getByLabel("Use the instance's port").uncheck();
  await addEntry(form, "tier", HOSTILE);
  await form.getByRole("button", { name: "Save" }).click();
  // Refused: the probe names its own host. The API's message shows; the cluster is unchanged.
  await page.locator("#error", { hasText: "cannot be set" }).waitFor();
  assert.deepEqual(await settings(), before);

  await form.getByLabel("Headers").fill("X-Probe:1");
  await form.getByRole("button", { name: "Save" }).click();
  await cluster.getByText("HTTP /health [X-Probe:1] → 204").waitFor();
  assert.deepEqual(await settings(), {
    name: "DEFAULT",
    healthChecker: { type: "HTTP", path: "/health", headers: "X-Probe:1", expectedResponseCode: 204 },
    checkPort: 8081,
    useInstancePort4Check: false,
    metadata: { tier: HOSTILE },
  });
  assert.match((await cluster.locator(".cluster-settings").textContent()) ?? "", /tier = <img src=x/);
  await noMarkup(page, cluster);
}

async function subscribers(page: Page, node: NodeProcess, client: Client, withLogin: boolean): Promise<void> {
  // A 2.x client subscribes over its connection: listed beside the 1.x pollers, there while connected.
  const nacos2 = new RawNacos2Client(`127.0.0.1:${node.port + 1000}`);
  try {
    await nacos2.ready();
    const headers = withLogin ? { accessToken: await loginToken(node) } : {};
    const body = { namespace: "public", serviceName: SERVICE, groupName: "DEFAULT_GROUP", clusters: "", subscribe: true };
    assert.equal((await nacos2.call("SubscribeServiceRequest", body, headers)).body.resultCode, 200);
    const listed = (await client("GET", "/nacos/v1/ns/service/subscribers", { serviceName: SERVICE, pageNo: "1", pageSize: "100" })).json();
    assert.equal(listed.count, SUBSCRIBERS + 1);
    await page.reload();
    const rows = page.locator("#subscriber-rows tr");
    await page.locator("#subscriber-pager", { hasText: `Page 1 of 2 · ${SUBSCRIBERS + 1} in all` }).waitFor();
    assert.equal(await rows.count(), 10);
    const first = listed.subscribers[0] as { addrStr: string; agent: string; app: string };
    const cells = await page.locator(`tr[data-subscriber="${first.addrStr}"] td`).allTextContents();
    assert.deepEqual(cells.slice(0, 3), [first.addrStr, first.agent, first.app]);
    assert.match(cells[3] ?? "", /^(just now|\d+ s ago)$/, "a 1.x subscriber: when it last polled");
    assert.equal(first.agent, "Nacos-Java-Client:v1.4.1");
    await page.locator("#subscriber-pager").getByRole("button", { name: "Next ›" }).click();
    await page.locator("#subscriber-pager", { hasText: "Page 2 of 2" }).waitFor();
    assert.equal(await rows.count(), 2);
    const connected = page.locator('tr[data-subscriber="127.0.0.1"] td');
    assert.equal(await connected.last().textContent(), "connected (2.x)", "a 2.x subscriber: there while connected");
  } finally {
    nacos2.close();
  }
}

/**
 * An older load cannot paint over a newer one: a reload (paging back) is answered late, with the instances as
 * they were before a Disable that the operator clicked meanwhile; the row keeps showing what the server holds.
 */
async function staleLoad(page: Page, client: Client): Promise<void> {
  const eph = row(page, EPHEMERAL);
  let release: (() => void) | undefined;
  let fulfilled = false;
  await page.route(
    "**/nacos/v1/ns/catalog/instances?**",
    async (route) => {
      const response = await route.fetch();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      await route.fulfill({ response });
      fulfilled = true;
    },
    { times: 1 },
  );
  await page.locator("#subscriber-pager").getByRole("button", { name: "‹ Previous" }).click();
  await waitUntil(
    () => release !== undefined,
    WAIT_MS,
    () => "the older load is held",
  );
  await eph.getByRole("button", { name: "Disable" }).click();
  await eph.locator("td.enabled", { hasText: "disabled" }).waitFor();
  assert.equal((await instanceAt(client, EPHEMERAL)).enabled, false);
  release?.();
  await waitUntil(
    () => fulfilled,
    WAIT_MS,
    () => "the older load is answered",
  );
  await page.waitForTimeout(500);
  assert.equal(await eph.locator("td.enabled").textContent(), "disabled", "the older answer is not painted");
}

async function removePersistent(page: Page, client: Client): Promise<void> {
  const per = row(page, PERSISTENT);
  await per.getByRole("button", { name: "Remove", exact: true }).click();
  await per.getByText("Remove?").waitFor();
  await per.getByRole("button", { name: "No" }).click();
  await per.getByRole("button", { name: "Remove", exact: true }).waitFor();
  assert.equal((await instances(client)).length, 2, "No removes nothing");
  await per.getByRole("button", { name: "Remove", exact: true }).click();
  await per.getByRole("button", { name: "Yes" }).click();
  await per.waitFor({ state: "detached" });
  assert.deepEqual(
    (await instances(client)).map((i) => i.ip),
    [EPHEMERAL.ip],
    "the persistent instance is removed",
  );
  await row(page, EPHEMERAL).waitFor();
}

async function walk(page: Page, node: NodeProcess, client: Client, withLogin: boolean): Promise<void> {
  await page.goto(`${node.url}/nacos/`);
  if (withLogin) {
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Log in" }).click();
  }
  await page.locator("#service-rows").getByRole("link", { name: SERVICE, exact: true }).waitFor();
  await createAndEditService(page, client);
  await deleteServices(page, client);
  await editInstances(page, client);
  await editCluster(page, client);
  await screenshot(page, "service");
  await subscribers(page, node, client, withLogin);
  await staleLoad(page, client);
  await removePersistent(page, client);
  await noMarkup(page, page.locator("body"));
}

test("console naming: create, edit, delete services; clusters, instances, subscribers (auth off)", { timeout: 120_000 }, async () => {
  await withConsole([], async (page, node) => {
    const client = clientOf(node, undefined);
    await register(node, client, undefined);
    await walk(page, node, client, false);
  });
});

test("console naming: the same walk as an administrator (auth on)", { timeout: 120_000 }, async () => {
  await withConsole(AUTH_ARGS, async (page, node) => {
    const token = await loginToken(node);
    const client = clientOf(node, token);
    await register(node, client, token);
    await walk(page, node, client, true);
  });
});
