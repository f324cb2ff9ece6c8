/** Authentication and authorization over HTTP (app.inject): Nacos 1.4's login, users, roles, permissions and guard. */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import type { FastifyInstance } from "fastify";
import { createHttpApp } from "../../src/api/app.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { nodeContext, standaloneNode } from "../support/node-context.js";
import { PasswordHasher } from "../../src/api/auth/password.js";
import type { NamingNode } from "../../src/node/naming-node.js";
import { ADMIN, authApp, call, CLUSTER_SECRET, tokenOf, withUser } from "./support.js";

/** A user `reader` whose role may read (only) namespace `dev`. */
const withReader = (app: FastifyInstance) =>
  withUser(app, { username: "reader", password: "reader-pass" }, { role: "dev-readers", resource: "dev:*:*", action: "r" });

const instance = (namespaceId = "public") => ({ serviceName: "orders", ip: "192.0.2.10", port: "8080", namespaceId });

test("with auth off (the default) nothing is asked and no auth API is served", async () => {
  const scheduler = new VirtualScheduler(1);
  const node = standaloneNode(scheduler);
  await node.start();
  const app = createHttpApp(nodeContext(node));
  assert.equal((await call(app, "POST", "/nacos/v1/ns/instance", instance())).status, 200);
  assert.equal((await call(app, "POST", "/nacos/v1/auth/users/login", ADMIN)).status, 404);
  // Nobody plants users, roles or permissions while auth is off: that API is not served.
  for (const [path, params] of [
    ["/nacos/v1/auth/users", { username: "evil", password: "evil-pass" }],
    ["/nacos/v1/auth/roles", { role: "ROLE_ADMIN", username: "evil" }],
    ["/nacos/v1/auth/permissions", { role: "evil", resource: "*:*:*", action: "rw" }],
  ] as const) {
    assert.equal((await call(app, "POST", path, params)).status, 404, path);
  }
  assert.equal(node.tables.entries("users").length + node.tables.entries("roles").length, 0);
});

test("login on every 1.4 path answers a token; wrong credentials get 403 and nothing else", async () => {
  const { app } = await authApp();
  for (const path of ["/nacos/v1/auth/users/login", "/nacos/v1/auth/login", "/v1/auth/users/login", "/v1/auth/login"]) {
    const res = await call(app, "POST", path, ADMIN);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ["accessToken", "globalAdmin", "tokenTtl", "username"]);
    assert.equal(body.tokenTtl, 18_000);
    assert.equal(body.globalAdmin, true);
    assert.match(body.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  }
  const wrong = await call(app, "POST", "/nacos/v1/auth/users/login", { username: "nacos", password: "nope" });
  const unknown = await call(app, "POST", "/nacos/v1/auth/users/login", { username: "nobody", password: "nope" });
  assert.deepEqual([wrong.status, wrong.text], [403, "unknown user!"]);
  assert.deepEqual([unknown.status, unknown.text], [403, "unknown user!"], "an unknown user looks like a wrong password");
});

test("naming calls need credentials: token parameter, Bearer header or username and password", async () => {
  const { app } = await authApp();
  const none = await call(app, "POST", "/nacos/v1/ns/instance", instance());
  assert.deepEqual([none.status, none.text], [403, "user not found!"]);
  const token = await tokenOf(app, ADMIN);
  assert.equal((await call(app, "POST", "/nacos/v1/ns/instance", { ...instance(), accessToken: token })).text, "ok");
  const bearer = await call(app, "GET", "/v1/ns/instance/list", { serviceName: "orders" }, { authorization: `Bearer ${token}` });
  assert.equal(bearer.status, 200, bearer.text);
  const plain = await call(app, "PUT", "/nacos/v1/ns/instance/beat", { ...instance(), ...ADMIN });
  assert.equal(plain.status, 200, plain.text);
  const forged = await call(app, "GET", "/nacos/v1/ns/instance/list", { serviceName: "orders", accessToken: `${token.slice(0, -2)}xx` });
  assert.deepEqual([forged.status, forged.text], [403, "token invalid!"]);
});

