/**
 * The legacy peer routes with a real core node behind them, called the way a 1.4 node calls them; the
 * "1.4 node" on the other side is a recording stub that answers what 1.4 answers.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import { identityOf } from "../../../src/core/instance.js";
import { serviceKey } from "../../../src/core/naming.js";
import { encodeDatum } from "../../../src/transport/nacos14/codecs/datum.js";
import { Nacos14HttpClient, type PeerAnswer, type PeerCall } from "../../../src/transport/nacos14/http.js";
import { toLegacyKey } from "../../../src/transport/nacos14/codecs/keys.js";
import {
  eventually,
  fixture,
  fixtureText,
  freePort,
  instance,
  startLegacyNode,
  stubServer,
  type LegacyNode,
  type RecordedRequest,
} from "./support.js";
import { defaultNodeConfig } from "../../../src/runtime/options.js";
import { testSpec } from "../../support/fixtures.js";
import { memberState, storeOf } from "../../support/node-context.js";

/** What the stub 1.4 node holds, by legacy key, and the statuses it reports. */
const stubData: Record<string, unknown> = {};
let stubStatuses = fixtureText("instance-statuses.json");

const answer1x = (req: RecordedRequest): { body: string; type?: string; status?: number } => {
  if (req.path === "/nacos/v1/core/cluster/report") return { body: fixtureText("report-answer-nacos-1.4.json"), type: "application/json" };
  if (req.path === "/nacos/v1/ns/distro/datums") return { body: "{}", type: "application/json" };
  if (req.path === "/nacos/v1/ns/instance/statuses") return { body: stubStatuses, type: "application/json" };
  if (req.path === "/nacos/v1/ns/distro/datum" && req.method === "GET") {
    const keys = (JSON.parse(req.body) as { keys: string }).keys.split(",");
    return { body: JSON.stringify(Object.fromEntries(keys.map((k) => [k, stubData[k] ?? null]))), type: "application/json" };
  }
  return { body: "ok" };
};

let stub: Awaited<ReturnType<typeof stubServer>>;
let node: LegacyNode;
const peer = new Nacos14HttpClient({ version: "1.4.6", timeoutMs: 3000, maxAnswerBytes: 64 << 20 });

/** Grouped names owned by the stub and by the node under test. */
let stubOwned: (n: number) => string;
let nodeOwned: (n: number) => string;

before(async () => {
  stub = await stubServer(answer1x);
  const port = await freePort();
  node = await startLegacyNode({
    port,
    members: [`127.0.0.1:${port}`, stub.address],
    config: { nacos14: { removeAfterMs: 400, fetchBatchKeys: 1000, statusReportMs: 5000 } },
  });
  await node.node.start();
  await eventually(() => memberState(node.node, stub.address) === "UP", "the stub to be UP");
  const owned =
    (owner: string) =>
    (n: number): string => {
      const names: string[] = [];
      for (let i = 0; names.length <= n; i++)
        if (node.node.ownerOf(`DEFAULT_GROUP@@svc${i}`) === owner) names.push(`DEFAULT_GROUP@@svc${i}`);
      return names[n]!;
    };
  stubOwned = owned(stub.address);
  nodeOwned = owned(node.address);
});

after(async () => {
  peer.close();
  await node.close();
  await stub.app.close();
});

const call = (c: PeerCall): Promise<PeerAnswer> => peer.call(node.address, c);
const key = (grouped: string): string => serviceKey({ namespaceId: "public", groupedName: grouped });

/** A 1.4 Datum of `grouped` with the given instances (what a 1.4 owner sends). */
function datum1x(grouped: string, ips: readonly string[], healthy = true): Record<string, unknown> {
  const legacyKey = toLegacyKey(key(grouped));
  const template = (fixture("datum-map.json") as Record<string, { value: { instanceList: Array<Record<string, unknown>> } }>)[
    "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@orders"
  ]!.value.instanceList[0]!;
  const instanceList = ips.map((ip) => ({ ...template, ip, instanceId: `${ip}#8080#DEFAULT#${grouped}`, serviceName: grouped, healthy }));
  return { key: legacyKey, value: { instanceList }, timestamp: 1 };
}

const syncFrom1x = (map: Record<string, unknown>, prefix = "/nacos"): Promise<PeerAnswer> =>
  call({ method: "PUT", path: `${prefix}/v1/ns/distro/datum`, body: JSON.stringify(map) });

const ips = (grouped: string): string[] =>
  (node.node.registry.getLive(key(grouped))?.instances ?? []).map((i) => `${i.ip}${i.healthy ? "" : "(down)"}`).sort();

