import assert from "node:assert/strict";
import { test } from "node:test";
import { testConnection } from "../support/fixtures.js";
import { call, JAVA_CLIENT, testApp } from "./support.js";

const NS = "/nacos/v1/ns";

test("services: create, detail, update replaces, list paging by group and *, names, delete", async () => {
  const { app } = await testApp();
  assert.equal(
    (
      await call(app, "POST", `${NS}/service`, {
        serviceName: "s1",
        protectThreshold: "0.5",
        metadata: "owner=a",
        selector: '{"type":"none"}',
      })
    ).text,
    "ok",
  );
  for (const name of ["s2", "s3"]) await call(app, "POST", `${NS}/instance`, { serviceName: name, ip: "192.0.2.1", port: "1" });
  await call(app, "POST", `${NS}/instance`, { serviceName: "other", groupName: "G2", ip: "192.0.2.1", port: "1", clusterName: "C1" });
  const detail = (await call(app, "GET", `${NS}/service`, { serviceName: "s1" })).json();
  assert.deepEqual(detail, {
    name: "s1",
    groupName: "DEFAULT_GROUP",
    namespaceId: "public",
    protectThreshold: 0.5,
    metadata: { owner: "a" },
    selector: { type: "none" },
    clusters: [],
  });
  await call(app, "PUT", `${NS}/service`, { serviceName: "s1", protectThreshold: "0.1" });
  assert.deepEqual((await call(app, "GET", `${NS}/service`, { serviceName: "s1" })).json().metadata, {}, "update replaces metadata");
  assert.deepEqual((await call(app, "GET", `${NS}/service`, { serviceName: "other", groupName: "G2" })).json().clusters, [
    { name: "C1", healthChecker: { type: "TCP" }, metadata: {}, checkPort: 80, useInstancePort4Check: true },
  ]);
  assert.deepEqual((await call(app, "GET", `${NS}/service/list`, { pageNo: "1", pageSize: "2" })).json(), { doms: ["s1", "s2"], count: 3 });
  assert.deepEqual((await call(app, "GET", `${NS}/service/list`, { pageNo: "2", pageSize: "2" })).json(), { doms: ["s3"], count: 3 });
  assert.deepEqual((await call(app, "GET", `${NS}/service/list`, { pageNo: "1", pageSize: "10", groupName: "G2" })).json(), {
    doms: ["other"],
    count: 1,
  });
  assert.equal((await call(app, "GET", `${NS}/service/list`, { pageNo: "1", pageSize: "10", groupName: "*" })).json().count, 4);
  assert.deepEqual((await call(app, "GET", `${NS}/service/list`, { pageNo: "1", pageSize: "10", namespaceId: "empty" })).json(), {
    doms: [],
    count: 0,
  });
  const names = (await call(app, "GET", `${NS}/service/names`, { expr: "s[12]" })).json();
  assert.deepEqual(names, { services: { public: ["DEFAULT_GROUP@@s1", "DEFAULT_GROUP@@s2"] }, count: 1 });
  assert.equal((await call(app, "DELETE", `${NS}/service`, { serviceName: "s1" })).text, "ok");
  assert.equal((await call(app, "GET", `${NS}/service`, { serviceName: "s1" })).status, 404);
});

test("a pattern that backtracks exponentially is matched in linear time: one request cannot stall the node", {
  timeout: 20_000,
}, async () => {
  const { app } = await testApp();
  const long = "a".repeat(60);
  assert.equal((await call(app, "POST", `${NS}/instance`, { serviceName: long, ip: "192.0.2.1", port: "1" })).text, "ok");
  // (a+)+b against sixty a's takes a backtracking engine about 2^60 steps.
  const res = await call(app, "GET", `${NS}/service/names`, { expr: "(a+)+b" });
  assert.deepEqual([res.status, res.json()], [200, { services: {}, count: 0 }]);
  const hit = await call(app, "GET", `${NS}/service/names`, { expr: "(a+)+$" });
  assert.deepEqual(hit.json().services, { public: [`DEFAULT_GROUP@@${long}`] });
});

