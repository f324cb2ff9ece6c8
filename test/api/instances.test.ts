import assert from "node:assert/strict";
import { test } from "node:test";
import { call, JAVA_CLIENT, testApp } from "./support.js";

const NS = "/nacos/v1/ns";

test("what the nacos SDK sends (query string only, legacy names, Java agent) registers and lists byte-compatibly", async () => {
  const { app } = await testApp();
  const reg = await call(
    app,
    "POST",
    `${NS}/instance`,
    {
      namespaceId: "public",
      serviceName: "DEFAULT_GROUP@@sdk",
      groupName: "DEFAULT_GROUP",
      clusterName: "DEFAULT",
      ip: "192.0.2.10",
      port: "8080",
      weight: "2.5",
      enable: "true",
      healthy: "true",
      ephemeral: "true",
      metadata: '{"zone":"a"}',
    },
    JAVA_CLIENT,
  );
  assert.deepEqual([reg.status, reg.text], [200, "ok"]);
  const list = (
    await call(
      app,
      "GET",
      `${NS}/instance/list`,
      { serviceName: "DEFAULT_GROUP@@sdk", clusters: "", udpPort: "0", clientIP: "", healthyOnly: "false" },
      JAVA_CLIENT,
    )
  ).json();
  assert.equal(list.name, "DEFAULT_GROUP@@sdk");
  assert.equal(list.dom, "DEFAULT_GROUP@@sdk");
  assert.equal(list.clusters, "");
  assert.equal(list.cacheMillis, 3000);
  assert.deepEqual(list.hosts[0], {
    ip: "192.0.2.10",
    port: 8080,
    valid: true,
    healthy: true,
    marked: false,
    instanceId: "192.0.2.10#8080#DEFAULT#DEFAULT_GROUP@@sdk",
    metadata: { zone: "a" },
    enabled: true,
    weight: 2.5,
    clusterName: "DEFAULT",
    serviceName: "DEFAULT_GROUP@@sdk",
    ephemeral: true,
    instanceHeartBeatInterval: 5000,
    instanceHeartBeatTimeOut: 15000,
    ipDeleteTimeout: 30000,
    instanceIdGenerator: "simple",
  });
  const curl = (await call(app, "GET", `/v1/ns/instance/list`, { serviceName: "sdk", clusters: "DEFAULT" })).json();
  assert.equal(curl.name, "DEFAULT_GROUP@@sdk");
  assert.equal(curl.dom, "sdk", "bare names for agents other than Java clients");
  assert.equal(curl.hosts[0].serviceName, "sdk");
  assert.equal(curl.clusters, "DEFAULT", "clusters echoed exactly as asked");
});

test("a UDP subscriber is registered from a list query (socket address when clientIP is empty) and cacheMillis follows", async () => {
  const { app, push } = await testApp();
  await call(app, "POST", `${NS}/instance`, { serviceName: "pushed", ip: "192.0.2.1", port: "1" });
  const res = (
    await call(app, "GET", `${NS}/instance/list`, { serviceName: "pushed", udpPort: "40000", clientIP: "" }, JAVA_CLIENT)
  ).json();
  assert.equal(res.cacheMillis, 10000);
  assert.equal(push.subscribed.length, 1);
  assert.equal(push.subscribed[0]!.ip, "127.0.0.1");
  assert.equal(push.subscribed[0]!.udpPort, 40000);
  const noAgent = (await call(app, "GET", `${NS}/instance/list`, { serviceName: "pushed", udpPort: "40001" })).json();
  assert.equal(noAgent.cacheMillis, 3000, "an agent that cannot take UDP push is not subscribed");
  assert.equal(push.subscribed.length, 1);
});

