import assert from "node:assert/strict";
import { test } from "node:test";
import { call, testApp } from "./support.js";

const PREFIXES = ["/nacos/v1/ns", "/v1/ns"];

/**
 * public: orders (two instances in DEFAULT, one disabled, and one in east), BILLING@@payments (its protect
 * threshold 1, so always reached), users (no instances); prod: orders.
 */
async function populated() {
  const t = await testApp();
  const ns = "/nacos/v1/ns";
  const register = (params: Record<string, string>) => call(t.app, "POST", `${ns}/instance`, params);
  await register({ serviceName: "orders", ip: "192.0.2.1", port: "80", metadata: "zone=a" });
  await register({ serviceName: "orders", ip: "192.0.2.2", port: "80", enabled: "false" });
  await register({ serviceName: "orders", ip: "192.0.2.3", port: "81", clusterName: "east", weight: "2" });
  await register({ serviceName: "payments", groupName: "BILLING", ip: "192.0.2.4", port: "90" });
  await call(t.app, "PUT", `${ns}/service`, { serviceName: "payments", groupName: "BILLING", protectThreshold: "1" });
  await call(t.app, "POST", `${ns}/service`, { serviceName: "users", protectThreshold: "0.5", metadata: "team=id" });
  await register({ serviceName: "orders", ip: "192.0.2.9", port: "80", namespaceId: "prod" });
  return t;
}

for (const prefix of PREFIXES) {
  test(`${prefix}/catalog/services: 1.4's counts, filters and 1-based paging`, async () => {
    const { app } = await populated();
    const list = (params: Record<string, string>) => call(app, "GET", `${prefix}/catalog/services`, params);
    const all = (await list({ pageNo: "1", pageSize: "10" })).json();
    assert.deepEqual(all, {
      count: 3,
      serviceList: [
        { name: "payments", groupName: "BILLING", clusterCount: 1, ipCount: 1, healthyInstanceCount: 1, triggerFlag: "true" },
        { name: "orders", groupName: "DEFAULT_GROUP", clusterCount: 2, ipCount: 3, healthyInstanceCount: 3, triggerFlag: "false" },
        { name: "users", groupName: "DEFAULT_GROUP", clusterCount: 0, ipCount: 0, healthyInstanceCount: 0, triggerFlag: "false" },
      ],
    });
    const names = async (params: Record<string, string>) => {
      const body = (await list(params)).json();
      return [body.count, body.serviceList.map((s: { name: string }) => s.name)];
    };
    const cases: Array<[Record<string, string>, [number, string[]]]> = [
      [{}, [3, ["payments", "orders", "users"]]],
      [{ pageNo: "2", pageSize: "2" }, [3, ["users"]]],
      [{ pageNo: "3", pageSize: "2" }, [3, []]],
      [{ serviceNameParam: "der" }, [1, ["orders"]]],
      [{ groupNameParam: "BILL" }, [1, ["payments"]]],
      [{ groupNameParam: "DEFAULT", serviceNameParam: "s" }, [2, ["orders", "users"]]],
      [{ serviceNameParam: "o.d" }, [0, []]],
      [{ hasIpCount: "true" }, [2, ["payments", "orders"]]],
      [{ instance: "192.0.2.3" }, [1, ["orders"]]],
      [{ instance: "192.0.2.3:80" }, [0, []]],
      [{ instance: "192.0.2.4:90" }, [1, ["payments"]]],
      [{ namespaceId: "prod" }, [1, ["orders"]]],
      [{ namespaceId: "nobody" }, [0, []]],
    ];
    for (const [params, expected] of cases) assert.deepEqual(await names(params), expected, JSON.stringify(params));
  });

  test(`${prefix}/catalog/services?withInstances=true: each service's clusters and hosts`, async () => {
    const { app } = await populated();
    const body = (await call(app, "GET", `${prefix}/catalog/services`, { withInstances: "true", serviceNameParam: "orders" })).json();
    assert.deepEqual(body, [
      {
        serviceName: "orders",
        groupName: "DEFAULT_GROUP",
        metadata: {},
        clusterMap: {
          DEFAULT: {
            hosts: [
              { valid: true, metadata: { zone: "a" }, port: 80, ip: "192.0.2.1", weight: 1, enabled: true },
              { valid: true, metadata: {}, port: 80, ip: "192.0.2.2", weight: 1, enabled: false },
            ],
          },
          east: { hosts: [{ valid: true, metadata: {}, port: 81, ip: "192.0.2.3", weight: 2, enabled: true }] },
        },
      },
    ]);
  });

  test(`${prefix}/catalog/service and /catalog/instances: one service, one cluster's instances by page`, async () => {
    const { app } = await populated();
    assert.deepEqual((await call(app, "GET", `${prefix}/catalog/service`, { serviceName: "users" })).json(), {
      service: { name: "users", protectThreshold: 0.5, groupName: "DEFAULT_GROUP", selector: { type: "none" }, metadata: { team: "id" } },
      clusters: [],
    });
    const detail = (await call(app, "GET", `${prefix}/catalog/service`, { serviceName: "payments", groupName: "BILLING" })).json();
    assert.deepEqual(detail.clusters, [
      {
        serviceName: "BILLING@@payments",
        name: "DEFAULT",
        healthChecker: { type: "TCP" },
        defaultPort: 80,
        defaultCheckPort: 80,
        useIPPort4Check: true,
        metadata: {},
      },
    ]);
    const page = (pageNo: string) =>
      call(app, "GET", `${prefix}/catalog/instances`, { serviceName: "orders", clusterName: "DEFAULT", pageNo, pageSize: "1" });
    const first = (await page("1")).json();
    assert.equal(first.count, 2);
    assert.deepEqual(first.list, [
      {
        instanceId: "192.0.2.1#80#DEFAULT#DEFAULT_GROUP@@orders",
        ip: "192.0.2.1",
        port: 80,
        weight: 1,
        healthy: true,
        enabled: true,
        ephemeral: true,
        clusterName: "DEFAULT",
        serviceName: "DEFAULT_GROUP@@orders",
        metadata: { zone: "a" },
        marked: false,
        app: "DEFAULT",
        instanceHeartBeatInterval: 5000,
        instanceHeartBeatTimeOut: 15000,
        ipDeleteTimeout: 30000,
        instanceIdGenerator: "simple",
      },
    ]);
    assert.deepEqual(
      (await page("2")).json().list.map((i: { ip: string }) => i.ip),
      ["192.0.2.2"],
    );
    assert.deepEqual((await page("3")).json(), { count: 2, list: [] });
  });
}

