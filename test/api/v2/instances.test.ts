/**
 * `/nacos/v2/ns/instance*` against a real standalone node: 2.x's envelope and data shapes, the same writes as
 * `/v1/ns`, and every bad request refused with 2.x's status and detail code without changing anything.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { call, JAVA_CLIENT, testApp } from "../support.js";
import { dataOf, refusalOf, V2, v2 } from "./support.js";

const ORDERS = { serviceName: "orders", ip: "192.0.2.10", port: "8080" };

test("register (form body), list as 2.x's ServiceInfo, detail, update, patch and deregister", async () => {
  const { app, scheduler } = await testApp();
  const registered = await v2(
    app,
    "POST",
    "/instance",
    { ...ORDERS, weight: "2.5", metadata: '{"zone":"a"}', ephemeral: "false" },
    { form: true },
  );
  assert.equal(dataOf(registered), "ok");
  dataOf(await v2(app, "POST", "/instance", { ...ORDERS, ip: "192.0.2.11", clusterName: "EU", healthy: "false" }));

  const list = dataOf(await v2(app, "GET", "/instance/list", { serviceName: "orders" }));
  assert.deepEqual(list, {
    name: "DEFAULT_GROUP@@orders",
    groupName: "DEFAULT_GROUP",
    clusters: "",
    cacheMillis: 10_000,
    hosts: [
      {
        instanceId: "192.0.2.10#8080#DEFAULT#DEFAULT_GROUP@@orders",
        ip: "192.0.2.10",
        port: 8080,
        weight: 2.5,
        healthy: true,
        enabled: true,
        ephemeral: false,
        clusterName: "DEFAULT",
        serviceName: "DEFAULT_GROUP@@orders",
        metadata: { zone: "a" },
        instanceHeartBeatInterval: 5000,
        instanceHeartBeatTimeOut: 15000,
        ipDeleteTimeout: 30000,
        instanceIdGenerator: "simple",
      },
      {
        instanceId: "192.0.2.11#8080#EU#DEFAULT_GROUP@@orders",
        ip: "192.0.2.11",
        port: 8080,
        weight: 1,
        healthy: false,
        enabled: true,
        ephemeral: true,
        clusterName: "EU",
        serviceName: "DEFAULT_GROUP@@orders",
        metadata: {},
        instanceHeartBeatInterval: 5000,
        instanceHeartBeatTimeOut: 15000,
        ipDeleteTimeout: 30000,
        instanceIdGenerator: "simple",
      },
    ],
    lastRefTime: scheduler.now(),
    checksum: (list as { checksum: string }).checksum,
    allIPs: false,
    reachProtectionThreshold: false,
    valid: true,
  });
  type Listed = { clusters: string; reachProtectionThreshold: boolean; hosts: Array<{ ip: string; healthy: boolean }> };
  const healthy = dataOf(await v2(app, "GET", "/instance/list", { serviceName: "orders", healthyOnly: "true" })) as Listed;
  assert.deepEqual(
    healthy.hosts.map((h) => h.ip),
    ["192.0.2.10"],
  );
  // Alone in its cluster and unhealthy: the protect threshold (0) lists it as healthy, as 2.x does.
  const eu = dataOf(await v2(app, "GET", "/instance/list", { serviceName: "orders", clusterName: "EU" })) as Listed;
  assert.deepEqual(
    [eu.clusters, eu.reachProtectionThreshold, eu.hosts.map((h) => [h.ip, h.healthy])],
    ["EU", true, [["192.0.2.11", true]]],
  );

  const detail = dataOf(await v2(app, "GET", "/instance", ORDERS));
  assert.deepEqual(detail, {
    serviceName: "DEFAULT_GROUP@@orders",
    ip: "192.0.2.10",
    port: 8080,
    clusterName: "DEFAULT",
    weight: 2.5,
    healthy: true,
    instanceId: "192.0.2.10#8080#DEFAULT#DEFAULT_GROUP@@orders",
    metadata: { zone: "a" },
  });

  assert.equal(
    dataOf(await v2(app, "PUT", "/instance", { ...ORDERS, ephemeral: "false", weight: "4", metadata: "k=v" }, { form: true })),
    "ok",
  );
  const updated = dataOf(await v2(app, "GET", "/instance", ORDERS)) as { weight: number; metadata: object };
  assert.deepEqual([updated.weight, updated.metadata], [4, { k: "v" }]);

  // 2.x answers PATCH with a bare `ok`; only metadata, weight and enabled change.
  const patched = await v2(app, "PATCH", "/instance", { ...ORDERS, enabled: "false", healthy: "false", weight: "3" });
  assert.deepEqual([patched.status, patched.text], [200, "ok"]);
  const v1 = (await call(app, "GET", "/nacos/v1/ns/catalog/instances", { serviceName: "orders", clusterName: "DEFAULT" })).json();
  assert.deepEqual(
    v1.list.map((i: { enabled: boolean; healthy: boolean; weight: number }) => [i.enabled, i.healthy, i.weight]),
    [[false, true, 3]],
  );

  assert.equal(dataOf(await v2(app, "DELETE", "/instance", { ...ORDERS, ephemeral: "false" })), "ok");
  assert.equal(dataOf(await v2(app, "DELETE", "/instance", { ...ORDERS, ip: "192.0.2.11", clusterName: "EU" })), "ok");
  const empty = dataOf(await v2(app, "GET", "/instance/list", { serviceName: "orders" })) as { hosts: unknown[] };
  assert.deepEqual(empty.hosts, []);
});

test("also served without the context path, and 1.x and 2.x clients see the same instances", async () => {
  const { app } = await testApp();
  assert.equal(dataOf(await call(app, "POST", "/v2/ns/instance", ORDERS)), "ok");
  const v1 = (await call(app, "GET", "/nacos/v1/ns/instance/list", { serviceName: "orders" }, JAVA_CLIENT)).json();
  assert.deepEqual(
    v1.hosts.map((h: { ip: string }) => h.ip),
    ["192.0.2.10"],
  );
  const listed = dataOf(await call(app, "GET", "/v2/ns/instance/list", { serviceName: "DEFAULT_GROUP@@orders" })) as {
    hosts: Array<{ ip: string }>;
  };
  assert.deepEqual(
    listed.hosts.map((h) => h.ip),
    ["192.0.2.10"],
  );
});

test("a beat answers 2.x's bare JSON: a light beat for an unknown instance 20404, a full one re-creates it", async () => {
  const { app } = await testApp();
  const light = await v2(app, "PUT", "/instance/beat", { serviceName: "DEFAULT_GROUP@@beats", ip: "192.0.2.20", port: "80" });
  assert.deepEqual(light.json(), { clientBeatInterval: 5000, code: 20404, lightBeatEnabled: true });
  const beat = JSON.stringify({ ip: "192.0.2.20", port: 80, cluster: "EU", weight: 2, metadata: { a: "1" } });
  const full = await v2(app, "PUT", "/instance/beat", { serviceName: "DEFAULT_GROUP@@beats", beat });
  assert.deepEqual([full.status, full.json()], [200, { clientBeatInterval: 5000, code: 10200, lightBeatEnabled: true }]);
  const detail = dataOf(await v2(app, "GET", "/instance", { serviceName: "beats", ip: "192.0.2.20", port: "80", clusterName: "EU" }));
  assert.deepEqual((detail as { metadata: object }).metadata, { a: "1" });
});

test("metadata batch: named instances, or without them every ephemeral one; DELETE removes the keys", async () => {
  const { app } = await testApp();
  for (const ip of ["192.0.2.30", "192.0.2.31"]) dataOf(await v2(app, "POST", "/instance", { serviceName: "meta", ip, port: "80" }));
  dataOf(await v2(app, "POST", "/instance", { serviceName: "meta", ip: "192.0.2.32", port: "80", ephemeral: "false" }));
  const one = JSON.stringify([{ ip: "192.0.2.30", port: 80, ephemeral: true }]);
  assert.deepEqual(
    dataOf(await v2(app, "PUT", "/instance/metadata/batch", { serviceName: "meta", instances: one, metadata: '{"a":"1"}' })),
    {
      updated: ["192.0.2.30:80:unknown:DEFAULT:ephemeral"],
    },
  );
  assert.deepEqual(dataOf(await v2(app, "PUT", "/instance/metadata/batch", { serviceName: "meta", metadata: "b=2" })), {
    updated: ["192.0.2.30:80:unknown:DEFAULT:ephemeral", "192.0.2.31:80:unknown:DEFAULT:ephemeral"],
  });
  assert.deepEqual(
    dataOf(
      await v2(app, "DELETE", "/instance/metadata/batch", { serviceName: "meta", consistencyType: "ephemeral", metadata: '{"a":""}' }),
    ),
    { updated: ["192.0.2.30:80:unknown:DEFAULT:ephemeral", "192.0.2.31:80:unknown:DEFAULT:ephemeral"] },
  );
  const metadataOf = async (ip: string) =>
    (dataOf(await v2(app, "GET", "/instance", { serviceName: "meta", ip, port: "80" })) as { metadata: object }).metadata;
  assert.deepEqual(await metadataOf("192.0.2.30"), { b: "2" });
  assert.deepEqual(await metadataOf("192.0.2.32"), {}, "the persistent instance is not an ephemeral one");
});

test("a list with `port` subscribes a 1.x SDK to UDP pushes at the address it called from, never the `ip` it names", async () => {
  const { app, push } = await testApp();
  dataOf(
    await v2(
      app,
      "GET",
      "/instance/list",
      { serviceName: "pushed", ip: "203.0.113.9", port: "5001", app: "shop" },
      { headers: JAVA_CLIENT },
    ),
  );
  assert.deepEqual(
    push.subscribed.map((s) => [s.service.groupedName, s.ip, s.udpPort, s.app]),
    [["DEFAULT_GROUP@@pushed", "127.0.0.1", 5001, "shop"]],
  );
  dataOf(await v2(app, "GET", "/instance/list", { serviceName: "pushed", port: "5002" }, { headers: { "user-agent": "curl/8" } }));
  assert.equal(push.subscribed.length, 1, "an agent that takes no UDP push is not subscribed");
});

test("every bad request gets 2.x's status and detail code, and changes nothing", async () => {
  const { app, digests } = await testApp();
  dataOf(await v2(app, "POST", "/instance", ORDERS));
  const cases: ReadonlyArray<readonly [string, string, Record<string, string>, number, number]> = [
    ["POST", "/instance", { ip: "192.0.2.10", port: "80" }, 400, 10000],
    ["POST", "/instance", { serviceName: "orders", port: "80" }, 400, 10000],
    ["POST", "/instance", { serviceName: "orders", ip: "192.0.2.12" }, 400, 10000],
    ["POST", "/instance", { ...ORDERS, ip: "192.0.2.12", weight: "10001" }, 400, 21001],
    ["POST", "/instance", { ...ORDERS, ip: "192.0.2.12", weight: "heavy" }, 400, 20002],
    ["POST", "/instance", { ...ORDERS, ip: "192.0.2.12", metadata: "a" }, 400, 21002],
    ["POST", "/instance", { ...ORDERS, ip: "192.0.2.12", clusterName: "EU_1" }, 400, 21004],
    ["POST", "/instance", { ...ORDERS, ip: "192.0.2.12", port: "65536" }, 400, 20002],
    ["POST", "/instance", { ...ORDERS, ip: "192.0.2.300" }, 400, 20002],
    ["POST", "/instance", { ...ORDERS, ip: "192.0.2.12", healthy: "yes" }, 400, 20002],
    ["POST", "/instance", { ...ORDERS, serviceName: "@@orders", ip: "192.0.2.12" }, 400, 20002],
    ["POST", "/instance", { ...ORDERS, ip: "192.0.2.12", namespaceId: "n".repeat(129) }, 400, 20002],
    ["DELETE", "/instance", { ...ORDERS, weight: "-1" }, 400, 21001],
    ["PUT", "/instance", { ...ORDERS, serviceName: "nowhere" }, 400, 21004],
    ["PUT", "/instance", { ...ORDERS, port: "8081" }, 400, 21003],
    ["PATCH", "/instance", { ...ORDERS, port: "8081", weight: "2" }, 404, 20004],
    ["PATCH", "/instance", { ...ORDERS, weight: "-2" }, 400, 21001],
    ["GET", "/instance", { ...ORDERS, serviceName: "nowhere" }, 404, 20004],
    ["GET", "/instance", { ...ORDERS, port: "8081" }, 404, 20004],
    ["GET", "/instance/list", { serviceName: "orders", healthyOnly: "maybe" }, 400, 20002],
    ["PUT", "/instance/beat", { serviceName: "orders", beat: "{not json" }, 400, 20002],
    ["PUT", "/instance/beat", { serviceName: "orders", beat: '{"ip":["192.0.2.10"],"port":8080}' }, 400, 20002],
    ["PUT", "/instance/metadata/batch", { serviceName: "orders" }, 400, 10000],
    ["PUT", "/instance/metadata/batch", { serviceName: "orders", metadata: "a=1", instances: "[oops" }, 400, 20002],
    ["PUT", "/instance/metadata/batch", { serviceName: "orders", metadata: "a=1", consistencyType: "raft" }, 400, 20002],
    ["PUT", "/instance/metadata/batch", { serviceName: "nowhere", metadata: "a=1" }, 400, 21008],
  ];
  const before = digests();
  for (const [method, path, params, status, code] of cases) {
    refusalOf(await v2(app, method, path, params), status, code);
    assert.equal(digests(), before, `${method} ${path} ${JSON.stringify(params)} changed nothing`);
  }
  const huge = await v2(
    app,
    "POST",
    "/instance",
    { ...ORDERS, ip: "192.0.2.13", metadata: `{"a":"${"x".repeat(70_000)}"}` },
    { form: true },
  );
  assert.match(refusalOf(huge, 413, 20002), /larger than the limit of 65536 bytes/);
  const unknown = await call(app, "GET", `${V2}/instance/statuses`);
  assert.equal(unknown.status, 404, "what 2.x's v2 API has and this one does not is not found");
  assert.equal(digests(), before);
});