test("PUT /distro/datum applies a 1.4 owner's list in its name, under both prefixes", async () => {
  const a = stubOwned(0);
  const b = stubOwned(1);
  const answer = await syncFrom1x({ [toLegacyKey(key(a))]: datum1x(a, ["192.0.2.1", "192.0.2.2"]) });
  assert.deepEqual(answer, { status: 200, body: "ok" });
  assert.deepEqual(ips(a), ["192.0.2.1", "192.0.2.2"]);
  const d = node.node.registry.get(key(a))!;
  assert.ok(
    d.entries.every((e) => e.version.writer === stub.address),
    "recorded as the sending member's write",
  );
  assert.equal(node.node.stats().distro!.syncPending, 0, "not replicated again from here");

  assert.equal((await syncFrom1x({ [toLegacyKey(key(b))]: datum1x(b, ["192.0.2.3"]) }, "")).status, 200);
  assert.deepEqual(ips(b), ["192.0.2.3"]);

  // Labelled gzip as 1.4 labels it, but plain; or really gzipped: both read.
  const labelled = JSON.stringify({ [toLegacyKey(key(b))]: datum1x(b, ["192.0.2.4"]) });
  const headers = { "content-type": "application/json", "content-encoding": "gzip" };
  assert.equal((await fetch(`http://${node.address}/nacos/v1/ns/distro/datum`, { method: "PUT", headers, body: labelled })).status, 200);
  assert.deepEqual(ips(b), ["192.0.2.4"]);
  const zipped = gzipSync(JSON.stringify({ [toLegacyKey(key(b))]: datum1x(b, ["192.0.2.5"]) }));
  assert.equal((await fetch(`http://${node.address}/nacos/v1/ns/distro/datum`, { method: "PUT", headers, body: zipped })).status, 200);
  assert.deepEqual(ips(b), ["192.0.2.5"]);

  // A smaller list is 1.4's deregistration.
  await syncFrom1x({ [toLegacyKey(key(a))]: datum1x(a, ["192.0.2.2"]) });
  assert.deepEqual(ips(a), ["192.0.2.2"]);
});

test("a 1.4 list replaces only ephemeral instances: persistent ones and service metadata stay", async () => {
  const grouped = stubOwned(2);
  const persistent = instance("192.0.2.50", 80, grouped, { ephemeral: false });
  const meta = { protectThreshold: 0.3, metadata: { team: "a" }, selector: { type: "none" as const }, clusters: {} };
  storeOf(node.node).commit(key(grouped), { deleted: false, meta, instances: [persistent, instance("192.0.2.51", 80, grouped)] });
  await syncFrom1x({ [toLegacyKey(key(grouped))]: datum1x(grouped, ["192.0.2.52"]) });
  const d = node.node.registry.getLive(key(grouped))!;
  assert.deepEqual(d.meta, meta);
  assert.deepEqual(d.instances.map(identityOf).sort(), [identityOf(persistent), `192.0.2.52:8080:unknown:DEFAULT:ephemeral`].sort());
});

test("empty and malformed syncs are refused with 400 and apply nothing", async () => {
  assert.deepEqual(await syncFrom1x({}), { status: 400, body: "receive empty entity!" });
  assert.deepEqual(await call({ method: "PUT", path: "/nacos/v1/ns/distro/datum", body: "" }), {
    status: 400,
    body: "receive empty entity!",
  });
  const good = stubOwned(3);
  const bad = stubOwned(4);
  const badDatum = datum1x(bad, ["192.0.2.9"]);
  (badDatum.value as { instanceList: Array<Record<string, unknown>> }).instanceList[0]!.port = "eighty";
  const answer = await syncFrom1x({ [toLegacyKey(key(good))]: datum1x(good, ["192.0.2.8"]), [toLegacyKey(key(bad))]: badDatum });
  assert.equal(answer.status, 400);
  assert.match(answer.body, /instanceList\[0\]\.port must be an integer in \[0, 65535\]/);
  assert.equal(node.node.registry.get(key(good)), undefined, "the valid datum of a refused batch is not applied either");
  const notJson = await call({ method: "PUT", path: "/nacos/v1/ns/distro/datum", body: "{oops" });
  assert.equal(notJson.status, 400);
  assert.match(notJson.body, /datum map is not valid JSON/);
});

