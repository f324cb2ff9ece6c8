/**
 * A node whose registry is not complete yet (it loads what its peers hold) answers the v2 reads of the registry
 * 503 in 2.x's envelope, as it answers the 1.x ones, and refuses to delete a service it cannot see is empty;
 * registrations still pass (versions decide).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createHttpApp } from "../../../src/api/app.js";
import type { NamingNode } from "../../../src/node/naming-node.js";
import { nodeContext } from "../../support/node-context.js";
import { testApp } from "../support.js";
import { dataOf, refusalOf, v2 } from "./support.js";

const READS: ReadonlyArray<readonly [string, string, Record<string, string>]> = [
  ["GET", "/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80" }],
  ["GET", "/instance/list", { serviceName: "orders" }],
  ["GET", "/service", { serviceName: "orders" }],
  ["DELETE", "/service", { serviceName: "orders" }],
  ["GET", "/service/list", {}],
  ["GET", "/catalog/instances", { serviceName: "orders", pageNo: "1", pageSize: "10" }],
  ["GET", "/client/list", {}],
  ["GET", "/client", { clientId: "192.0.2.10:80#true" }],
  ["GET", "/client/publish/list", { clientId: "192.0.2.10:80#true" }],
  ["GET", "/client/subscribe/list", { clientId: "192.0.2.10:80#true" }],
  ["GET", "/client/service/publisher/list", { serviceName: "orders" }],
];

test("while the registry loads, v2 reads answer 503 (2.x's envelope, 30000) and registrations pass", async () => {
  const { node, digests } = await testApp();
  // The same node, seen as one still loading its peers' registry.
  const loading = Object.create(node, { registryComplete: { value: false } }) as NamingNode;
  const app = createHttpApp(nodeContext(loading));
  await app.ready();
  dataOf(await v2(app, "POST", "/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80" }));
  const before = digests();
  for (const [method, path, params] of READS) {
    const detail = refusalOf(await v2(app, method, path, params), 503, 30000);
    assert.match(detail, /^server is STARTING now: it is still loading the registry its peers hold/, `${method} ${path}`);
  }
  assert.equal(digests(), before, "the service is still there");
  assert.deepEqual(dataOf(await v2(app, "GET", "/operator/metrics")), { status: "STARTING" });
  const complete = (await testApp()).app;
  assert.equal((await v2(complete, "GET", "/service/list")).status, 200, "a complete node answers");
});