test("tokens expire", async () => {
  const { app, scheduler } = await authApp({ tokenTtlSeconds: 60 });
  const token = await tokenOf(app, ADMIN);
  assert.equal((await call(app, "GET", "/nacos/v1/ns/service/list", { pageNo: "1", pageSize: "10", accessToken: token })).status, 200);
  await scheduler.advance(61_000);
  const late = await call(app, "GET", "/nacos/v1/ns/service/list", { pageNo: "1", pageSize: "10", accessToken: token });
  assert.deepEqual([late.status, late.text], [403, "token expired!"]);
});

test("a read-only user lists in its namespace but may not register there, nor read elsewhere", async () => {
  const { app } = await authApp();
  const reader = await withReader(app);
  const list = { serviceName: "orders", namespaceId: "dev", ...reader };
  assert.equal((await call(app, "GET", "/nacos/v1/ns/instance/list", list)).status, 200);
  const register = await call(app, "POST", "/nacos/v1/ns/instance", { ...instance("dev"), ...reader });
  assert.deepEqual([register.status, register.text], [403, "authorization failed!"]);
  assert.equal((await call(app, "GET", "/nacos/v1/ns/instance/list", { ...list, namespaceId: "public" })).status, 403);
  assert.equal((await call(app, "GET", "/nacos/v1/ns/operator/metrics", reader)).status, 200, "any user may ask the status");
});

test("switches, cluster views and user management need ROLE_ADMIN; probes stay open", async () => {
  const { app } = await authApp();
  const reader = await withReader(app);
  const switchChange = { entry: "pushEnabled", value: "true" };
  assert.equal((await call(app, "PUT", "/nacos/v1/ns/operator/switches", { ...switchChange, ...reader })).status, 403);
  assert.equal((await call(app, "PUT", "/nacos/v1/ns/operator/switches", { ...switchChange, ...ADMIN })).status, 200);
  assert.equal((await call(app, "GET", "/nacos/v1/core/cluster/nodes", reader)).status, 403);
  assert.equal((await call(app, "GET", "/nacos/v1/core/cluster/nodes", ADMIN)).status, 200);
  assert.equal((await call(app, "GET", "/nacos/v1/console/namespaces", reader)).status, 200, "any user lists namespaces");
  const namespace = { customNamespaceId: "ops", namespaceName: "Ops", namespaceDesc: "" };
  assert.equal((await call(app, "POST", "/nacos/v1/console/namespaces", { ...namespace, ...reader })).status, 403);
  assert.equal((await call(app, "POST", "/nacos/v1/console/namespaces", { ...namespace, ...ADMIN })).status, 200);
  assert.equal((await call(app, "GET", "/nacos/v1/auth/users", { pageNo: "1", pageSize: "10", ...reader })).status, 403);
  const asReader = { accessToken: await tokenOf(app, reader) };
  assert.equal((await call(app, "POST", "/nacos/v1/auth/users", { ...asReader, username: "x", password: "y" })).status, 403);
  for (const path of [
    "/nacos/v1/console/health/liveness",
    "/nacos/v1/console/health/readiness",
    "/nacos/actuator/prometheus",
    "/v1/core/cluster/health",
  ]) {
    assert.equal((await call(app, "GET", path)).status, 200, path);
  }
});

