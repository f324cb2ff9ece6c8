/** `PUT /cluster`, `GET /health/checkers` and the clusters of `GET /service`, under both prefixes. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { call, testApp } from "./support.js";

const HTTP_CHECKER = { type: "HTTP", path: "/ready", headers: "X-Probe:nacos|Authorization:Basic a:b", expectedResponseCode: 204 };

test("cluster settings are set by PUT /cluster, shown by GET /service, kept by PUT /service, gone with the service", async () => {
  const { app, digests } = await testApp();
  for (const prefix of ["/nacos/v1/ns", "/v1/ns"]) {
    const ns = { serviceName: "db", groupName: "G", namespaceId: prefix === "/v1/ns" ? "dev" : "public" };
    assert.equal((await call(app, "POST", `${prefix}/instance`, { ...ns, ip: "192.0.2.1", port: "3306", ephemeral: "false" })).text, "ok");
    const web = {
      ...ns,
      clusterName: "web",
      checkPort: "8081",
      useInstancePort4Check: "false",
      healthChecker: JSON.stringify(HTTP_CHECKER),
      metadata: "owner=ops",
    };
    assert.equal((await call(app, "PUT", `${prefix}/cluster`, web)).text, "ok");
    const unchanged = digests();
    assert.equal((await call(app, "PUT", `${prefix}/cluster`, web)).text, "ok");
    assert.equal(digests(), unchanged, "the same settings again are no change");
    const detail = (await call(app, "GET", `${prefix}/service`, ns)).json();
    assert.deepEqual(detail.clusters, [
      { name: "DEFAULT", healthChecker: { type: "TCP" }, metadata: {}, checkPort: 80, useInstancePort4Check: true },
      { name: "web", healthChecker: HTTP_CHECKER, metadata: { owner: "ops" }, checkPort: 8081, useInstancePort4Check: false },
    ]);
    assert.equal((await call(app, "PUT", `${prefix}/service`, { ...ns, protectThreshold: "0.5" })).text, "ok");
    assert.deepEqual((await call(app, "GET", `${prefix}/service`, ns)).json().clusters, detail.clusters, "a service update keeps clusters");
    assert.equal((await call(app, "DELETE", `${prefix}/service`, ns)).text, "ok");
    assert.equal((await call(app, "POST", `${prefix}/service`, ns)).text, "ok");
    assert.deepEqual((await call(app, "GET", `${prefix}/service`, ns)).json().clusters, [], "a new service has no settings");
  }
});

test("a checker in 1.4's JSON takes its defaults; PUT /health/instance works once the cluster is NONE", async () => {
  const { app } = await testApp();
  const ns = { serviceName: "db" };
  await call(app, "POST", "/nacos/v1/ns/instance", { ...ns, ip: "192.0.2.1", port: "3306", ephemeral: "false" });
  const set = (healthChecker: string) =>
    call(app, "PUT", "/nacos/v1/ns/cluster", {
      ...ns,
      clusterName: "DEFAULT",
      checkPort: "80",
      useInstancePort4Check: "true",
      healthChecker,
    });
  assert.equal((await set('{"type":"http"}')).text, "ok");
  assert.deepEqual((await call(app, "GET", "/nacos/v1/ns/service", ns)).json().clusters[0].healthChecker, {
    type: "HTTP",
    path: "",
    headers: "",
    expectedResponseCode: 200,
  });
  const manual = { ...ns, ip: "192.0.2.1", port: "3306", healthy: "false" };
  assert.equal((await call(app, "PUT", "/nacos/v1/ns/health/instance", manual)).status, 400);
  assert.equal((await set('{"type":"NONE"}')).text, "ok");
  assert.equal((await call(app, "PUT", "/nacos/v1/ns/health/instance", manual)).text, "ok");
  const hosts = (await call(app, "GET", "/nacos/v1/ns/instance/list", ns)).json().hosts;
  assert.deepEqual(
    hosts.map((h: { healthy: boolean }) => h.healthy),
    [true],
    "protect threshold 0 shows all, healthy",
  );
  const statuses = (await call(app, "GET", "/nacos/v1/ns/instance/statuses", { key: "DEFAULT_GROUP@@db" })).json();
  assert.deepEqual(statuses.ips, ["192.0.2.1:3306_false"]);
});

test("GET /health/checkers lists TCP, HTTP and NONE with their defaults", async () => {
  const { app } = await testApp();
  for (const prefix of ["/nacos/v1/ns", "/v1/ns"]) {
    assert.deepEqual((await call(app, "GET", `${prefix}/health/checkers`)).json(), {
      TCP: { type: "TCP" },
      HTTP: { type: "HTTP", path: "", headers: "", expectedResponseCode: 200 },
      NONE: { type: "NONE" },
    });
  }
});