test("catalog: bad input is refused with 1.4's status and a message", async () => {
  const { app, digests } = await populated();
  const before = digests();
  const cases: Array<[string, Record<string, string>, number, string]> = [
    ["/catalog/services", { pageNo: "0" }, 400, "Param 'pageNo' must be a positive integer, current: 0"],
    ["/catalog/services", { pageSize: "x" }, 400, 'For input string: "x"'],
    ["/catalog/services", { pageSize: "1001" }, 400, "Param 'pageSize' must be at most 1000, current: 1001"],
    ["/catalog/services", { hasIpCount: "maybe" }, 400, "Param 'hasIpCount' must be true or false, current: maybe"],
    ["/catalog/service", {}, 400, "Param 'serviceName' is required."],
    ["/catalog/service", { serviceName: "nope" }, 404, "service DEFAULT_GROUP@@nope is not found!"],
    ["/catalog/instances", { serviceName: "orders" }, 400, "Param 'clusterName' is required."],
    ["/catalog/instances", { serviceName: "nope", clusterName: "DEFAULT" }, 404, "service DEFAULT_GROUP@@nope is not found!"],
    ["/catalog/instances", { serviceName: "orders", clusterName: "west" }, 404, "cluster west is not found!"],
    [
      "/catalog/instances",
      { serviceName: "orders", clusterName: "DEFAULT", pageSize: "-1" },
      400,
      "Param 'pageSize' must be a positive integer, current: -1",
    ],
  ];
  for (const [path, params, status, message] of cases) {
    const res = await call(app, "GET", `/nacos/v1/ns${path}`, params);
    assert.deepEqual([res.status, res.text], [status, message], `${path} ${JSON.stringify(params)}`);
  }
  assert.equal(digests(), before, "nothing changed");
});
