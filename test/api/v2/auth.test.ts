/**
 * Authorization of every v2 route, with auth on: the same resources as the 1.x routes (one service, from the
 * very service the handler acts on; a namespace for listings), the SDKs' status check for any user, and the
 * clients and switches for administrators only. A refusal is 2.x's envelope (403, 10001) and changes nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ADMIN, authApp, call, testApp, withUser } from "../support.js";
import { dataOf, refusalOf, V2 } from "./support.js";

type Need = "r:service" | "w:service" | "r:namespace" | "signed-in" | "admin";
const at = { ip: "192.0.2.10", port: "8080" };

/** Every v2 route, with what it needs and what it needs besides the service (when it acts on one). */
const ROUTES: ReadonlyArray<readonly [string, string, Need, Record<string, string>]> = [
  ["POST", "/instance", "w:service", at],
  ["PUT", "/instance", "w:service", at],
  ["PATCH", "/instance", "w:service", { ...at, weight: "2" }],
  ["GET", "/instance", "r:service", at],
  ["GET", "/instance/list", "r:service", {}],
  ["PUT", "/instance/beat", "w:service", at],
  ["PUT", "/instance/metadata/batch", "w:service", { metadata: "k=v" }],
  ["DELETE", "/instance/metadata/batch", "w:service", { metadata: "k=v" }],
  ["POST", "/service", "w:service", {}],
  ["PUT", "/service", "w:service", {}],
  ["GET", "/service", "r:service", {}],
  ["GET", "/service/list", "r:namespace", {}],
  ["PUT", "/health", "w:service", { ...at, healthy: "true" }],
  ["PUT", "/health/instance", "w:service", { ...at, healthy: "true" }],
  ["GET", "/catalog/instances", "r:service", { pageNo: "1", pageSize: "10" }],
  ["POST", "/catalog/instances", "r:service", { pageNo: "1", pageSize: "10" }],
  ["GET", "/operator/metrics", "signed-in", {}],
  ["GET", "/ops/metrics", "signed-in", {}],
  ["GET", "/operator/switches", "admin", {}],
  ["PUT", "/operator/switches", "admin", { entry: "clientBeatInterval", value: "5000" }],
  ["GET", "/ops/switches", "admin", {}],
  ["PUT", "/ops/switches", "admin", { entry: "clientBeatInterval", value: "5000" }],
  ["GET", "/client/list", "admin", {}],
  ["GET", "/client", "admin", { clientId: "192.0.2.10:8080#true" }],
  ["GET", "/client/publish/list", "admin", { clientId: "192.0.2.10:8080#true" }],
  ["GET", "/client/subscribe/list", "admin", { clientId: "192.0.2.10:8080#true" }],
  ["GET", "/client/service/publisher/list", "admin", {}],
  ["GET", "/client/service/subscriber/list", "admin", {}],
  ["DELETE", "/instance", "w:service", at],
  ["DELETE", "/service", "w:service", {}],
];

const PLAIN = { username: "plain-user", password: "plain-pass" };
const READER = { username: "allowed-reader", password: "reader-pass" };
const WRITER = { username: "allowed-writer", password: "writer-pass" };
const NS_READER = { username: "public-reader", password: "public-pass" };
const CALLERS = { anonymous: {}, PLAIN, READER, WRITER, NS_READER, ADMIN } as const;
type Caller = keyof typeof CALLERS;

/** Whether `caller` may do what `need` says on a service of group `group` in namespace public. */
function allowed(caller: Caller, need: Need, group: "allowed" | "secret"): boolean {
  if (caller === "ADMIN") return true;
  if (caller === "anonymous") return false;
  switch (need) {
    case "signed-in":
      return true;
    case "admin":
      return false;
    case "r:namespace":
      return caller === "NS_READER";
    case "r:service":
      return caller === "NS_READER" || (group === "allowed" && (caller === "READER" || caller === "WRITER"));
    case "w:service":
      return group === "allowed" && caller === "WRITER";
  }
}

test("every v2 route lets through exactly who its access rule names; a refusal is 2.x's and changes nothing", async () => {
  const t = await authApp();
  for (const serviceName of ["allowed@@pay", "secret@@pay"]) {
    const res = await call(t.app, "POST", `${V2}/instance`, { serviceName, ...at, ...ADMIN });
    dataOf(res);
  }
  await withUser(t.app, PLAIN, { role: "nothing", resource: "dev:nothing:*", action: "r" });
  await withUser(t.app, READER, { role: "allowed-r", resource: "public:allowed:*", action: "r" });
  await withUser(t.app, WRITER, { role: "allowed-rw", resource: "public:allowed:*", action: "rw" });
  await withUser(t.app, NS_READER, { role: "public-r", resource: "public:*:*", action: "r" });
  for (const group of ["secret", "allowed"] as const) {
    for (const [caller, credentials] of Object.entries(CALLERS) as Array<[Caller, Record<string, string>]>) {
      for (const [method, path, need, params] of ROUTES) {
        const before = t.digests();
        const res = await call(t.app, method, `${V2}${path}`, { serviceName: `${group}@@pay`, ...params, ...credentials });
        const what = `${caller} ${method} ${path} on ${group}: ${res.text}`;
        if (allowed(caller, need, group)) {
          assert.notEqual(res.status, 403, what);
          continue;
        }
        assert.match(refusalOf(res, 403, 10001), /authorization failed!|user not found!/, what);
        assert.equal(t.digests(), before, `${what} changed nothing`);
      }
    }
  }
});

test("with auth off, every v2 route is open", async () => {
  const { app, node } = await testApp();
  dataOf(await call(app, "POST", `${V2}/instance`, { serviceName: "pay", ...at }));
  for (const [method, path, , params] of ROUTES) {
    const res = await call(app, method, `${V2}${path}`, { serviceName: "pay", ...params });
    assert.ok(res.status !== 401 && res.status !== 403, `${method} ${path}: ${res.text}`);
  }
  assert.equal(node.registry.serviceCount, 0, "the round ends by deleting the instance and the service");
});
