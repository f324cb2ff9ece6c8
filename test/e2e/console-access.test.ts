/**
 * The console's namespaces, access control and session in a real browser (test/support/console-browser.ts):
 * an administrator manages namespaces, users, roles and permissions; a read-only user is told in place what
 * they may not do and stays logged in; only a token the server no longer takes ends the session; with auth off
 * the namespace selector and page work without a login and no access control shows. Each action is checked
 * through the HTTP API, and hostile names show as text.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { issueToken, tokenKeyOf } from "../../src/api/auth/token.js";
import { ADMIN, AUTH_ARGS, type Client, clientOf, loginToken, screenshot, withConsole } from "../support/console-browser.js";
import type { NodeProcess } from "../support/node-process.js";

const HOSTILE = '<img src=x onerror="window.__xss=1">';
const NAMESPACES = "/nacos/v1/console/namespaces";
const READER = { username: "reader", password: "reader-Passw0rd" };

async function ok(client: Client, method: string, path: string, params: Record<string, string>): Promise<void> {
  const res = await client(method, path, params);
  assert.equal(res.status, 200, `${method} ${path}: ${res.text}`);
}

async function namespaceIds(client: Client): Promise<string[]> {
  return ((await client("GET", NAMESPACES)).json().data as Array<{ namespace: string }>).map((ns) => ns.namespace);
}

/** Every value shown as text: no element made from it, nothing run. */
async function noMarkup(page: Page, where: Locator): Promise<void> {
  assert.equal(await where.locator("img, b").count(), 0, "a name adds no element");
  assert.equal(await page.evaluate("window.__xss"), undefined, "a name never runs");
}

async function login(page: Page, user: { username: string; password: string }): Promise<void> {
  const form = page.locator("#login-form");
  await form.getByLabel("Username").fill(user.username);
  await form.getByLabel("Password").fill(user.password);
  await form.getByRole("button", { name: "Log in" }).click();
  await page.locator("#user", { hasText: user.username }).waitFor();
}

const nav = (page: Page, view: string) => page.locator(`nav a[data-nav="${view}"]`).click();
/** The in-place confirmation a delete, unbind or revoke asks for. */
const confirm = (row: Locator) => row.locator("button.danger").click();

async function namespacesAsAdmin(page: Page, client: Client): Promise<void> {
  await nav(page, "namespaces");
  const form = page.locator("#namespace-form");
  await form.getByLabel("New namespace ID").fill("dev");
  await form.getByLabel("New namespace name").fill(HOSTILE);
  await form.getByLabel("New namespace description").fill("for devs");
  await form.getByRole("button", { name: "Create namespace" }).click();
  const dev = page.locator('tr[data-namespace="dev"]');
  await dev.waitFor();
  assert.equal(await dev.locator("td").first().textContent(), HOSTILE, "the name shows as text");
  await noMarkup(page, dev);
  await page.locator('#namespace option[value="dev"]').waitFor({ state: "attached" });
  const created = (await client("GET", NAMESPACES, { show: "all", namespaceId: "dev" })).json();
  assert.deepEqual([created.namespaceShowName, created.namespaceDesc], [HOSTILE, "for devs"]);

  await dev.getByRole("button", { name: "Edit" }).click();
  await dev.getByLabel("Name").fill("Development");
  await dev.getByRole("button", { name: "Save" }).click();
  await dev.locator("td", { hasText: /^Development$/ }).waitFor();
  await screenshot(page, "namespaces");
  const edited = (await client("GET", NAMESPACES, { show: "all", namespaceId: "dev" })).json();
  assert.deepEqual([edited.namespaceShowName, edited.namespaceDesc], ["Development", "for devs"]);
  assert.equal(await page.locator('#namespace option[value="dev"]').textContent(), "Development", "the selector follows");

  const publicRow = page.locator('tr[data-namespace="public"]');
  await publicRow.getByRole("button", { name: "Delete" }).click();
  await confirm(publicRow);
  await page.locator("#error", { hasText: "the public namespace cannot be deleted" }).waitFor();
  assert.deepEqual(await namespaceIds(client), ["", "dev"], "nothing changed");
  await publicRow.getByRole("button", { name: "Edit" }).waitFor();

  await dev.getByRole("button", { name: "Delete" }).click();
  await confirm(dev);
  await dev.waitFor({ state: "detached" });
  assert.deepEqual(await namespaceIds(client), [""]);
  assert.equal(await page.locator('#namespace option[value="dev"]').count(), 0, "the selector follows");
}