test("users, roles and permissions answer as 1.4; passwords are stored only as scrypt hashes", async () => {
  const { app, node } = await authApp();
  await withReader(app);
  // The management APIs' own `username` parameter would be taken for credentials: they are called with a token (as 1.4's).
  const as = { accessToken: await tokenOf(app, ADMIN) };
  const page = await call(app, "GET", "/nacos/v1/auth/users", { pageNo: "1", pageSize: "1", ...ADMIN });
  assert.deepEqual(page.json(), { totalCount: 2, pageNumber: 1, pagesAvailable: 2, pageItems: [{ username: "nacos" }] });
  const stored = node.tables.get("users", "reader")!;
  assert.ok(stored.includes("scrypt$") && !stored.includes("reader-pass"), stored);
  const again = await call(app, "POST", "/nacos/v1/auth/users", { ...as, username: "reader", password: "z" });
  assert.deepEqual([again.status, again.text], [400, "user 'reader' already exist!"]);
  const roles = await call(app, "GET", "/nacos/v1/auth/roles", { pageNo: "1", pageSize: "10", username: "reader", ...as });
  assert.deepEqual(roles.json().pageItems, [{ role: "dev-readers", username: "reader" }]);
  const perms = await call(app, "GET", "/nacos/v1/auth/permissions", { pageNo: "1", pageSize: "10", role: "dev-readers", ...ADMIN });
  assert.deepEqual(perms.json().pageItems, [{ role: "dev-readers", resource: "dev:*:*", action: "r" }]);
  const admin = await call(app, "POST", "/nacos/v1/auth/roles", { ...as, role: "ROLE_ADMIN", username: "reader" });
  assert.deepEqual([admin.status, admin.text], [400, "role 'ROLE_ADMIN' is not permitted to create!"]);
  assert.equal((await call(app, "DELETE", "/nacos/v1/auth/users", { ...as, username: "nacos" })).text, "cannot delete admin: nacos");
  const badAction = await call(app, "POST", "/nacos/v1/auth/permissions", { ...ADMIN, role: "dev-readers", resource: "x", action: "x" });
  assert.equal(badAction.status, 400);
  assert.deepEqual((await call(app, "GET", "/nacos/v1/auth/users/search", { ...as, username: "ead" })).json(), ["reader"]);
  assert.deepEqual((await call(app, "GET", "/nacos/v1/auth/roles/search", { ...as, role: "dev" })).json(), ["dev-readers"]);
  assert.equal((await call(app, "GET", "/nacos/v1/auth/users/search", { username: "ead" })).status, 403, "admins only");
});

test("a user changes its own password, not another's", async () => {
  const { app } = await authApp();
  const reader = await withReader(app);
  const as = { accessToken: await tokenOf(app, reader) };
  const own = await call(app, "PUT", "/nacos/v1/auth/users", { ...as, username: "reader", newPassword: "changed-pass" });
  assert.equal(own.status, 200, own.text);
  assert.equal((await call(app, "POST", "/nacos/v1/auth/login", reader)).status, 403, "the old password no longer works");
  const changed = { username: "reader", password: "changed-pass" };
  const other = await call(app, "PUT", "/nacos/v1/auth/users", {
    accessToken: await tokenOf(app, changed),
    username: "nacos",
    newPassword: "x",
  });
  assert.deepEqual([other.status, other.text], [403, "authorization failed!"]);
  assert.equal((await call(app, "POST", "/nacos/v1/auth/login", ADMIN)).status, 200, "the admin's password is unchanged");
});

