import { testInstance } from "../support/fixtures.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { datumChecksum, serviceChecksum } from "../../src/core/checksum.js";
import { identityOf, type Instance } from "../../src/core/instance.js";
import { DEFAULT_SERVICE_META, makeDatum, type ServiceDatum } from "../../src/core/service-datum.js";
import { Registry } from "../../src/core/registry.js";
import { buildListView, listAnswer, protectThresholdReached, type ListQuery } from "../../src/core/service-view.js";

const inst = (ip: string, over: Partial<Instance> = {}): Instance => testInstance(ip, 8080, "DEFAULT_GROUP@@svc", over);

const v1 = { counter: 1, writer: "n" };
const datum = (instances: Instance[], protectThreshold = 0): ServiceDatum =>
  makeDatum(
    "public##DEFAULT_GROUP@@svc",
    false,
    { ...DEFAULT_SERVICE_META, protectThreshold },
    v1,
    instances.map((instance) => ({ id: identityOf(instance), version: v1, instance })),
  );

const query = (over: Partial<ListQuery> = {}): ListQuery => ({
  groupedName: "DEFAULT_GROUP@@svc",
  clusters: "",
  healthyOnly: false,
  env: "",
  groupedNamesForClient: true,
  cacheMillis: 3000,
  lastRefTime: 42,
  ...over,
});

test("healthy hosts first, disabled hidden, valid mirrors healthy, names echo the query", () => {
  const view = buildListView(
    datum([inst("192.0.2.1", { healthy: false }), inst("192.0.2.2"), inst("192.0.2.3", { enabled: false })], -1),
    query({ clusters: "DEFAULT" }),
  );
  assert.deepEqual(
    view.hosts.map((h) => [h.ip, h.healthy, h.valid]),
    [
      ["192.0.2.2", true, true],
      ["192.0.2.1", false, false],
    ],
  );
  assert.equal(view.name, "DEFAULT_GROUP@@svc");
  assert.equal(view.dom, "DEFAULT_GROUP@@svc");
  assert.equal(view.clusters, "DEFAULT");
  assert.equal(view.lastRefTime, 42);
  const bare = buildListView(datum([inst("192.0.2.2")]), query({ groupedNamesForClient: false }));
  assert.equal(bare.dom, "svc");
  assert.equal(bare.hosts[0]!.serviceName, "svc");
  assert.equal(bare.name, "DEFAULT_GROUP@@svc");
});

test("protect threshold exactly as 1.4: default 0 fires at zero healthy, negative disables, disabled count in total", () => {
  const allDown = [inst("192.0.2.1", { healthy: false }), inst("192.0.2.2", { healthy: false })];
  assert.equal(protectThresholdReached(allDown, 0), true);
  assert.equal(protectThresholdReached(allDown, -1), false);
  const view = buildListView(datum(allDown, 0), query({ healthyOnly: true }));
  assert.deepEqual(
    view.hosts.map((h) => h.healthy),
    [true, true],
    "threshold reached: all listed as healthy",
  );
  assert.equal(view.reachProtectionThreshold, true);
  const disabledDown = [inst("192.0.2.1"), inst("192.0.2.2", { enabled: false, healthy: false }), inst("192.0.2.3", { healthy: false })];
  assert.equal(protectThresholdReached(disabledDown, 0.34), true, "1/3 <= 0.34");
  assert.equal(protectThresholdReached(disabledDown, 0.33), false, "1/3 > 0.33");
  const healthyOnly = buildListView(datum(disabledDown, 0.2), query({ healthyOnly: true }));
  assert.deepEqual(
    healthyOnly.hosts.map((h) => h.ip),
    ["192.0.2.1"],
  );
});

test("cluster filter and empty/missing service", () => {
  const d = datum([inst("192.0.2.1"), inst("192.0.2.2", { clusterName: "B" })]);
  assert.deepEqual(
    buildListView(d, query({ clusters: "B" })).hosts.map((h) => h.ip),
    ["192.0.2.2"],
  );
  assert.deepEqual(
    buildListView(d, query({ clusters: "A,B" })).hosts.map((h) => h.ip),
    ["192.0.2.2"],
  );
  const missing = buildListView(undefined, query());
  assert.deepEqual(missing.hosts, []);
  assert.equal(missing.name, "DEFAULT_GROUP@@svc");
});

test("checksums change with any listed field and ignore order", () => {
  const a = [inst("192.0.2.1"), inst("192.0.2.2")];
  assert.equal(serviceChecksum("g@@s", a), serviceChecksum("g@@s", [...a].reverse()));
  assert.notEqual(serviceChecksum("g@@s", a), serviceChecksum("g@@s", [inst("192.0.2.1", { weight: 2 }), a[1]!]));
  assert.match(datumChecksum(a), /^[0-9a-f]{32}$/);
  assert.notEqual(datumChecksum(a), datumChecksum([inst("192.0.2.1", { metadata: { k: "v" } }), a[1]!]));
});

test("the list answer built from cached parts is exactly the serialized view, and follows every change", () => {
  const registry = new Registry("127.0.0.1:8848", () => 1);
  const key = "public##DEFAULT_GROUP@@svc";
  const shapes = [query(), query({ healthyOnly: true }), query({ clusters: "B" }), query({ groupedNamesForClient: false, env: "x" })];
  const same = (): void => {
    for (const q of shapes) {
      for (const lastRefTime of [5, 6]) {
        const asked = { ...q, lastRefTime };
        assert.equal(listAnswer(registry.service(key), asked), JSON.stringify(buildListView(registry.get(key), asked)));
      }
    }
  };
  same();
  registry.update(key, { put: [inst("192.0.2.1"), inst("192.0.2.2", { clusterName: "B", healthy: false })] });
  same();
  registry.update(key, { put: [inst("192.0.2.2", { clusterName: "B" })] });
  same();
  registry.writeMeta(key, false, { ...DEFAULT_SERVICE_META, metadata: { team: "a" }, protectThreshold: 0.9 });
  same();
  registry.writeMeta(key, true, DEFAULT_SERVICE_META);
  same();
});
