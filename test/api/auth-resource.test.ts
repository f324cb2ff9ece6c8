/**
 * The resource a permission is checked on is the one the route acts on: every guarded naming route, asked by a
 * user whose only permission is `rw` on `public:allowed:*`, with a `serviceName` whose embedded group (`group@@name`)
 * differs from its `groupName`, or with parameters a listing ignores, must not reach group `secret`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ADMIN, authApp, call, withUser } from "./support.js";

const NS = "/nacos/v1/ns";
const ALLOWED = { username: "allowed-user", password: "allowed-pass" };
const PUBLIC_READER = { username: "public-reader", password: "public-pass" };
const at = { ip: "192.0.2.10", port: "8080" };

/** Every route that acts on one service, with what it needs besides the service. */
const SERVICE_ROUTES: ReadonlyArray<readonly [string, string, Record<string, string>]> = [
  ["POST", "/instance", at],
  ["PUT", "/instance", at],
  ["PATCH", "/instance", { ...at, weight: "2" }],
  ["GET", "/instance", at],
  ["GET", "/instance/list", {}],
  ["PUT", "/instance/beat", at],
  ["PUT", "/instance/metadata/batch", { metadata: "k=v", consistencyType: "ephemeral" }],
  ["DELETE", "/instance/metadata/batch", { metadata: "k=v", consistencyType: "ephemeral" }],
  ["PUT", "/service", { protectThreshold: "0.5" }],
  ["GET", "/service", {}],
  ["GET", "/service/subscribers", {}],
  ["GET", "/catalog/service", {}],
  ["GET", "/catalog/instances", { clusterName: "DEFAULT" }],
  ["PUT", "/health", { ...at, healthy: "false" }],
  ["PUT", "/health/instance", { ...at, healthy: "false" }],
  ["PUT", "/cluster", { clusterName: "DEFAULT", healthChecker: '{"type":"NONE"}', checkPort: "80", useInstancePort4Check: "true" }],
  ["POST", "/service", {}],
  ["DELETE", "/instance", at],
  ["DELETE", "/service", {}],
];

/** A node holding `secret@@pay` and `allowed@@pay` in public and `orders` in `dev`, and the two users. */
async function seeded() {
  const t = await authApp();
  for (const [serviceName, namespaceId] of [
    ["secret@@pay", "public"],
    ["allowed@@pay", "public"],
    ["orders", "dev"],
  ] as const) {
    const res = await call(t.app, "POST", `${NS}/instance`, { serviceName, namespaceId, ...at, ephemeral: "false", ...ADMIN });
    assert.equal(res.status, 200, res.text);
  }
  await withUser(t.app, ALLOWED, { role: "allowed-rw", resource: "public:allowed:*", action: "rw" });
  await withUser(t.app, PUBLIC_READER, { role: "public-r", resource: "public:*:*", action: "r" });
  return t;
}

test("a groupName that contradicts the group in serviceName is refused on every service route, and nothing changes", async () => {
  const t = await seeded();
  for (const [method, path, params] of SERVICE_ROUTES) {
    const before = t.digests();
    const split = await call(t.app, method, `${NS}${path}`, { ...params, serviceName: "secret@@pay", groupName: "allowed", ...ALLOWED });
    assert.deepEqual(
      [split.status, split.text],
      [400, "Param 'groupName' is illegal, serviceName 'secret@@pay' is in group 'secret', not 'allowed'"],
      `${method} ${path}`,
    );
    assert.equal(t.digests(), before, `${method} ${path} changed the registry`);
    const embedded = await call(t.app, method, `${NS}${path}`, { ...params, serviceName: "secret@@pay", ...ALLOWED });
    assert.deepEqual([embedded.status, embedded.text], [403, "authorization failed!"], `${method} ${path} with the group in the name`);
    assert.equal(t.digests(), before, `${method} ${path} changed the registry`);
    const own = await call(t.app, method, `${NS}${path}`, { ...params, serviceName: "pay", groupName: "allowed", ...ALLOWED });
    assert.notEqual(own.status, 403, `${method} ${path} in its own group: ${own.text}`);
  }
  const asAdmin = await call(t.app, "POST", `${NS}/instance`, { ...at, serviceName: "secret@@pay", groupName: "allowed", ...ADMIN });
  assert.equal(asAdmin.status, 400, "the refusal is the parameters', whoever asks");
  const secret = await call(t.app, "GET", `${NS}/instance/list`, { serviceName: "secret@@pay", ...ADMIN });
  assert.deepEqual(
    secret.json().hosts.map((h: { ip: string; weight: number }) => [h.ip, h.weight]),
    [["192.0.2.10", 1]],
    "group secret is as the admin left it",
  );
});

test("a listing needs its whole namespace whatever serviceName says, and /service/names without a namespace needs all", async () => {
  const t = await seeded();
  const paging = { pageNo: "1", pageSize: "10" };
  for (const [path, params] of [
    ["/service/list", { ...paging, serviceName: "allowed@@pay" }],
    ["/service/list", { ...paging, groupName: "allowed" }],
    ["/catalog/services", { serviceName: "allowed@@pay" }],
    ["/service/names", { serviceName: "allowed@@pay" }],
  ] as const) {
    const res = await call(t.app, "GET", `${NS}${path}`, { ...params, ...ALLOWED });
    assert.deepEqual([res.status, res.text], [403, "authorization failed!"], `${path} ${JSON.stringify(params)}`);
  }
  const everywhere = await call(t.app, "GET", `${NS}/service/names`, PUBLIC_READER);
  assert.deepEqual([everywhere.status, everywhere.text], [403, "authorization failed!"], "names of every namespace, dev included");
  const inPublic = await call(t.app, "GET", `${NS}/service/names`, { namespaceId: "public", ...PUBLIC_READER });
  assert.deepEqual(inPublic.json(), { services: { public: ["allowed@@pay", "secret@@pay"] }, count: 1 });
  assert.equal((await call(t.app, "GET", `${NS}/catalog/services`, PUBLIC_READER)).status, 200);
  assert.equal((await call(t.app, "GET", `${NS}/service/list`, { ...paging, ...PUBLIC_READER })).status, 200);
  const dev = await call(t.app, "GET", `${NS}/service/list`, { ...paging, namespaceId: "dev", ...PUBLIC_READER });
  assert.equal(dev.status, 403);
});

test("the namespace checked is the one acted on, untrimmed", async () => {
  const t = await seeded();
  // `public ` is another namespace than `public`: a permission on one says nothing of the other.
  const before = t.digests();
  const res = await call(t.app, "POST", `${NS}/instance`, {
    serviceName: "pay",
    groupName: "allowed",
    namespaceId: "public ",
    ...at,
    ...ALLOWED,
  });
  assert.equal(res.status, 403, res.text);
  assert.equal(t.digests(), before);
});