test("GET /distro/datum answers the keys of its JSON body; GET /distro/datums streams everything", async () => {
  const grouped = nodeOwned(0);
  await node.node.write(
    {
      type: "register",
      service: { namespaceId: "public", groupedName: grouped },
      instance: testSpec("192.0.2.60", 8080, { metadata: { zone: "a" } }),
    },
    { forwarded: true },
  );
  const legacyKey = toLegacyKey(key(grouped));
  const body = JSON.stringify({ keys: `${legacyKey},${toLegacyKey("public##DEFAULT_GROUP@@absent")}` });
  const answer = await call({ method: "GET", path: "/nacos/v1/ns/distro/datum", body });
  assert.equal(answer.status, 200);
  const map = JSON.parse(answer.body) as Record<string, { value: { instanceList: Array<{ ip: string; lastBeat: number }> } }>;
  assert.deepEqual(Object.keys(map), [legacyKey], "absent keys are left out");
  assert.deepEqual(
    map[legacyKey]!.value.instanceList.map((i) => i.ip),
    ["192.0.2.60"],
  );
  const expected = JSON.parse(
    JSON.stringify(encodeDatum(node.node.registry.get(key(grouped))!, map[legacyKey]!.value.instanceList[0]!.lastBeat)),
  );
  assert.deepEqual(map[legacyKey], expected);
  assert.equal((await call({ method: "GET", path: "/v1/ns/distro/datum" })).status, 400);

  const all = await call({ method: "GET", path: "/nacos/v1/ns/distro/datums" });
  assert.equal(all.status, 200);
  const snapshot = JSON.parse(all.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(snapshot).sort(), node.node.registry.sortedKeys().map(toLegacyKey).sort());
});

test("the snapshot answer needs no real socket (fastify inject, as the simulator reaches it)", async () => {
  const answer = await node.app.inject({ method: "GET", url: "/nacos/v1/ns/distro/datums" });
  assert.equal(answer.statusCode, 200);
  assert.deepEqual(Object.keys(JSON.parse(answer.body) as object).sort(), node.node.registry.sortedKeys().map(toLegacyKey).sort());
});