const rowWith = (page: Page, body: string, text: string) => page.locator(`#${body} tr`, { hasText: text });

async function accessAsAdmin(page: Page, node: NodeProcess, client: Client): Promise<void> {
  const eve = { username: `eve${HOSTILE}`, password: "eve-Passw0rd-1" };
  const role = `ops<b>${HOSTILE}`;

  await nav(page, "users");
  const users = page.locator("#users");
  await users.getByLabel("Username").fill(eve.username);
  await users.getByLabel("Password").fill(eve.password);
  await users.getByRole("button", { name: "Create user" }).click();
  const eveRow = rowWith(page, "user-rows", eve.username);
  await eveRow.waitFor();
  await noMarkup(page, eveRow);
  await loginToken(node, eve);
  await eveRow.getByRole("button", { name: "Change password" }).click();
  await eveRow.getByLabel("New password").fill("eve-Passw0rd-2");
  await eveRow.getByRole("button", { name: "Save" }).click();
  await eveRow.getByRole("status").waitFor();
  await screenshot(page, "users");
  await loginToken(node, { ...eve, password: "eve-Passw0rd-2" });

  await nav(page, "roles");
  await page.locator("#role-form").getByLabel("Role to bind").fill(role);
  await page.locator("#role-form").getByLabel("User to bind it to").fill(eve.username);
  await page.locator("#role-form").getByRole("button", { name: "Bind role" }).click();
  const roleRow = rowWith(page, "role-rows", eve.username);
  await roleRow.waitFor();
  await noMarkup(page, roleRow);
  const roles = async () => (await client("GET", "/nacos/v1/auth/roles", { pageNo: "1", pageSize: "10", username: eve.username })).json();
  assert.deepEqual((await roles()).pageItems, [{ role, username: eve.username }]);
  const searchRoles = async (username: string) => {
    await page.locator("#role-search").getByRole("searchbox").fill(username);
    await page.locator("#role-search").getByRole("button", { name: "Search" }).click();
  };
  await searchRoles(ADMIN.username);
  await roleRow.waitFor({ state: "detached" });
  await rowWith(page, "role-rows", "ROLE_ADMIN").waitFor();
  await searchRoles(eve.username);
  await roleRow.waitFor();
  assert.equal(await page.locator("#role-rows tr").count(), 1, "only eve's role");
  await screenshot(page, "roles");

  await nav(page, "permissions");
  const grant = page.locator("#permission-form");
  await grant.getByLabel("Role to grant to").fill(role);
  await grant.getByLabel("Resource").fill("public:*:*");
  await grant.getByLabel("Action").selectOption("rw");
  await grant.getByRole("button", { name: "Grant" }).click();
  const permissionRow = rowWith(page, "permission-rows", "public:*:*");
  await permissionRow.locator("td", { hasText: "Read and write" }).waitFor();
  await screenshot(page, "permissions");
  await noMarkup(page, permissionRow);
  const permissions = async () => (await client("GET", "/nacos/v1/auth/permissions", { pageNo: "1", pageSize: "10", role })).json();
  assert.deepEqual((await permissions()).pageItems, [{ role, resource: "public:*:*", action: "rw" }]);

  await permissionRow.getByRole("button", { name: "Revoke" }).click();
  await confirm(permissionRow);
  await permissionRow.waitFor({ state: "detached" });
  assert.equal((await permissions()).totalCount, 0, "revoked");

  await nav(page, "roles");
  await roleRow.getByRole("button", { name: "Unbind" }).click();
  await confirm(roleRow);
  await roleRow.waitFor({ state: "detached" });
  assert.equal((await roles()).totalCount, 0, "unbound");

  await nav(page, "users");
  await eveRow.getByRole("button", { name: "Delete" }).click();
  await confirm(eveRow);
  await eveRow.waitFor({ state: "detached" });
  const left = (await client("GET", "/nacos/v1/auth/users", { pageNo: "1", pageSize: "10" })).json();
  assert.deepEqual(left.pageItems, [{ username: ADMIN.username }], "deleted");
}