test("healthy first, disabled hidden, cluster filter, protect threshold, checksum follows data", async () => {
  const { app } = await testApp();
  for (const [ip, extra] of [
    ["192.0.2.1", { healthy: "false" }],
    ["192.0.2.2", {}],
    ["192.0.2.3", { enabled: "false" }],
    ["192.0.2.4", { clusterName: "B" }],
  ] as const) {
    assert.equal((await call(app, "POST", `${NS}/instance`, { serviceName: "mix", ip, port: "1", ...extra })).text, "ok");
  }
  const list = async (params: Record<string, string>) =>
    (await call(app, "GET", `${NS}/instance/list`, { serviceName: "mix", ...params })).json();
  await call(app, "PUT", `${NS}/service`, { serviceName: "mix", protectThreshold: "-1" });
  const all = await list({});
  assert.deepEqual(
    all.hosts.map((h: { ip: string; healthy: boolean }) => [h.ip, h.healthy]),
    [
      ["192.0.2.2", true],
      ["192.0.2.4", true],
      ["192.0.2.1", false],
    ],
  );
  assert.deepEqual(
    (await list({ healthyOnly: "true" })).hosts.map((h: { ip: string }) => h.ip),
    ["192.0.2.2", "192.0.2.4"],
  );
  assert.deepEqual(
    (await list({ clusters: "B" })).hosts.map((h: { ip: string }) => h.ip),
    ["192.0.2.4"],
  );
  await call(app, "PUT", `${NS}/service`, { serviceName: "mix", protectThreshold: "0.9" });
  const protectedView = await list({ healthyOnly: "true" });
  assert.deepEqual(
    protectedView.hosts.map((h: { ip: string; healthy: boolean }) => [h.ip, h.healthy]),
    [
      ["192.0.2.1", true],
      ["192.0.2.2", true],
      ["192.0.2.4", true],
    ],
  );
  const before = all.checksum;
  await call(app, "PATCH", `${NS}/instance`, { serviceName: "mix", ip: "192.0.2.2", port: "1", weight: "3" });
  await call(app, "PUT", `${NS}/service`, { serviceName: "mix", protectThreshold: "-1" });
  assert.notEqual((await list({})).checksum, before);
  const missing = (await call(app, "GET", `${NS}/instance/list`, { serviceName: "never" })).json();
  assert.deepEqual([missing.name, missing.hosts], ["DEFAULT_GROUP@@never", []]);
});

test("beats: light unknown → 20404, full unknown re-creates, interval from metadata, switches honoured", async () => {
  const { app, node } = await testApp();
  const light = await call(app, "PUT", `${NS}/instance/beat`, { serviceName: "beats", ip: "192.0.2.9", port: "9" });
  assert.deepEqual(light.json(), { clientBeatInterval: 5000, code: 20404 });
  const beat = JSON.stringify({
    serviceName: "DEFAULT_GROUP@@beats",
    ip: "192.0.2.9",
    port: 9,
    cluster: "DEFAULT",
    weight: 2,
    metadata: { "preserved.heart.beat.interval": "2000" },
    scheduled: false,
  });
  const full = await call(app, "PUT", `${NS}/instance/beat`, { serviceName: "DEFAULT_GROUP@@beats", beat }, JAVA_CLIENT);
  assert.deepEqual(full.json(), { clientBeatInterval: 2000, code: 10200, lightBeatEnabled: true });
  const detail = (await call(app, "GET", `${NS}/instance`, { serviceName: "beats", ip: "192.0.2.9", port: "9" })).json();
  assert.equal(detail.weight, 2);
  node.switches.lightBeatEnabled = false;
  assert.equal(
    (await call(app, "PUT", `${NS}/instance/beat`, { serviceName: "beats", ip: "192.0.2.9", port: "9" })).json().lightBeatEnabled,
    false,
  );
});

test("a beat's fields take what 1.4's Jackson coerces: numeric text, numbers as text, 0/1 as booleans", async () => {
  const { app } = await testApp();
  const beat = JSON.stringify({ ip: "192.0.2.9", port: " 9", weight: "2.5", ephemeral: 1, metadata: { n: 1, b: true }, load: "0.5" });
  const res = await call(app, "PUT", `${NS}/instance/beat`, { serviceName: "coerced", beat }, JAVA_CLIENT);
  assert.equal(res.json().code, 10200, res.text);
  const detail = (await call(app, "GET", `${NS}/instance`, { serviceName: "coerced", ip: "192.0.2.9", port: "9" })).json();
  assert.deepEqual([detail.weight, detail.metadata], [2.5, { n: "1", b: "true" }]);
});

