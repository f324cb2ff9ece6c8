/**
 * What a cluster of real processes takes from a member report, attacked as an outsider and as a broken member:
 * - nobody outside the member list changes anything, secret or not (a forged report from 127.0.0.5, or one
 *   naming no member over gRPC, carrying a switch change and an admin user);
 * - a member may only speak for itself over the 1.4 report route too (`?source=` must be the member described);
 * - a far-future version in a switch state or table row is refused alone: the member stays UP, the version is
 *   not adopted, and the operator's next change wins and survives a restart;
 * - the tables are bounded in bytes so a full report fits what a peer accepts (here a 64 KiB HTTP body): members
 *   stay UP when they are full; removed rows are forgotten once both members hold them, in memory and in the
 *   data directory, and the room is free again.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { MemberService, ReportRequestSchema } from "../../gen/nacos/cluster/v1/member_pb.js";
import { silentLog } from "../../src/core/log.js";
import type { MemberInfo, TableRow } from "../../src/node/cluster/member.js";
import { RecordLog } from "../../src/store/record-log.js";
import { encodeMember as encodeGrpcMember } from "../../src/transport/grpc/codecs/member.js";
import { callMetadata } from "../../src/transport/grpc/metadata.js";
import { makeClientConstructor, unary } from "../../src/transport/grpc/service-adapter.js";
import { encodeReportedMember as encodeJsonMember } from "../../src/transport/nacos14/codecs/member-json.js";
import { requestFrom } from "../support/http-from.js";
import { freePort, nacos, nodeStarter, waitUntil, type NodeProcess } from "../support/node-process.js";

const start = nodeStarter();
const FAST = ["--report-interval-ms", "500"];

/** Credentials for the member list when auth is on (username and password, as the SDK sends them). */
type Auth = Record<string, string>;

async function pair(extra: readonly string[] = [], env: NodeJS.ProcessEnv = {}, auth: Auth = {}): Promise<[NodeProcess, NodeProcess]> {
  const ports = [await freePort(), await freePort()];
  const args = ["--members", ports.map((p) => `127.0.0.1:${p}`).join(","), ...FAST, ...extra];
  const nodes = await Promise.all(ports.map((port) => start({ port, args, env, timeoutMs: 60_000 })));
  await bothUp(nodes as [NodeProcess, NodeProcess], 20_000, auth);
  return nodes as [NodeProcess, NodeProcess];
}

async function states(observer: NodeProcess, auth: Auth = {}): Promise<string[]> {
  const res = await nacos(observer.url, "GET", "/nacos/v1/core/cluster/nodes", auth);
  // With auth on, the admin exists only once both members are UP: until then there is nothing to read.
  if (res.status !== 200) return [res.text];
  const body = res.json();
  return (body.data as Array<{ state: string }>).map((m) => m.state);
}

async function bothUp(nodes: readonly NodeProcess[], timeoutMs: number, auth: Auth = {}): Promise<void> {
  let seen = "";
  await waitUntil(
    async () => {
      const all = await Promise.all(nodes.map((n) => states(n, auth)));
      seen = JSON.stringify(all);
      return all.every((s) => s.every((state) => state === "UP"));
    },
    timeoutMs,
    () => `every member UP on every node: ${seen}`,
  );
}