/** Ten users more make two pages of ten; deleting the only one on the second page goes back to the first. */
async function usersPaged(page: Page, client: Client): Promise<void> {
  const names = Array.from({ length: 10 }, (_, i) => `paged-${String(i).padStart(2, "0")}`);
  for (const username of names) await ok(client, "POST", "/nacos/v1/auth/users", { username, password: "paged-Passw0rd" });
  await nav(page, "services");
  await nav(page, "users");
  const pager = page.locator("#user-pager");
  await pager.getByText("Page 1 of 2 · 11 in all").waitFor();
  assert.equal(await page.locator("#user-rows tr").count(), 10);
  await pager.getByRole("button", { name: "Next ›" }).click();
  await pager.getByText("Page 2 of 2 · 11 in all").waitFor();
  const last = page.locator("#user-rows tr");
  assert.equal(await last.count(), 1);
  const lastName = (await last.locator("td").first().textContent()) ?? "";
  await last.getByRole("button", { name: "Delete" }).click();
  await confirm(last);
  await pager.getByText("Page 1 of 1 · 10 in all").waitFor();
  const users = (await client("GET", "/nacos/v1/auth/users", { pageNo: "1", pageSize: "20" })).json();
  assert.equal(users.totalCount, 10);
  assert.equal(
    users.pageItems.some((u: { username: string }) => u.username === lastName),
    false,
    `${lastName} deleted`,
  );
}

/** A user who may read the namespace `team` and nothing else: notices in place, the session goes on. */
async function readOnly(page: Page, client: Client): Promise<void> {
  await ok(client, "POST", NAMESPACES, { customNamespaceId: "team", namespaceName: "Team" });
  await ok(client, "POST", "/nacos/v1/auth/users", READER);
  await ok(client, "POST", "/nacos/v1/auth/roles", { role: "team-readers", username: READER.username });
  await ok(client, "POST", "/nacos/v1/auth/permissions", { role: "team-readers", resource: "team:*:*", action: "r" });
  await ok(client, "POST", "/nacos/v1/ns/instance", { namespaceId: "team", serviceName: "team-catalog", ip: "192.0.2.50", port: "8080" });

  await nav(page, "services");
  await page.locator("#logout").click();
  await page.locator("#login-form").waitFor();
  assert.equal(await page.locator("#namespace-picker").isHidden(), true, "no selector before the login");
  await login(page, READER);
  // The services of public, where the console opens, are not theirs to read: a notice, not a logout.
  await page.locator("#denied-message", { hasText: "You lack the permission to open Services (authorization failed!)" }).waitFor();
  await screenshot(page, "denied");
  await page.locator("#namespace").selectOption("team");
  await page.locator("#service-rows").getByRole("link", { name: "team-catalog" }).waitFor();

  const stillIn = async (what: string) => {
    assert.equal(await page.locator("#login").isHidden(), true, `${what}: no login form`);
    assert.equal(await page.locator("#user").textContent(), READER.username, `${what}: still logged in`);
    assert.notEqual(await page.evaluate("sessionStorage.getItem('ts-nacos.accessToken')"), null, `${what}: the token kept`);
  };
  for (const [view, title] of [
    ["cluster", "Cluster"],
    ["users", "Users"],
    ["permissions", "Permissions"],
  ] as const) {
    await nav(page, view);
    await page.locator("#denied-message", { hasText: `You lack the permission to open ${title} (authorization failed!)` }).waitFor();
    await stillIn(view);
  }

  await nav(page, "namespaces");
  await page.locator('tr[data-namespace="team"]').waitFor();
  await page.locator("#namespace-form").getByLabel("New namespace name").fill("Sneaky");
  await page.locator("#namespace-form").getByRole("button", { name: "Create namespace" }).click();
  await page
    .locator("#error.notice", { hasText: "You lack the permission to create namespace “Sneaky” (authorization failed!)" })
    .waitFor();
  await stillIn("a refused write");
  assert.deepEqual(await namespaceIds(client), ["", "team"], "nothing created");

  await nav(page, "services");
  await page.locator("#service-rows").getByRole("link", { name: "team-catalog" }).waitFor();
  await stillIn("a following read");

  // A token past its time (signed with the node's key): the session ends; logging in again starts another.
  const expired = issueToken(
    tokenKeyOf(AUTH_ARGS[AUTH_ARGS.indexOf("--auth-token-secret") + 1]!)!,
    READER.username,
    "v",
    Date.now() - 3_600_000,
    60,
  );
  await page.evaluate(`sessionStorage.setItem('ts-nacos.accessToken', ${JSON.stringify(expired)})`);
  await nav(page, "namespaces");
  await page.locator("#login-message", { hasText: "Your session ended: token expired!" }).waitFor();
  assert.equal(await page.locator("#user").isHidden(), true, "nobody logged in");
  await login(page, READER);
  await page.locator('tr[data-namespace="team"]').waitFor();

  await page.evaluate("sessionStorage.setItem('ts-nacos.accessToken', 'not-a-token')");
  await nav(page, "cluster");
  await page.locator("#login-message", { hasText: "Your session ended: token invalid!" }).waitFor();
  assert.equal(await page.locator("#login").isVisible(), true, "the login form");
  assert.equal(await page.locator("#namespace-picker").isHidden(), true, "no selector without a login");
}