/** A token as a Nacos 1.4 node with the same key issues it: the subject and an expiry, nothing else. */
function token14(key: Buffer, username: string, issuedAtMs: number, ttlSeconds = 18_000): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${part({ alg: "HS256" })}.${part({ sub: username, exp: Math.floor(issuedAtMs / 1000) + ttlSeconds })}`;
  return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

test("a token outlives neither its user nor a password change; a re-created name does not take the old user's tokens", async () => {
  const { app, scheduler, tokenKey } = await authApp();
  const list = (accessToken: string) => call(app, "GET", "/nacos/v1/ns/instance/list", { serviceName: "orders", accessToken });
  const user = await withUser(app, { username: "temp", password: "temp-pass" }, { role: "temps", resource: "public:*:*", action: "rw" });
  const old = await tokenOf(app, user);
  const old14 = token14(tokenKey, "temp", scheduler.now());
  assert.equal((await list(old)).status, 200);
  assert.equal((await list(old14)).status, 200, "a 1.4 node's token, issued after the password was set, is taken");
  const as = { accessToken: await tokenOf(app, ADMIN) };
  assert.equal((await call(app, "DELETE", "/nacos/v1/auth/users", { ...as, username: "temp" })).status, 200);
  for (const token of [old, old14]) assert.deepEqual([(await list(token)).status, (await list(token)).text], [403, "token invalid!"]);

  await scheduler.advance(2_000);
  await withUser(app, { username: "temp", password: "new-pass" }, { role: "temps", resource: "public:*:*", action: "rw" });
  for (const token of [old, old14]) {
    assert.deepEqual([(await list(token)).status, (await list(token)).text], [403, "token invalid!"], "not the new user's");
    const takeover = await call(app, "PUT", "/nacos/v1/auth/users", { accessToken: token, username: "temp", newPassword: "stolen" });
    assert.deepEqual([takeover.status, takeover.text], [403, "token invalid!"]);
  }
  assert.equal((await call(app, "POST", "/nacos/v1/auth/login", { username: "temp", password: "new-pass" })).status, 200, "password kept");

  const current = await tokenOf(app, { username: "temp", password: "new-pass" });
  assert.equal((await list(current)).status, 200);
  await scheduler.advance(2_000);
  assert.equal((await call(app, "PUT", "/nacos/v1/auth/users", { ...as, username: "temp", newPassword: "third-pass" })).status, 200);
  assert.deepEqual([(await list(current)).status, (await list(current)).text], [403, "token invalid!"], "a password change voids it");
  assert.equal((await list(token14(tokenKey, "temp", scheduler.now()))).status, 200, "a 1.4 token issued since is taken");
});

test("failed logins back off per user: even the right password waits, then works", async () => {
  const { app, scheduler } = await authApp();
  for (let i = 0; i < 6; i++) await call(app, "POST", "/nacos/v1/auth/login", { username: "nacos", password: `guess-${i}` });
  assert.equal((await call(app, "POST", "/nacos/v1/auth/login", ADMIN)).status, 403, "blocked during the back-off");
  await scheduler.advance(2_000);
  assert.equal((await call(app, "POST", "/nacos/v1/auth/login", ADMIN)).status, 200);
});

/** A login from `address` (the socket's remote address the node sees). */
async function loginFrom(app: FastifyInstance, address: string, who: { username: string; password: string }) {
  const res = await app.inject({ method: "POST", url: "/nacos/v1/auth/users/login", remoteAddress: address, query: who });
  return { status: res.statusCode, text: res.body };
}

test("parallel guesses are counted before they are checked: of 60 at once only the free ones are, and the right 60th is not", async () => {
  const { app } = await authApp();
  const guesses = Array.from({ length: 60 }, (_, i) => ({ username: "nacos", password: i === 59 ? ADMIN.password : `guess-${i}` }));
  const answers = await Promise.all(guesses.map((g) => loginFrom(app, "10.0.0.1", g)));
  assert.deepEqual(
    answers.map((a) => `${a.status} ${a.text}`),
    guesses.map(() => "403 unknown user!"),
    "the right password arrived after the free guesses: it waits like them",
  );
  assert.equal((await loginFrom(app, "10.0.0.1", ADMIN)).status, 403, "the back-off holds");
});

test("password checks beyond 2 running and 32 waiting are turned away with 503 and not counted", async () => {
  const { app } = await authApp();
  const answers = await Promise.all(
    Array.from({ length: 60 }, (_, i) => loginFrom(app, `10.0.1.${i}`, { username: `nobody-${i}`, password: "guess" })),
  );
  const count = (status: number) => answers.filter((a) => a.status === status).length;
  assert.deepEqual([count(403), count(503)], [34, 26]);
  assert.ok(answers.filter((a) => a.status === 503).every((a) => a.text === "server is busy checking passwords, please try again later!"));
  assert.equal((await loginFrom(app, "10.0.1.59", ADMIN)).status, 200, "a refused check left no count behind");
});

test("failures from one address never lock the user out of another address that sent no wrong password", async () => {
  const { app } = await authApp();
  const user = await withUser(
    app,
    { username: "orders-app", password: "app-pass" },
    { role: "apps", resource: "public:*:*", action: "rw" },
  );
  for (let i = 0; i < 30; i++) await loginFrom(app, "10.0.0.66", { username: user.username, password: `guess-${i}` });
  const register = await app.inject({
    method: "POST",
    url: "/nacos/v1/ns/instance",
    remoteAddress: "10.0.0.1",
    query: { serviceName: "orders", ip: "192.0.2.10", port: "8080", ...user },
  });
  assert.equal(register.statusCode, 200, register.body);
  assert.equal((await loginFrom(app, "10.0.0.1", user)).status, 200);
  assert.equal((await loginFrom(app, "10.0.0.1", { username: "nacos", password: ADMIN.password })).status, 200);
  const guesser = await loginFrom(app, "10.0.0.66", user);
  assert.deepEqual([guesser.status, guesser.text], [403, "unknown user!"], "the guessing address is held, proven password or not");
});

test("rows that came from no operator neither keep the bootstrap from making the admin nor make an administrator", async () => {
  // What a report from a non-member once planted in every data directory: a user `evil` holding ROLE_ADMIN.
  const seed = async (node: NamingNode) => {
    await node.setTableRow("users", "evil", JSON.stringify({ password: await new PasswordHasher().hash("evil-pass") }));
    await node.setTableRow("roles", "ROLE_ADMIN\nevil", JSON.stringify({ role: "ROLE_ADMIN", username: "evil" }));
    await node.setTableRow("roles", "broken\nrow", "not json");
    await node.setTableRow("permissions", "broken\nrow\nr", JSON.stringify({ role: 1 }));
  };
  const { app, node } = await authApp({ seed });
  const admin = await call(app, "POST", "/nacos/v1/auth/login", ADMIN);
  assert.equal(admin.status, 200, "the bootstrap made the operator's admin");
  assert.equal(admin.json().globalAdmin, true);
  const evil = { username: "evil", password: "evil-pass" };
  assert.equal((await call(app, "POST", "/nacos/v1/auth/login", evil)).json().globalAdmin, false);
  const asEvil = { accessToken: await tokenOf(app, evil) };
  const planted = await call(app, "POST", "/nacos/v1/auth/users", { ...asEvil, username: "evil2", password: "x" });
  assert.deepEqual([planted.status, planted.text], [403, "authorization failed!"]);
  assert.equal((await call(app, "PUT", "/nacos/v1/ns/operator/switches", { ...asEvil, entry: "pushEnabled", value: "false" })).status, 403);
  assert.equal(node.tables.get("users", "evil2"), undefined);
  const read = await call(app, "GET", "/nacos/v1/ns/instance/list", { ...asEvil, serviceName: "orders" });
  assert.deepEqual([read.status, read.text], [403, "authorization failed!"], "rows of another shape are none, not a failure");
  const as = { accessToken: admin.json().accessToken };
  assert.equal((await call(app, "DELETE", "/nacos/v1/auth/users", { ...as, username: "evil" })).status, 200, "the operator removes it");
  assert.equal(node.tables.get("roles", "ROLE_ADMIN\nevil"), undefined);
});

test("a member forwarding a write passes with the cluster secret; the agent alone does not", async () => {
  const { app } = await authApp();
  const agent = { "user-agent": "Nacos-Server:1.4.2" };
  assert.equal((await call(app, "POST", "/nacos/v1/ns/instance", instance(), agent)).status, 403);
  const member = { ...agent, "x-nacos-cluster-secret": CLUSTER_SECRET };
  assert.equal((await call(app, "POST", "/nacos/v1/ns/instance", instance(), member)).status, 200);
});