/** Polls for `ms`: every member must be UP on every node at every look. */
async function stayUp(nodes: readonly NodeProcess[], ms: number, auth: Auth = {}): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const n of nodes) assert.deepEqual(await states(n, auth), ["UP", "UP"], `members as ${n.address} sees them`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const switchesOf = async (node: NodeProcess): Promise<Record<string, unknown>> =>
  (await nacos(node.url, "GET", "/nacos/v1/ns/operator/switches")).json();

/** Every byte of a data directory, as text (the log's records are JSON). */
const dataDirText = (node: NodeProcess): string =>
  readdirSync(node.dataDir)
    .map((f) => readFileSync(join(node.dataDir, f)).toString("latin1"))
    .join("\n");

function info(address: string, extra: Partial<MemberInfo>): MemberInfo {
  return {
    address,
    version: "0.0.0",
    grpcPort: 0,
    abilities: { grpcPeer: true, httpPeer: true },
    ready: true,
    viewHash: "",
    clock: Date.now(),
    confirmedThrough: 0,
    ...extra,
  };
}

const grpcAddress = (node: NodeProcess): string => `127.0.0.1:${node.port + 1001}`;

/** A gRPC member report to `node` with the given metadata. */
async function grpcReport(node: NodeProcess, member: MemberInfo, metadata: grpc.Metadata): Promise<grpc.status | "ok"> {
  const client = new (makeClientConstructor(MemberService))(grpcAddress(node), grpc.credentials.createInsecure());
  try {
    await unary(client.report, client, create(ReportRequestSchema, { member: encodeGrpcMember(member) }), metadata, {
      deadline: Date.now() + 5000,
    });
    return "ok";
  } catch (err) {
    return (err as grpc.ServiceError).code;
  } finally {
    client.close();
  }
}

/** `POST /nacos/v1/core/cluster/report` to `node` from `localAddress`. */
function httpReport(
  node: NodeProcess,
  localAddress: string,
  member: MemberInfo,
  options: { readonly query?: string; readonly headers?: Record<string, string> } = {},
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(encodeJsonMember(member, Date.now()));
  const path = `/nacos/v1/core/cluster/report${options.query ?? ""}`;
  return requestFrom({
    localAddress,
    port: node.port,
    method: "POST",
    path,
    body,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
}

test("a forged report from outside the member list changes nothing on any node, in memory or on disk (no secret)", {
  timeout: 120_000,
}, async () => {
  const nodes = await pair();
  const [a] = nodes;
  const before = await Promise.all(nodes.map(switchesOf));
  const outsider = "127.0.0.5:8848";
  const now = Date.now();
  const rows: TableRow[] = [
    { table: "users", key: "evil", value: '{"password":"$2a$10$forged"}', version: { counter: now, writer: outsider } },
    {
      table: "roles",
      key: "ROLE_ADMIN\nevil",
      value: '{"role":"ROLE_ADMIN","username":"evil"}',
      version: { counter: now, writer: outsider },
    },
  ];
  const forged = info(outsider, {
    switches: { version: { counter: now, writer: outsider }, updates: { clientBeatInterval: "9999" } },
    tables: rows,
  });

  const overHttp = await httpReport(a, "127.0.0.5", forged);
  assert.equal(overHttp.status, 403, overHttp.body);
  assert.equal(await grpcReport(a, forged, new grpc.Metadata()), grpc.status.INVALID_ARGUMENT, "a gRPC report naming no member");

  // Several report rounds: anything taken would have spread and been written by now.
  await stayUp(nodes, 3_000);
  assert.deepEqual(await Promise.all(nodes.map(switchesOf)), before, "no switch changed on any node");
  for (const n of nodes) assert.doesNotMatch(dataDirText(n), /evil|9999/, `nothing of it in ${n.address}'s data directory`);
});

test("over the 1.4 report route a member may only speak for itself: ?source= must be the member described (with the secret)", {
  timeout: 120_000,
}, async () => {
  const secret = randomBytes(16).toString("hex");
  const nodes = await pair([], { NACOS_CLUSTER_SECRET: secret });
  const [a, b] = nodes;
  const headers = { "x-nacos-cluster-secret": secret };
  const forOther = await httpReport(a, "127.0.0.1", info(b.address, {}), { query: `?source=${a.address}`, headers });
  assert.equal(forOther.status, 403, forOther.body);
  assert.match(forOther.body, /a member may only speak for itself/);
  const forItself = await httpReport(a, "127.0.0.1", info(b.address, {}), { query: `?source=${b.address}`, headers });
  assert.equal(forItself.status, 200, forItself.body);
});

test("a far-future switch or row version from a member is refused alone: both stay UP, the operator's next change wins and survives a restart", {
  timeout: 180_000,
}, async () => {
  const nodes = await pair();
  const [a, b] = nodes;
  const far = { counter: Number.MAX_SAFE_INTEGER, writer: b.address };
  // b's own report (its address, from its IP), with a switch state and a row versioned at 2^53 - 1.
  const poisoned = info(b.address, {
    switches: { version: far, updates: { clientBeatInterval: "9000" } },
    tables: [{ table: "namespaces", key: "poison", value: '{"name":"poison"}', version: far }],
  });
  assert.equal(await grpcReport(a, poisoned, callMetadata(b.address, undefined)), "ok", "the report itself is taken");
  const set = await nacos(a.url, "PUT", "/nacos/v1/ns/operator/switches", { entry: "clientBeatInterval", value: "7000" });
  assert.equal(set.status, 200, set.text);
  await waitUntil(
    async () => (await Promise.all(nodes.map(switchesOf))).every((s) => s.clientBeatInterval === 7000),
    15_000,
    () => "the operator's change on every node",
  );
  await stayUp(nodes, 15_000);
  const namespaces = await nacos(a.url, "GET", "/nacos/v1/console/namespaces");
  assert.doesNotMatch(namespaces.text, /poison/, "the far-future row was not taken");

  const dataDir = a.dataDir;
  await a.stop("SIGTERM");
  const back = await start({ port: a.port, dataDir, args: ["--members", `${a.address},${b.address}`, ...FAST], timeoutMs: 60_000 });
  assert.equal((await switchesOf(back)).clientBeatInterval, 7000, "the change is what the restarted node loads");
  await bothUp([back, b], 20_000);
  assert.equal((await switchesOf(b)).clientBeatInterval, 7000);
});

/**
 * Creates namespaces `<prefix>0...` on `node` until the tables refuse one for size; returns how many fitted. A
 * creation refused as too frequent (429) is retried after a second, at most 600 times in all.
 */
async function fill(node: NodeProcess, accessToken: string, prefix: string, most: number): Promise<number> {
  for (let i = 0; i < most; i++) {
    const id = `${prefix}${String(i).padStart(4, "0")}`;
    const res = await nacos(node.url, "POST", "/nacos/v1/console/namespaces", {
      customNamespaceId: id,
      namespaceName: `namespace ${id}`,
      accessToken,
    });
    if (res.status === 400 && /bytes, more than/.test(res.text)) return i;
    assert.equal(res.status, 200, `create ${id}: ${res.status} ${res.text}`);
  }
  return most;
}

/** The namespace rows (tombstones included) in a stopped node's data directory. */
async function storedNamespaces(dataDir: string): Promise<number> {
  const log = await RecordLog.open(dataDir, silentLog);
  try {
    return [...log.entries()].filter(([key]) => key.startsWith("t\u0000namespaces\u0000")).length;
  } finally {
    await log.close();
  }
}

test("full tables still fit a report over a 64 KiB body: members stay UP; removals are purged everywhere and the room is free again", {
  timeout: 240_000,
}, async () => {
  const args = [
    "--peer-transport",
    "http",
    "--body-limit",
    "65536",
    "--verify-interval-ms",
    "500",
    "--tombstone-ttl-ms",
    "2000",
    "--max-clock-skew-ms",
    "1000",
  ];
  // As an administrator: anonymous creation is rate-limited (20, then one a second), which would make filling slow.
  const admin = { username: "nacos", password: randomBytes(12).toString("base64url") };
  const nodes = await pair(
    args,
    {
      NACOS_AUTH_ENABLE: "true",
      NACOS_AUTH_TOKEN: randomBytes(32).toString("base64"),
      NACOS_ADMIN_PASSWORD: admin.password,
      NACOS_CLUSTER_SECRET: randomBytes(12).toString("base64url"),
    },
    admin,
  );
  const [a, b] = nodes;
  let accessToken = "";
  await waitUntil(
    async () => {
      accessToken = (await nacos(a.url, "POST", "/nacos/v1/auth/users/login", admin)).json().accessToken ?? "";
      return accessToken !== "";
    },
    20_000,
    () => "the admin logs in",
  );
  const most = 2_000; // 64 KiB of namespaces is about 400: without a bound in bytes the reports outgrow the body limit
  const fitted = await fill(a, accessToken, "ns-", most);
  assert.ok(fitted > 50 && fitted < most, `${fitted} namespaces fitted before the tables refused one`);
  await waitUntil(
    async () => (await nacos(b.url, "GET", "/nacos/v1/console/namespaces", { accessToken })).json().data.length >= fitted,
    15_000,
    () => "b holds every namespace",
  );
  await stayUp(nodes, 5_000, admin);

  for (let i = 0; i < fitted; i++) {
    const res = await nacos(b.url, "DELETE", "/nacos/v1/console/namespaces", {
      namespaceId: `ns-${String(i).padStart(4, "0")}`,
      accessToken,
    });
    assert.equal(res.status, 200, res.text);
  }
  // Once both members hold every removal (and 2 s have passed), each forgets them and the whole bound is free.
  const forgotten = (n: NodeProcess): number =>
    n
      .output()
      .split("\n")
      .filter((line) => line.includes("table removals forgotten"))
      .reduce((sum, line) => sum + (JSON.parse(line) as { rows: number }).rows, 0);
  await waitUntil(
    () => nodes.every((n) => forgotten(n) >= fitted),
    60_000,
    () => `removals forgotten: ${nodes.map(forgotten).join(", ")} of ${fitted}`,
  );
  assert.equal(await fill(a, accessToken, "re-", most), fitted, "the whole bound is free again");
  await stayUp(nodes, 3_000, admin);

  // Nothing removed comes back from the data directories.
  for (const n of nodes) await n.stop("SIGTERM");
  for (const n of nodes) assert.equal(await storedNamespaces(n.dataDir), fitted, `${n.address} stores the live rows and no removal`);
});