test("console access (auth on): an administrator's namespaces, users, roles and permissions; a read-only user", {
  timeout: 90_000,
}, async () => {
  await withConsole(AUTH_ARGS, async (page, node) => {
    const client = clientOf(node, await loginToken(node));
    await page.goto(`${node.url}/nacos/`);
    await page.locator("#login-form").waitFor();
    assert.equal(await page.locator("#namespace-picker").isHidden(), true, "no selector before the login");
    await login(page, ADMIN);
    await page.locator('#namespace option[value=""]').waitFor({ state: "attached" });
    assert.equal(await page.locator("#namespace-picker").isVisible(), true, "the selector after the login");
    assert.equal(await page.locator('nav a[data-nav="users"]').isVisible(), true, "access control shows");

    await namespacesAsAdmin(page, client);
    await accessAsAdmin(page, node, client);
    await usersPaged(page, client);
    await readOnly(page, client);
  });
});

test("console access (auth off): the namespace selector and page without a login, no access control", { timeout: 60_000 }, async () => {
  await withConsole([], async (page, node) => {
    const client = clientOf(node, undefined);
    await page.goto(`${node.url}/nacos/`);
    await page.locator('#namespace option[value=""]').waitFor({ state: "attached" });
    assert.equal(await page.locator("#namespace-picker").isVisible(), true);
    assert.equal(await page.locator("#login").isHidden(), true, "no login");
    for (const view of ["users", "roles", "permissions"]) {
      assert.equal(await page.locator(`nav a[data-nav="${view}"]`).isHidden(), true, `no ${view} link`);
    }
    await nav(page, "namespaces");
    await page.locator('tr[data-namespace="public"]').waitFor();
    await page.locator("#namespace-form").getByLabel("New namespace ID").fill("qa");
    await page.locator("#namespace-form").getByLabel("New namespace name").fill("QA");
    await page.locator("#namespace-form").getByRole("button", { name: "Create namespace" }).click();
    await page.locator('tr[data-namespace="qa"]').waitFor();
    await page.locator('#namespace option[value="qa"]').waitFor({ state: "attached" });
    assert.deepEqual(await namespaceIds(client), ["", "qa"]);
  });
});
