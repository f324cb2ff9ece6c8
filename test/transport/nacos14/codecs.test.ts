/** Every 1.4 body the legacy transport reads or writes, pinned to the shapes of the reference (§C) by fixtures. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MemberInfo } from "../../../src/node/cluster/member.js";
import { NacosError } from "../../../src/core/errors.js";
import { identityOf } from "../../../src/core/instance.js";
import { DEFAULT_SERVICE_META, makeDatum } from "../../../src/core/service-datum.js";
import {
  asServiceDatum,
  decodeDatumMap,
  encodeDatum,
  encodeDatumMap,
  UNVERSIONED_COUNTER,
} from "../../../src/transport/nacos14/codecs/datum.js";
import { fromLegacyKey, toLegacyKey } from "../../../src/transport/nacos14/codecs/keys.js";
import { encodeMember } from "../../../src/transport/nacos14/codecs/member-json.js";
import { decodeMember, memberFromReportData, reportAccepted, reportRefused } from "../../../src/transport/nacos14/codecs/member.js";
import {
  decodeChecksums,
  decodeKeysBody,
  decodeServiceStatus,
  decodeStatuses,
  encodeChecksums,
  encodeKeysBody,
  encodeServiceStatus,
} from "../../../src/transport/nacos14/codecs/messages.js";
import { fixture, fixtureText, instance } from "./support.js";
import { testDatum } from "../../support/fixtures.js";

const ORDERS = "public##DEFAULT_GROUP@@orders";
const PAYMENTS = "dev##g1@@payments";
const NOW = 1690000000000;

const ordersInstances = [
  instance("192.0.2.10", 8080, "DEFAULT_GROUP@@orders", { metadata: { zone: "a" } }),
  instance("192.0.2.11", 8081, "DEFAULT_GROUP@@orders", {
    clusterName: "c1",
    instanceId: "192.0.2.11#8081#c1#DEFAULT_GROUP@@orders",
    weight: 2.5,
    healthy: false,
  }),
];
const paymentsInstances = [
  instance("198.51.100.7", 9090, "g1@@payments", { metadata: { "preserved.heart.beat.interval": "3000", version: "2" } }),
];

function rejects400(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof NacosError && err.status === 400 && message.test(err.message));
}

test("a 1.4 Datum map reads as each service's ephemeral instances", () => {
  const datums = decodeDatumMap(fixture("datum-map.json"), false);
  assert.deepEqual(
    datums.map((d) => d.key),
    [ORDERS, PAYMENTS],
  );
  assert.deepEqual(datums[0]!.instances, ordersInstances);
  assert.deepEqual(datums[1]!.instances, paymentsInstances);
  assert.equal(datums[0]!.versioned, undefined);
});

test("our Datum map is, field for field, what a 1.4 node sends, plus the tsNacos extension", () => {
  const encoded = JSON.parse(
    JSON.stringify(encodeDatumMap([testDatum(ORDERS, ordersInstances), testDatum(PAYMENTS, paymentsInstances)], NOW)),
  ) as Record<string, Record<string, unknown>>;
  const expected = fixture("datum-map.json") as Record<string, unknown>;
  assert.deepEqual(Object.keys(encoded), Object.keys(expected));
  for (const [key, datum] of Object.entries(encoded)) {
    assert.ok(datum.tsNacos !== undefined, `${key} carries its versions`);
    const { tsNacos: _versions, ...legacy } = datum;
    assert.deepEqual(legacy, expected[key]);
  }
});

test("only live ephemeral instances are listed for 1.4; the rest travels in the extension and round-trips exactly", () => {
  const grouped = "DEFAULT_GROUP@@orders";
  const live = instance("192.0.2.20", 80, grouped);
  const persistent = instance("192.0.2.21", 81, grouped, { ephemeral: false });
  const removed = instance("192.0.2.22", 82, grouped);
  const meta = {
    protectThreshold: 0.5,
    metadata: { owner: "team-a" },
    selector: { type: "label" as const, expression: "CONSUMER.label.a = PROVIDER.label.a" },
    clusters: {
      DEFAULT: {
        healthChecker: { type: "HTTP" as const, path: "/ok", headers: "X-A:1", expectedResponseCode: 204 },
        checkPort: 80,
        useInstancePort4Check: false,
        metadata: { k: "v" },
      },
      EU: { healthChecker: { type: "NONE" as const }, checkPort: 0, useInstancePort4Check: true, metadata: {} },
    },
  };
  const datum = makeDatum(ORDERS, false, meta, { counter: 7, writer: "127.0.0.1:8849" }, [
    { id: identityOf(live), version: { counter: 10, writer: "127.0.0.1:8848" }, instance: live },
    { id: identityOf(persistent), version: { counter: 11, writer: "127.0.0.1:8848" }, instance: persistent },
    { id: identityOf(removed), version: { counter: 12, writer: "127.0.0.1:8848" }, instance: undefined },
  ]);
  const wire = JSON.parse(JSON.stringify(encodeDatum(datum, NOW))) as { value: { instanceList: Array<{ ip: string }> } };
  assert.deepEqual(
    wire.value.instanceList.map((i) => i.ip),
    ["192.0.2.20"],
  );
  const [read] = decodeDatumMap({ [toLegacyKey(ORDERS)]: wire }, false);
  assert.deepEqual(read!.versioned, datum);
  assert.equal(read!.versioned!.digest, datum.digest);

  const deleted = makeDatum(ORDERS, true, DEFAULT_SERVICE_META, { counter: 20, writer: "127.0.0.1:8848" }, datum.entries);
  const deletedWire = JSON.parse(JSON.stringify(encodeDatum(deleted, NOW))) as { value: { instanceList: unknown[] } };
  assert.deepEqual(deletedWire.value.instanceList, [], "1.4 sees a deleted service as empty");
  assert.deepEqual(decodeDatumMap({ [toLegacyKey(ORDERS)]: deletedWire }, false)[0]!.versioned, deleted);
});

test("a list without versions becomes a datum below every real write, written by its sender", () => {
  const [read] = decodeDatumMap(fixture("datum-map.json"), false);
  const datum = asServiceDatum(read!, "127.0.0.1:8848");
  assert.deepEqual(datum.instances, ordersInstances);
  assert.deepEqual(datum.version, { counter: UNVERSIONED_COUNTER, writer: "127.0.0.1:8848" });
});

test("keys: full and brief ephemeral prefixes map to service keys; 1.4's Raft keys are not Distro data", () => {
  assert.equal(toLegacyKey(ORDERS), "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@orders");
  assert.equal(fromLegacyKey("com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@orders"), ORDERS);
  assert.equal(fromLegacyKey("iplist.ephemeral.public##DEFAULT_GROUP@@orders"), ORDERS);
  assert.equal(fromLegacyKey("com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@orders"), undefined);
  assert.equal(fromLegacyKey("iplist.public##DEFAULT_GROUP@@orders"), undefined);
  assert.equal(fromLegacyKey("com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@orders"), undefined);
  rejects400(
    () => fromLegacyKey("com.alibaba.nacos.naming.iplist.ephemeral.orders"),
    /must look like \{namespace\}##\{group\}@@\{service\}/,
  );
  rejects400(() => fromLegacyKey("com.alibaba.nacos.naming.iplist.ephemeral.public##orders"), /groupName@@serviceName/);
  // Raft keys in a sync are skipped, as 1.4's own endpoint skips them.
  assert.deepEqual(decodeDatumMap({ "com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@orders": { anything: 1 } }, false), []);
});

test("malformed datums are refused with the path of what is wrong", () => {
  const key = toLegacyKey(ORDERS);
  const withInstance = (i: Record<string, unknown>): unknown => ({ [key]: { key, value: { instanceList: [i] }, timestamp: 1 } });
  rejects400(() => decodeDatumMap(withInstance({ ip: "192.0.2.1", port: "80" }), false), /instanceList\[0\]\.port must be an integer/);
  rejects400(() => decodeDatumMap(withInstance({ port: 80 }), false), /instanceList\[0\]\.ip is required/);
  rejects400(() => decodeDatumMap(withInstance({ ip: "192.0.2.1", port: 80, healthy: "yes" }), false), /healthy must be true or false/);
  rejects400(
    () => decodeDatumMap(withInstance({ ip: "192.0.2.1", port: 80, metadata: { a: { b: 1 } } }), false),
    /metadata\.a must be a string/,
  );
  rejects400(() => decodeDatumMap({ [key]: { key, value: {} } }, false), /value\.instanceList must be a JSON array/);
  rejects400(() => decodeDatumMap({ [key]: { key: "other", value: { instanceList: [] } } }, false), /not its map key/);
  rejects400(() => decodeDatumMap({ [key]: null }, false), /must be a JSON object/);
  rejects400(() => decodeDatumMap([], false), /datum map must be a JSON object/);
  const wire = JSON.parse(JSON.stringify(encodeDatum(testDatum(ORDERS, ordersInstances), NOW))) as { tsNacos: { entries: unknown[] } };
  wire.tsNacos.entries.pop();
  rejects400(() => decodeDatumMap({ [key]: wire }, false), /no entry for listed instance/);
});

test("a query answer's nulls (keys the peer lacks) are skipped", () => {
  assert.deepEqual(decodeDatumMap({ [toLegacyKey(ORDERS)]: null }, true), []);
});

test("the verify checksum map carries 1.4's datum checksum of the ephemeral instances", () => {
  const encoded = encodeChecksums([
    [ORDERS, "eb62a0b731ae793b90789e0677e5b814"],
    [PAYMENTS, "93d1c3e446f424b231750f0c22ad1a81"],
  ]);
  assert.deepEqual(encoded, fixture("checksum-map.json"));
  assert.deepEqual(
    [...decodeChecksums(fixture("checksum-map.json"))],
    [
      [ORDERS, "eb62a0b731ae793b90789e0677e5b814"],
      [PAYMENTS, "93d1c3e446f424b231750f0c22ad1a81"],
    ],
  );
  rejects400(() => decodeChecksums({ [toLegacyKey(ORDERS)]: 5 }), /must be a string/);
});

test("the datum query carries its keys as one comma-separated string in a JSON body", () => {
  assert.deepEqual(JSON.parse(encodeKeysBody([ORDERS, PAYMENTS])), fixture("datum-query-body.json"));
  assert.deepEqual(decodeKeysBody(fixture("datum-query-body.json")), [ORDERS, PAYMENTS]);
  rejects400(() => decodeKeysBody({}), /body\.keys must be a string/);
});

test("instance statuses read as health by ip:port", () => {
  assert.deepEqual(
    [...decodeStatuses(fixture("instance-statuses.json"))],
    [
      ["192.0.2.10:8080", false],
      ["192.0.2.11:8081", true],
    ],
  );
  rejects400(() => decodeStatuses({ ips: ["192.0.2.10:8080"] }), /must look like ip:port_true/);
});

test("the service status body: a ServiceChecksum JSON string and the sender, also URL-encoded as 1.4 may send it", () => {
  const body = fixtureText("service-status-body.json");
  const expected = {
    clientIP: "127.0.0.1:8848",
    checksums: { namespaceId: "public", serviceName2Checksum: { "DEFAULT_GROUP@@orders": "5d2c5e3a7b0f4a6c9e1d2b3a4c5d6e7f" } },
  };
  assert.deepEqual(decodeServiceStatus(body), expected);
  assert.deepEqual(decodeServiceStatus(encodeURIComponent(body)), expected);
  assert.deepEqual(JSON.parse(encodeServiceStatus(expected.checksums, "127.0.0.1:8848")), fixture("service-status-body.json"));
  rejects400(() => decodeServiceStatus('{"clientIP":"127.0.0.1:8848"}'), /body\.statuses must be a string/);
});

const ourInfo: MemberInfo = {
  address: "127.0.0.1:8850",
  version: "0.1.0",
  grpcPort: 9851,
  abilities: { grpcPeer: true, httpPeer: true },
  ready: true,
  viewHash: "0123456789abcdef",
  clock: 1_690_000_000_000,
  confirmedThrough: 1_689_999_000_000,
};

test("Member JSON: ours carries 1.4's fields plus our marker; a 1.4 member reads as an HTTP-only Nacos node", () => {
  assert.deepEqual(JSON.parse(JSON.stringify(encodeMember(ourInfo, NOW))), fixture("member-ts-nacos.json"));
  assert.deepEqual(decodeMember(fixture("member-ts-nacos.json")), ourInfo);
  assert.deepEqual(decodeMember(fixture("member-nacos-1.4.json")), {
    address: "127.0.0.1:8848",
    version: "1.4.6",
    grpcPort: 0,
    abilities: { grpcPeer: false, httpPeer: true },
    ready: true,
    viewHash: "",
    clock: undefined,
    confirmedThrough: undefined,
  });
  rejects400(() => decodeMember({ port: 8848 }), /member\.ip is required/);
  rejects400(() => decodeMember({ ip: "127.0.0.1", port: -1 }), /member\.port must be an integer/);
  rejects400(() => decodeMember({ ip: "127.0.0.1", port: 8848, address: "not an address!" }), /member\.address/);
});

test("report answers: accepted with our Member JSON as a string (2.x style), refused as 1.4 refuses", () => {
  const accepted = reportAccepted(ourInfo, NOW);
  assert.equal(accepted.code, 200);
  assert.equal(accepted.message, null);
  assert.deepEqual(JSON.parse(accepted.data!), fixture("member-ts-nacos.json"));
  assert.deepEqual(reportRefused, fixture("report-refused.json"));
  assert.deepEqual(memberFromReportData("127.0.0.1:8848", (fixture("report-answer-nacos-1.4.json") as { data: string }).data), {
    address: "127.0.0.1:8848",
    version: "",
    grpcPort: 0,
    abilities: { grpcPeer: false, httpPeer: true },
    ready: true,
    viewHash: "",
    clock: undefined,
    confirmedThrough: undefined,
  });
  assert.deepEqual(memberFromReportData("127.0.0.1:8850", accepted.data), ourInfo);
});

test("a 2.x client's instance: an ordinary instance in 1.4's list, its binding in the extension, round-tripped exactly", () => {
  const grouped = "DEFAULT_GROUP@@orders";
  const connection = { node: "127.0.0.1:8850", connectionId: "1700000000000_192.0.2.30_50001" };
  const bound = instance("192.0.2.30", 80, grouped, { connection });
  const plain = instance("192.0.2.31", 81, grouped);
  const version = { counter: 10, writer: "127.0.0.1:8850" };
  const datum = makeDatum(ORDERS, false, DEFAULT_SERVICE_META, version, [
    { id: identityOf(bound), version, instance: bound },
    { id: identityOf(plain), version, instance: plain },
  ]);
  const wire = JSON.parse(JSON.stringify(encodeDatum(datum, NOW))) as {
    value: { instanceList: Array<Record<string, unknown>> };
    tsNacos: { entries: Array<Record<string, unknown>> };
  };
  const listed = wire.value.instanceList.find((i) => i.ip === "192.0.2.30")!;
  assert.deepEqual(
    Object.keys(listed),
    Object.keys(wire.value.instanceList.find((i) => i.ip === "192.0.2.31")!),
    "1.4 sees the same fields",
  );
  assert.deepEqual(wire.tsNacos.entries.find((e) => e.id === identityOf(bound))?.connection, connection);
  const [read] = decodeDatumMap({ [toLegacyKey(ORDERS)]: wire }, false);
  assert.deepEqual(read!.versioned, datum);
  assert.deepEqual(
    read!.instances.map((i) => i.connection),
    [undefined, undefined],
    "the 1.4 list itself binds nothing",
  );

  const deleted = makeDatum(ORDERS, true, DEFAULT_SERVICE_META, { counter: 5, writer: version.writer }, datum.entries);
  const deletedWire = JSON.parse(JSON.stringify(encodeDatum(deleted, NOW)));
  assert.deepEqual(decodeDatumMap({ [toLegacyKey(ORDERS)]: deletedWire }, false)[0]!.versioned, deleted);
});

test("a binding from a peer is refused unless well formed, on a live ephemeral entry", () => {
  const grouped = "DEFAULT_GROUP@@orders";
  const key = toLegacyKey(ORDERS);
  const live = instance("192.0.2.30", 80, grouped);
  const version = { counter: 10, writer: "127.0.0.1:8850" };
  const datum = makeDatum(ORDERS, false, DEFAULT_SERVICE_META, version, [{ id: identityOf(live), version, instance: live }]);
  const withBinding = (connection: unknown, patch: Record<string, unknown> = {}) => {
    const wire = JSON.parse(JSON.stringify(encodeDatum(datum, NOW))) as { tsNacos: { entries: Array<Record<string, unknown>> } };
    Object.assign(wire.tsNacos.entries[0]!, { connection, ...patch });
    return { [key]: wire };
  };
  rejects400(() => decodeDatumMap(withBinding("127.0.0.1:8850"), false), /entries\[0\]\.connection must be a JSON object/);
  rejects400(() => decodeDatumMap(withBinding({ node: 7, connectionId: "c" }), false), /connection\.node must be a string/);
  rejects400(() => decodeDatumMap(withBinding({ node: "127.0.0.1:8850" }), false), /connection\.connectionId must be a string/);
  rejects400(() => decodeDatumMap(withBinding({ node: "no address", connectionId: "c" }), false), /is not a member address/);
  rejects400(() => decodeDatumMap(withBinding({ node: "127.0.0.1:8850", connectionId: "c".repeat(129) }), false), /1\.\.128/);
  rejects400(() => decodeDatumMap(withBinding({ node: "127.0.0.1:8850", connectionId: "c" }, { removed: true }), false), /removed entry/);
  const persistent = instance("192.0.2.31", 81, grouped, { ephemeral: false });
  const pDatum = makeDatum(ORDERS, false, DEFAULT_SERVICE_META, version, [{ id: identityOf(persistent), version, instance: persistent }]);
  const pWire = JSON.parse(JSON.stringify(encodeDatum(pDatum, NOW))) as { tsNacos: { entries: Array<Record<string, unknown>> } };
  pWire.tsNacos.entries[0]!.connection = { node: "127.0.0.1:8850", connectionId: "c" };
  rejects400(() => decodeDatumMap({ [key]: pWire }, false), /persistent instance/);
});

test("Member JSON carries a ts-nacos member's connection count in its marker, bounded as a uint32", () => {
  const info = { ...ourInfo, connectionCount: 12 };
  const json = JSON.parse(JSON.stringify(encodeMember(info, NOW))) as { extendInfo: { tsNacos: Record<string, unknown> } };
  assert.equal(json.extendInfo.tsNacos.connectionCount, 12);
  assert.deepEqual(decodeMember(json), info);
  json.extendInfo.tsNacos.connectionCount = -1;
  rejects400(() => decodeMember(json), /connectionCount must be an integer/);
  json.extendInfo.tsNacos.connectionCount = "12";
  rejects400(() => decodeMember(json), /connectionCount must be an integer/);
});
