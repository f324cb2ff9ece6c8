/**
 * `/nacos/v2/ns/service*`, `/health`, `/catalog/instances` and `/operator/*` against a real standalone node:
 * 2.x's shapes and codes, and refusals that change nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { call, testApp } from "../support.js";
import { dataOf, refusalOf, v2 } from "./support.js";

test("services: create, detail as 2.x's ServiceDetailInfo, update, list a group's names, delete", async () => {
  const { app } = await testApp();
  const created = await v2(
    app,
    "POST",
    "/service",
    { serviceName: "orders", metadata: '{"team":"a"}', protectThreshold: "0.5" },
    { form: true },
  );
  assert.equal(dataOf(created), "ok");
  dataOf(await v2(app, "POST", "/service", { serviceName: "stock", groupName: "INVENTORY", ephemeral: "true" }));
  dataOf(await v2(app, "POST", "/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80", clusterName: "EU" }));
  assert.deepEqual(dataOf(await v2(app, "GET", "/service", { serviceName: "orders" })), {
    namespace: "public",
    serviceName: "orders",
    groupName: "DEFAULT_GROUP",
    clusterMap: { EU: { clusterName: "EU", healthChecker: { type: "TCP" }, metadata: {}, hosts: null } },
    metadata: { team: "a" },
    protectThreshold: 0.5,
    selector: { type: "none" },
    ephemeral: true,
  });
  // 2.x's update replaces the settings, its protect threshold optional (0).
  dataOf(
    await v2(app, "PUT", "/service", {
      serviceName: "orders",
      selector: '{"type":"label","expression":"CONSUMER.label.a = PROVIDER.label.a"}',
    }),
  );
  const updated = dataOf(await v2(app, "GET", "/service", { serviceName: "orders" })) as Record<string, unknown>;
  assert.deepEqual(
    [updated.protectThreshold, updated.metadata, updated.selector],
    [0, {}, { type: "label", expression: "CONSUMER.label.a = PROVIDER.label.a" }],
  );
  assert.deepEqual(dataOf(await v2(app, "GET", "/service/list", {})), { count: 1, services: ["orders"] });
  assert.deepEqual(dataOf(await v2(app, "GET", "/service/list", { groupName: "INVENTORY" })), { count: 1, services: ["stock"] });
  for (let i = 0; i < 3; i++) dataOf(await v2(app, "POST", "/service", { serviceName: `paged-${i}` }));
  assert.deepEqual(dataOf(await v2(app, "GET", "/service/list", { pageNo: "2", pageSize: "2" })), {
    count: 4,
    services: ["paged-1", "paged-2"],
  });
  assert.deepEqual(dataOf(await v2(app, "GET", "/service/list", { pageNo: "9", pageSize: "100000" })), { count: 4, services: [] });

  refusalOf(await v2(app, "DELETE", "/service", { serviceName: "orders" }), 400, 21009);
  dataOf(await v2(app, "DELETE", "/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80", clusterName: "EU" }));
  assert.equal(dataOf(await v2(app, "DELETE", "/service", { serviceName: "orders" })), "ok");
  refusalOf(await v2(app, "GET", "/service", { serviceName: "orders" }), 400, 21008);
});

test("health: set where no server check runs; refused where one does, as 2.x refuses it", async () => {
  const { app } = await testApp();
  dataOf(await v2(app, "POST", "/instance", { serviceName: "db", ip: "192.0.2.20", port: "5432", ephemeral: "false" }));
  refusalOf(await v2(app, "PUT", "/health/instance", { serviceName: "db", ip: "192.0.2.20", port: "5432", healthy: "false" }), 400, 30000);
  const none = {
    serviceName: "db",
    clusterName: "DEFAULT",
    healthChecker: '{"type":"NONE"}',
    checkPort: "0",
    useInstancePort4Check: "true",
  };
  assert.equal((await call(app, "PUT", "/nacos/v1/ns/cluster", none)).status, 200);
  for (const path of ["/health/instance", "/health"]) {
    assert.equal(dataOf(await v2(app, "PUT", path, { serviceName: "db", ip: "192.0.2.20", port: "5432", healthy: "false" })), "ok");
  }
  const listed = dataOf(await v2(app, "GET", "/catalog/instances", { serviceName: "db", pageNo: "1", pageSize: "10" }));
  assert.equal((listed as { instances: Array<{ healthy: boolean }> }).instances[0]!.healthy, false);
});

test("catalog instances: 2.x's Instance, disabled and unhealthy ones too, filtered, then paged", async () => {
  const { app } = await testApp();
  for (let i = 1; i <= 5; i++) {
    const params = { serviceName: "INVENTORY@@stock", ip: `192.0.2.${i}`, port: "80", enabled: String(i !== 2), healthy: String(i !== 3) };
    dataOf(await v2(app, "POST", "/instance", params));
  }
  const all = dataOf(await v2(app, "POST", "/catalog/instances", { serviceName: "INVENTORY@@stock", pageNo: "1", pageSize: "2" }));
  assert.deepEqual(all, {
    instances: [1, 2].map((i) => ({
      instanceId: `192.0.2.${i}#80#DEFAULT#INVENTORY@@stock`,
      ip: `192.0.2.${i}`,
      port: 80,
      weight: 1,
      healthy: true,
      enabled: i !== 2,
      ephemeral: true,
      clusterName: "DEFAULT",
      serviceName: "INVENTORY@@stock",
      metadata: {},
      instanceHeartBeatInterval: 5000,
      instanceHeartBeatTimeOut: 15000,
      ipDeleteTimeout: 30000,
      instanceIdGenerator: "simple",
    })),
    count: 5,
  });
  const ips = (data: unknown) => (data as { instances?: Array<{ ip: string }> }).instances?.map((i) => i.ip);
  const filtered = dataOf(
    await v2(app, "GET", "/catalog/instances", {
      serviceName: "INVENTORY@@stock",
      healthyOnly: "true",
      enabledOnly: "true",
      pageNo: "2",
      pageSize: "2",
    }),
  );
  assert.deepEqual([ips(filtered), (filtered as { count: number }).count], [["192.0.2.5"], 3]);
  assert.deepEqual(dataOf(await v2(app, "GET", "/catalog/instances", { serviceName: "INVENTORY@@stock", pageNo: "4", pageSize: "2" })), {
    count: 5,
  });
  assert.deepEqual(dataOf(await v2(app, "GET", "/catalog/instances", { serviceName: "nowhere", pageNo: "1", pageSize: "2" })), {
    count: 0,
  });
});

test("operator: the switches, changed cluster-wide; metrics, the status alone unless asked for more", async () => {
  const { app } = await testApp();
  const switches = dataOf(await v2(app, "GET", "/operator/switches")) as Record<string, unknown>;
  assert.equal(switches.clientBeatInterval, 5000);
  assert.equal(dataOf(await v2(app, "PUT", "/operator/switches", { entry: "clientBeatInterval", value: "3000" })), "ok");
  assert.equal((dataOf(await v2(app, "GET", "/ops/switches")) as Record<string, unknown>).clientBeatInterval, 3000);
  assert.equal((await call(app, "GET", "/nacos/v1/ns/operator/switches")).json().clientBeatInterval, 3000);
  assert.deepEqual(dataOf(await v2(app, "GET", "/operator/metrics")), { status: "UP" });
  dataOf(await v2(app, "POST", "/instance", { serviceName: "m", ip: "192.0.2.40", port: "80" }));
  dataOf(await v2(app, "POST", "/instance", { serviceName: "m", ip: "192.0.2.41", port: "80", ephemeral: "false" }));
  const full = dataOf(await v2(app, "GET", "/ops/metrics", { onlyStatus: "false" })) as Record<string, number | string>;
  const { cpu, load, mem, ...counts } = full;
  assert.ok([cpu, load, mem].every((n) => typeof n === "number"));
  assert.deepEqual(counts, {
    status: "UP",
    serviceCount: 1,
    instanceCount: 2,
    subscribeCount: 0,
    clientCount: 2,
    connectionBasedClientCount: 0,
    ephemeralIpPortClientCount: 1,
    persistentIpPortClientCount: 1,
    responsibleClientCount: 2,
  });
});

test("every bad service, health, catalog or operator request gets 2.x's status and code, and changes nothing", async () => {
  const { app, digests } = await testApp();
  dataOf(await v2(app, "POST", "/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80" }));
  const cases: ReadonlyArray<readonly [string, string, Record<string, string>, number, number]> = [
    ["POST", "/service", {}, 400, 10000],
    ["POST", "/service", { serviceName: "orders" }, 400, 21007],
    ["POST", "/service", { serviceName: "new", protectThreshold: "half" }, 400, 20002],
    ["POST", "/service", { serviceName: "new", metadata: "k" }, 400, 21002],
    ["POST", "/service", { serviceName: "new", selector: '{"type":"cmdb"}' }, 400, 21006],
    ["POST", "/service", { serviceName: "new", ephemeral: "sometimes" }, 400, 20002],
    ["POST", "/service", { serviceName: "new service" }, 400, 20002],
    ["PUT", "/service", { serviceName: "nowhere" }, 400, 21008],
    ["DELETE", "/service", { serviceName: "nowhere" }, 400, 21008],
    ["DELETE", "/service", { serviceName: "orders" }, 400, 21009],
    ["GET", "/service", {}, 400, 10000],
    ["GET", "/service/list", { pageNo: "0" }, 400, 20002],
    ["PUT", "/health/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80" }, 400, 10000],
    ["PUT", "/health/instance", { serviceName: "orders", ip: "192.0.2.10", port: "80", healthy: "no" }, 400, 20002],
    ["PUT", "/health/instance", { serviceName: "nowhere", ip: "192.0.2.10", port: "80", healthy: "true" }, 400, 30000],
    ["GET", "/catalog/instances", { serviceName: "orders", pageSize: "10" }, 400, 10000],
    ["GET", "/catalog/instances", { serviceName: "orders", pageNo: "1", pageSize: "1001" }, 400, 20002],
    ["GET", "/catalog/instances", { serviceName: "orders", pageNo: "1", pageSize: "10", healthyOnly: "2" }, 400, 20002],
    ["PUT", "/operator/switches", { entry: "clientBeatInterval" }, 400, 10000],
    ["PUT", "/operator/switches", { entry: "noSuchSwitch", value: "1" }, 400, 20002],
    ["PUT", "/operator/switches", { entry: "clientBeatInterval", value: "often" }, 400, 20002],
    ["GET", "/operator/metrics", { onlyStatus: "perhaps" }, 400, 20002],
  ];
  const before = digests();
  const switches = JSON.stringify(dataOf(await v2(app, "GET", "/operator/switches")));
  for (const [method, path, params, status, code] of cases) {
    refusalOf(await v2(app, method, path, params), status, code);
    assert.equal(digests(), before, `${method} ${path} ${JSON.stringify(params)} changed nothing`);
  }
  assert.equal(JSON.stringify(dataOf(await v2(app, "GET", "/operator/switches"))), switches, "no switch changed");
});