test("update, patch, deregister, detail, statuses and metadata batch", async () => {
  const { app } = await testApp();
  await call(app, "POST", `${NS}/instance`, { serviceName: "ops", ip: "192.0.2.1", port: "1", metadata: "a=1,b=2" });
  assert.equal(
    (await call(app, "PUT", `${NS}/instance`, { serviceName: "ops", ip: "192.0.2.2", port: "2" })).text,
    "ok",
    "curl's update is an upsert",
  );
  assert.equal(
    (await call(app, "PUT", `${NS}/instance`, { serviceName: "ops", ip: "192.0.2.1", port: "1", weight: "4" }, JAVA_CLIENT)).text,
    "ok",
  );
  assert.equal(
    (await call(app, "PATCH", `${NS}/instance`, { serviceName: "ops", ip: "192.0.2.1", port: "1", enabled: "false" })).text,
    "ok",
  );
  const d = (await call(app, "GET", `${NS}/instance`, { serviceName: "ops", ip: "192.0.2.1", port: "1" })).json();
  assert.deepEqual(d, {
    service: "DEFAULT_GROUP@@ops",
    ip: "192.0.2.1",
    port: 1,
    clusterName: "DEFAULT",
    weight: 4,
    healthy: true,
    instanceId: "192.0.2.1#1#DEFAULT#DEFAULT_GROUP@@ops",
    metadata: {},
  });
  assert.deepEqual((await call(app, "GET", `${NS}/instance/statuses`, { key: "public##DEFAULT_GROUP@@ops" })).json(), {
    ips: ["192.0.2.1:1_true", "192.0.2.2:2_true"],
  });
  assert.deepEqual((await call(app, "GET", `${NS}/instance/statuses`, { key: "DEFAULT_GROUP@@ops" })).json().ips.length, 2);
  const upd = await call(app, "PUT", `${NS}/instance/metadata/batch`, {
    serviceName: "ops",
    metadata: '{"tier":"gold"}',
    instances: '[{"ip":"192.0.2.2","port":2,"clusterName":"DEFAULT","ephemeral":true}]',
  });
  assert.deepEqual(upd.json(), { updated: ["192.0.2.2:2:unknown:DEFAULT:ephemeral"] });
  const del = await call(app, "DELETE", `${NS}/instance/metadata/batch`, {
    serviceName: "ops",
    metadata: '{"tier":""}',
    consistencyType: "ephemeral",
  });
  assert.deepEqual(del.json().updated.length, 2);
  assert.equal((await call(app, "DELETE", `${NS}/instance`, { serviceName: "ops", ip: "192.0.2.2", port: "2" })).text, "ok");
  assert.equal((await call(app, "DELETE", `${NS}/instance`, { serviceName: "never-existed", ip: "192.0.2.2", port: "2" })).text, "ok");
  const hosts = (await call(app, "GET", `${NS}/instance/list`, { serviceName: "ops" })).json().hosts;
  assert.deepEqual(hosts, [], "the disabled one is hidden and the other deregistered");
});

test("persistent instances are listed, never expired, and keep the health given or set by PUT /health/instance (cluster checked by NONE)", async () => {
  const { app, scheduler } = await testApp();
  await call(app, "POST", `${NS}/instance`, { serviceName: "db", ip: "192.0.2.7", port: "5432", ephemeral: "false", healthy: "false" });
  await scheduler.advance(120_000);
  const healthOf = async () =>
    (await call(app, "GET", `${NS}/instance/list`, { serviceName: "db" }))
      .json()
      .hosts.map((h: { healthy: boolean; ephemeral: boolean }) => [h.healthy, h.ephemeral]);
  await call(app, "PUT", `${NS}/service`, { serviceName: "db", protectThreshold: "-1" });
  assert.deepEqual(await healthOf(), [[false, false]]);
  const manual = {
    serviceName: "db",
    clusterName: "DEFAULT",
    checkPort: "80",
    useInstancePort4Check: "true",
    healthChecker: '{"type":"NONE"}',
  };
  assert.equal((await call(app, "PUT", `${NS}/cluster`, manual)).text, "ok");
  assert.equal(
    (await call(app, "PUT", `${NS}/health/instance`, { serviceName: "db", ip: "192.0.2.7", port: "5432", healthy: "true" })).text,
    "ok",
  );
  assert.deepEqual(await healthOf(), [[true, false]]);
  assert.equal((await call(app, "PUT", `${NS}/health`, { serviceName: "db", ip: "192.0.2.7", port: "5432", valid: "false" })).text, "ok");
  assert.deepEqual(await healthOf(), [[false, false]]);
});