test("a snapshot answer whose reader stops reading is cut after the stall limit, and frees its slot", async () => {
  const port = await freePort();
  const members = [`127.0.0.1:${port}`, stub.address];
  const oneStream = { distro: { ...defaultNodeConfig(members[0]!, members).distro } };
  oneStream.distro = { ...oneStream.distro, snapshot: { ...oneStream.distro.snapshot, maxStreams: 1 } };
  const serving = await startLegacyNode({ port, members, snapshotStallMs: 300, config: oneStream });
  const socket = connect(port, "127.0.0.1");
  try {
    await serving.node.start();
    const instances = Array.from({ length: 20 }, (_, i) => instance(`198.51.100.${i + 1}`, 80, "DEFAULT_GROUP@@big"));
    // Several megabytes of answer, more than the socket buffers hold, so the server waits on the reader.
    for (let s = 0; s < 3000; s++) {
      const grouped = `DEFAULT_GROUP@@big${s}`;
      const put = instances.map((i) => ({
        ...i,
        serviceName: grouped,
        instanceId: `${i.ip}#80#DEFAULT#${grouped}`,
        metadata: { pad: "x".repeat(64) },
      }));
      storeOf(serving.node).update(key(grouped), { put });
    }
    socket.pause(); // a reader that reads nothing
    socket.write("GET /nacos/v1/ns/distro/datums HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
    const statuses: number[] = [];
    for (let i = 0; i < 50 && statuses.at(-1) !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      statuses.push((await peer.call(serving.address, { method: "GET", path: "/nacos/v1/ns/distro/datums" })).status);
    }
    assert.equal(statuses[0], 503, "the stalled reader held the only stream slot");
    assert.equal(statuses.at(-1), 200, `the stall limit cut it and freed the slot (${statuses.join(" ")})`);
  } finally {
    socket.destroy();
    await serving.close();
  }
});

test("GET /distro/datums answers 503 while the node is still loading", async () => {
  const port = await freePort();
  const loading = await startLegacyNode({ port, members: [`127.0.0.1:${port}`, stub.address] });
  try {
    const answer = await peer.call(loading.address, { method: "GET", path: "/nacos/v1/ns/distro/datums" });
    assert.equal(answer.status, 503);
    assert.match(answer.body, /still loading/);
  } finally {
    await loading.close();
  }
});

test("PUT /distro/checksum fetches what differs from the source and applies it", async () => {
  const grouped = stubOwned(5);
  const legacyKey = toLegacyKey(key(grouped));
  stubData[legacyKey] = datum1x(grouped, ["192.0.2.70", "192.0.2.71"]);
  const fetches = (): RecordedRequest[] => stub.requests.filter((r) => r.method === "GET" && r.path === "/nacos/v1/ns/distro/datum");
  const before = fetches().length;
  const answer = await call({
    method: "PUT",
    path: "/nacos/v1/ns/distro/checksum",
    query: { source: stub.address },
    body: JSON.stringify({ [legacyKey]: "0123" }),
  });
  assert.deepEqual(answer, { status: 200, body: "ok" });
  await eventually(() => ips(grouped).length === 2, "the differing key to be fetched");
  assert.deepEqual(ips(grouped), ["192.0.2.70", "192.0.2.71"]);
  assert.deepEqual(JSON.parse(fetches().at(-1)!.body), { keys: legacyKey });
  assert.equal(fetches().length, before + 1);

  assert.equal((await call({ method: "PUT", path: "/nacos/v1/ns/distro/checksum", body: "{}" })).status, 400);
  const stranger = await call({ method: "PUT", path: "/v1/ns/distro/checksum", query: { source: "203.0.113.9:8848" }, body: "{}" });
  assert.deepEqual(stranger, { status: 400, body: "ip: 203.0.113.9:8848 is not in serverlist" });
});

/** One 1.4 verify round from the stub, with `present` as the keys it claims. */
async function checksumRound(present: readonly string[]): Promise<void> {
  const body = JSON.stringify(Object.fromEntries(present.map((g) => [toLegacyKey(key(g)), "x"])));
  const answer = await call({ method: "PUT", path: "/nacos/v1/ns/distro/checksum", query: { source: stub.address }, body });
  assert.equal(answer.status, 200);
}

test("a key its owner stopped sending loses the owner's instances only after removeAfterMs, and only those", async () => {
  const anchor = stubOwned(6);
  const gone = stubOwned(7);
  const mixed = stubOwned(8);
  stubData[toLegacyKey(key(anchor))] = datum1x(anchor, ["192.0.2.80"]);
  await syncFrom1x({
    [toLegacyKey(key(anchor))]: stubData[toLegacyKey(key(anchor))],
    [toLegacyKey(key(gone))]: datum1x(gone, ["192.0.2.81"]),
    [toLegacyKey(key(mixed))]: datum1x(mixed, ["192.0.2.82"]),
  });
  // An instance of `mixed` another member wrote (say, its previous owner) is not the stub's to remove.
  const other = instance("192.0.2.83", 8080, mixed);
  const current = node.node.registry.getLive(key(mixed))!;
  storeOf(node.node).commit(key(mixed), { ...current, instances: [...current.instances, other] }, "127.0.0.1:1");

  await checksumRound([anchor]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(ips(gone), ["192.0.2.81"], "one missing round removes nothing");
  await new Promise((resolve) => setTimeout(resolve, 450));
  await checksumRound([anchor]);
  await eventually(() => ips(gone).length === 0, "the owner's instances of a key it no longer has to go");
  assert.deepEqual(ips(mixed), ["192.0.2.83"]);
  assert.deepEqual(ips(anchor), ["192.0.2.80"]);
});

test("nothing is removed while views disagree (the source sent a key it does not own here)", async () => {
  const kept = stubOwned(9);
  const mine = nodeOwned(1);
  await syncFrom1x({ [toLegacyKey(key(kept))]: datum1x(kept, ["192.0.2.90"]) });
  await checksumRound([mine]);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await checksumRound([mine]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(ips(kept), ["192.0.2.90"]);
  assert.equal(node.node.registry.get(key(mine)), undefined, "a key owned here is never fetched from another member");
});

test("POST /service/status fetches the owner's statuses for what differs and applies them", async () => {
  const grouped = stubOwned(10);
  const legacyKey = toLegacyKey(key(grouped));
  await syncFrom1x({ [legacyKey]: { ...datum1x(grouped, ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) } });
  // The fixture statuses: 192.0.2.10:8080 down, 192.0.2.11:8081 up; 192.0.2.11:8080 and .12 are absent, so down (1.4).
  stubStatuses = fixtureText("instance-statuses.json");
  const body = JSON.stringify({
    statuses: JSON.stringify({ namespaceId: "public", serviceName2Checksum: { [grouped]: "5d2c5e3a7b0f4a6c9e1d2b3a4c5d6e7f" } }),
    clientIP: stub.address,
  });
  assert.deepEqual(await call({ method: "POST", path: "/nacos/v1/ns/service/status", body: encodeURIComponent(body) }), {
    status: 200,
    body: "ok",
  });
  await eventually(() => ips(grouped).every((ip) => ip.endsWith("(down)")), "health from the owner's statuses");
  const statusCalls = stub.requests.filter((r) => r.path === "/nacos/v1/ns/instance/statuses");
  assert.deepEqual(statusCalls.at(-1)!.query, { key: key(grouped) });

  stubStatuses = JSON.stringify({ ips: ["192.0.2.10:8080_true", "192.0.2.11:8080_true", "192.0.2.12:8080_true"] });
  const changed = body.replace("5d2c5e3a7b0f4a6c9e1d2b3a4c5d6e7f", "6e3d");
  await call({ method: "POST", path: "/v1/ns/service/status", body: changed });
  await eventually(() => ips(grouped).every((ip) => !ip.endsWith("(down)")), "health back up");
  const count = stub.requests.filter((r) => r.path === "/nacos/v1/ns/instance/statuses").length;
  await call({ method: "POST", path: "/v1/ns/service/status", body: changed });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(
    stub.requests.filter((r) => r.path === "/nacos/v1/ns/instance/statuses").length,
    count,
    "an unchanged report fetches nothing",
  );

  const stranger = await call({
    method: "POST",
    path: "/nacos/v1/ns/service/status",
    body: body.replace(stub.address, "203.0.113.9:8848"),
  });
  assert.deepEqual(stranger, { status: 400, body: "ip: 203.0.113.9:8848 is not in serverlist" });
});

test("POST /core/cluster/report answers with our Member JSON; an illegal member gets 1.4's refusal", async () => {
  for (const path of ["/nacos/v1/core/cluster/report", "/v1/core/cluster/report"]) {
    const member = {
      ...(fixture("member-nacos-1.4.json") as object),
      ip: "127.0.0.1",
      port: Number(stub.address.split(":")[1]),
      address: stub.address,
    };
    const answer = await call({ method: "POST", path, body: JSON.stringify(member) });
    assert.equal(answer.status, 200);
    const result = JSON.parse(answer.body) as { code: number; message: null; data: string };
    assert.equal(result.code, 200);
    assert.equal(result.message, null);
    const self = JSON.parse(result.data) as { address: string; extendInfo: { tsNacos: { httpPeer: boolean; grpcPeer: boolean } } };
    assert.equal(self.address, node.address);
    const varying = { viewHash: undefined, ready: undefined, grpcPort: undefined, clock: undefined, confirmedThrough: undefined };
    assert.deepEqual(
      { ...self.extendInfo.tsNacos, ...varying },
      {
        grpcPeer: false,
        httpPeer: true,
        connectionCount: 0,
        ...varying,
      },
    );
  }
  const illegal = await call({ method: "POST", path: "/nacos/v1/core/cluster/report", body: JSON.stringify({ ip: "", port: -1 }) });
  assert.equal(illegal.status, 200);
  assert.deepEqual(JSON.parse(illegal.body), fixture("report-refused.json"));
});

test("with a cluster secret, calls without it get 403 and change nothing", async () => {
  const port = await freePort();
  const secured = await startLegacyNode({ port, members: [`127.0.0.1:${port}`, stub.address], secret: "s3cret" });
  const insider = new Nacos14HttpClient({ version: "1.4.6", timeoutMs: 3000, secret: "s3cret", maxAnswerBytes: 64 << 20 });
  const outsider = new Nacos14HttpClient({ version: "1.4.6", timeoutMs: 3000, secret: "wrong", maxAnswerBytes: 64 << 20 });
  try {
    const grouped = "DEFAULT_GROUP@@secured";
    const sync: PeerCall = {
      method: "PUT",
      path: "/nacos/v1/ns/distro/datum",
      body: JSON.stringify({ [toLegacyKey(key(grouped))]: datum1x(grouped, ["192.0.2.99"]) }),
    };
    for (const client of [peer, outsider]) {
      const answer = await client.call(secured.address, sync);
      assert.equal(answer.status, 403);
      assert.match(answer.body, /X-Nacos-Cluster-Secret/);
      const report = await client.call(secured.address, {
        method: "POST",
        path: "/nacos/v1/core/cluster/report",
        body: fixtureText("member-nacos-1.4.json"),
      });
      assert.equal(report.status, 403);
    }
    assert.equal(secured.node.registry.get(key(grouped)), undefined);
    assert.deepEqual(await insider.call(secured.address, sync), { status: 200, body: "ok" });
    assert.equal(secured.node.registry.getLive(key(grouped))?.instances.length, 1);
    const named = await insider.call(secured.address, { ...sync, query: { source: "203.0.113.9:8848" } });
    assert.equal(named.status, 403, "a sync naming a non-member source is refused when secured");
  } finally {
    insider.close();
    outsider.close();
    await secured.close();
  }
});
