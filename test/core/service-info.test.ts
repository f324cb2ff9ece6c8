import assert from "node:assert/strict";
import { test } from "node:test";
import { identityOf, type Instance } from "../../src/core/instance.js";
import { DEFAULT_SERVICE_META, makeDatum, type ServiceDatum } from "../../src/core/service-datum.js";
import { buildServiceInfo, type ServiceInfoQuery } from "../../src/core/service-info.js";
import { testInstance } from "../support/fixtures.js";

const v1 = { counter: 1, writer: "n" };
const inst = (ip: string, over: Partial<Instance> = {}): Instance => testInstance(ip, 8080, "shop@@svc", over);
const datum = (instances: Instance[], protectThreshold = 0): ServiceDatum =>
  makeDatum(
    "public##shop@@svc",
    false,
    { ...DEFAULT_SERVICE_META, protectThreshold },
    v1,
    instances.map((instance) => ({ id: identityOf(instance), version: v1, instance })),
  );
const query = (over: Partial<ServiceInfoQuery> = {}): ServiceInfoQuery => ({
  groupedName: "shop@@svc",
  clusters: "",
  healthyOnly: false,
  cacheMillis: 10_000,
  lastRefTime: 42,
  ...over,
});

test("2.x's ServiceInfo: the bare name beside its group, grouped serviceName on hosts, 1.x's valid and marked left out", () => {
  const info = buildServiceInfo(datum([inst("192.0.2.1", { healthy: false }), inst("192.0.2.2")], -1), query());
  assert.equal(info.name, "svc");
  assert.equal(info.groupName, "shop");
  assert.deepEqual(
    info.hosts.map((h) => [h.ip, h.healthy, h.serviceName]),
    [
      ["192.0.2.2", true, "shop@@svc"],
      ["192.0.2.1", false, "shop@@svc"],
    ],
  );
  assert.deepEqual(Object.keys(info.hosts[0]!).sort(), [
    "clusterName",
    "enabled",
    "ephemeral",
    "healthy",
    "instanceHeartBeatInterval",
    "instanceHeartBeatTimeOut",
    "instanceId",
    "instanceIdGenerator",
    "ip",
    "ipDeleteTimeout",
    "metadata",
    "port",
    "serviceName",
    "weight",
  ]);
  assert.deepEqual([info.cacheMillis, info.lastRefTime, info.allIPs, info.valid], [10_000, 42, false, true]);
});

test("the same selection as the 1.x view: cluster filter, healthy only, protect threshold, an unknown service empty", () => {
  const d = datum([inst("192.0.2.1", { clusterName: "A" }), inst("192.0.2.2", { clusterName: "B", healthy: false })], -1);
  assert.deepEqual(
    buildServiceInfo(d, query({ clusters: "B" })).hosts.map((h) => h.ip),
    ["192.0.2.2"],
  );
  assert.deepEqual(
    buildServiceInfo(d, query({ healthyOnly: true })).hosts.map((h) => h.ip),
    ["192.0.2.1"],
  );
  const protectedInfo = buildServiceInfo(datum([inst("192.0.2.3", { healthy: false })], 0.5), query());
  assert.equal(protectedInfo.reachProtectionThreshold, true);
  assert.equal(protectedInfo.hosts[0]!.healthy, true);
  assert.deepEqual(buildServiceInfo(undefined, query()).hosts, []);
});