test("subscribers of a service: 1.x UDP push registrations (with their last poll) and 2.x connections, as 2.x lists them", async () => {
  const { app, node, push, scheduler } = await testApp();
  await call(app, "GET", `${NS}/instance/list`, { serviceName: "sub", udpPort: "41000", clientIP: "127.0.0.1", app: "shop" }, JAVA_CLIENT);
  const connection = "1700000000000_127.0.0.1_50001";
  node.connections.open(testConnection(connection, scheduler.now(), { appName: "web" }));
  push.byConnection.set(connection, [{ service: { namespaceId: "public", groupedName: "DEFAULT_GROUP@@sub" }, clusters: "" }]);
  const res = (await call(app, "GET", `${NS}/service/subscribers`, { serviceName: "sub" })).json();
  assert.equal(res.count, 2);
  assert.deepEqual(res.subscribers, [
    {
      addrStr: "127.0.0.1:41000",
      agent: "Nacos-Java-Client:v1.0.0",
      app: "shop",
      ip: "127.0.0.1",
      port: 41000,
      namespaceId: "public",
      serviceName: "DEFAULT_GROUP@@sub",
      lastPollTime: 0,
    },
    {
      addrStr: "127.0.0.1",
      agent: "Nacos-Rust-Client:v0.4.0",
      app: "web",
      ip: "127.0.0.1",
      port: 0,
      namespaceId: "public",
      serviceName: "DEFAULT_GROUP@@sub",
    },
  ]);
});

test("operator: metrics status, servers, switches round trip, responsible server, digest", async () => {
  const { app } = await testApp();
  await call(app, "POST", `${NS}/instance`, { serviceName: "m", ip: "192.0.2.1", port: "1" });
  const metrics = (await call(app, "GET", `${NS}/operator/metrics`)).json();
  assert.equal(metrics.status, "UP");
  assert.equal(metrics.serviceCount, 1);
  assert.equal(metrics.instanceCount, 1);
  assert.equal(metrics.responsibleInstanceCount, 1);
  const servers = (await call(app, "GET", `${NS}/operator/servers`)).json().servers;
  assert.deepEqual(
    servers.map((s: { address: string; state: string }) => [s.address, s.state]),
    [["127.0.0.1:8848", "UP"]],
  );
  assert.equal((await call(app, "GET", `/v1/ns/ops/switches`)).json().clientBeatInterval, 5000);
  assert.equal((await call(app, "PUT", `${NS}/operator/switches`, { entry: "clientBeatInterval", value: "7000" })).text, "ok");
  assert.equal((await call(app, "GET", `${NS}/operator/switches`)).json().clientBeatInterval, 7000);
  assert.deepEqual((await call(app, "GET", `${NS}/operator/distro/server`, { serviceName: "m" })).json(), {
    responsibleServer: "127.0.0.1:8848",
  });
  const d1 = (await call(app, "GET", `${NS}/operator/distro/digest`)).json();
  assert.equal(d1.keys, 1);
  await call(app, "POST", `${NS}/instance`, { serviceName: "m", ip: "192.0.2.2", port: "1" });
  assert.notEqual((await call(app, "GET", `${NS}/operator/distro/digest`)).json().digest, d1.digest);
});

test("probes, cluster RestResults, prometheus, and the traffic filter", async () => {
  const { app, node } = await testApp();
  assert.equal((await call(app, "GET", "/nacos/v1/console/health/liveness")).text, "OK");
  assert.equal((await call(app, "GET", "/nacos/v1/console/health/readiness")).text, "OK");
  const self = (await call(app, "GET", "/nacos/v1/core/cluster/self")).json();
  assert.equal(self.code, 200);
  assert.equal(self.data.address, "127.0.0.1:8848");
  assert.equal((await call(app, "GET", "/v1/core/cluster/health")).json().data, "UP");
  assert.equal((await call(app, "GET", "/nacos/v1/core/cluster/nodes", { keyword: "10." })).json().data.length, 0);
  assert.match((await call(app, "GET", "/nacos/actuator/prometheus")).text, /^nacos_naming_service_count 0$/m);
  node.switches.overriddenServerStatus = "DOWN";
  const refused = await call(app, "POST", `${NS}/instance`, { serviceName: "t", ip: "192.0.2.1", port: "1" });
  assert.deepEqual([refused.status, refused.text], [503, "server is DOWNnow, please try again later!"]);
  const peer = await call(
    app,
    "POST",
    `${NS}/instance`,
    { serviceName: "t", ip: "192.0.2.1", port: "1" },
    { "user-agent": "Nacos-Server:1.4.6" },
  );
  assert.equal(peer.text, "ok", "peers pass");
  assert.equal((await call(app, "GET", `${NS}/operator/metrics`)).status, 503);
  node.switches.overriddenServerStatus = "READ_ONLY";
  assert.equal((await call(app, "GET", `${NS}/instance/list`, { serviceName: "t" })).status, 200);
  assert.equal((await call(app, "DELETE", `${NS}/instance`, { serviceName: "t", ip: "192.0.2.1", port: "1" })).status, 503);
  node.switches.overriddenServerStatus = null;
  assert.equal((await call(app, "GET", "/nacos/v1/console/health/liveness")).status, 200);
});
