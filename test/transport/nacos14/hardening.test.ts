/**
 * What the Nacos 1.4 peer endpoints refuse on the client port: callers speaking for another member, bodies
 * over the node's body limit, and — on a node that speaks gRPC only — everything, since they are not served.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createHttpApp } from "../../../src/api/app.js";
import { silentLog } from "../../../src/core/log.js";
import { assemble } from "../../../src/runtime/assemble.js";
import { defaultNodeConfig } from "../../../src/runtime/options.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { encodeMember } from "../../../src/transport/nacos14/codecs/member-json.js";
import { Nacos14HttpClient, type PeerCall } from "../../../src/transport/nacos14/http.js";
import { encodeChecksums, encodeServiceStatus } from "../../../src/transport/nacos14/codecs/messages.js";
import { requestFrom } from "../../support/http-from.js";
import { memberState, nodeContext } from "../../support/node-context.js";
import { fixture, freePort, NO_GRPC, startLegacyNode, stubServer, type LegacyNode } from "./support.js";

let node: LegacyNode;
let stub: Awaited<ReturnType<typeof stubServer>>;
/** A member configured at another loopback address, so calls from 127.0.0.1 cannot come from it. */
let elsewhere: string;
const client = new Nacos14HttpClient({ version: "1.4.6", timeoutMs: 3000, maxAnswerBytes: 1 << 20 });

before(async () => {
  stub = await stubServer(() => ({ body: "ok" }));
  const port = await freePort();
  elsewhere = `127.0.0.3:${port}`;
  node = await startLegacyNode({ port, members: [`127.0.0.1:${port}`, stub.address, elsewhere], bodyLimitBytes: 64 * 1024 });
});

after(async () => {
  client.close();
  await node.close();
  await stub.app.close();
});

const memberJson = (address: string): string => {
  const [ip, port] = [address.slice(0, address.lastIndexOf(":")), Number(address.slice(address.lastIndexOf(":") + 1))];
  return JSON.stringify({ ...(fixture("member-nacos-1.4.json") as object), ip, port, address });
};

/** Every call that names its sender, as `member`. */
function claims(member: string): Array<[string, PeerCall]> {
  const checksums = JSON.stringify(encodeChecksums([["public##DEFAULT_GROUP@@x", "00"]]));
  return [
    ["report", { method: "POST", path: "/nacos/v1/core/cluster/report", body: memberJson(member) }],
    ["sync", { method: "PUT", path: "/nacos/v1/ns/distro/datum", query: { source: member }, body: "{}" }],
    ["checksum", { method: "PUT", path: "/nacos/v1/ns/distro/checksum", query: { source: member }, body: checksums }],
    ["digest", { method: "PUT", path: "/nacos/v1/ns/distro/digest", query: { source: member }, body: "{}" }],
    [
      "service status",
      {
        method: "POST",
        path: "/nacos/v1/ns/service/status",
        body: encodeServiceStatus({ namespaceId: "public", serviceName2Checksum: {} }, member),
      },
    ],
  ];
}

test("a caller may speak only for the member at its own address: claiming another is 403 and changes nothing", async () => {
  const before = node.node.registry.size;
  for (const [what, call] of claims(elsewhere)) {
    const answer = await client.call(node.address, call);
    assert.equal(answer.status, 403, `${what}: ${answer.status} ${answer.body}`);
    assert.match(
      answer.body,
      /a member may only speak for itself: member 127\.0\.0\.3:\d+ is at 127\.0\.0\.3, but the call came from 127\.0\.0\.1/,
    );
  }
  assert.equal(memberState(node.node, elsewhere), "DOWN", "no report in its name was taken");
  assert.equal(node.node.registry.size, before);
  // The member really at 127.0.0.1 is heard (its calls fail later, on their made-up bodies, not on identity).
  for (const [what, call] of claims(stub.address)) {
    const answer = await client.call(node.address, call);
    assert.notEqual(answer.status, 403, `${what} from the member itself`);
  }
});

test("without a secret too, nobody outside the member list changes anything: 403, and nothing taken", async () => {
  const before = { size: node.node.registry.size, switches: JSON.stringify(node.node.switches) };
  const outsider = "127.0.0.5:8848";
  const now = Date.now();
  const member = JSON.parse(memberJson(outsider)) as { extendInfo: Record<string, unknown> };
  member.extendInfo.tsNacos = {
    switches: { version: { counter: now, writer: outsider }, updates: { pushEnabled: "false" } },
    tables: [{ table: "users", key: "evil", value: "{}", version: { counter: now, writer: outsider } }],
  };
  const datum = JSON.stringify({
    "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@evil": {
      key: "com.alibaba.nacos.naming.iplist.ephemeral.public##DEFAULT_GROUP@@evil",
      value: { instanceList: [{ ip: "192.0.2.66", port: 80, clusterName: "DEFAULT", ephemeral: true }] },
    },
  });
  const port = Number(new URL(`http://${node.address}`).port);
  const from5 = (method: string, path: string, body: string) => requestFrom({ localAddress: "127.0.0.5", port, method, path, body });
  const calls: Array<[string, Promise<{ status: number; body: string }>]> = [
    ["a report from the outsider's own address", from5("POST", "/nacos/v1/core/cluster/report", JSON.stringify(member))],
    ["a sync naming the outsider, from its address", from5("PUT", `/nacos/v1/ns/distro/datum?source=${outsider}`, datum)],
    ["a sync naming nobody, from an address no member has", from5("PUT", "/nacos/v1/ns/distro/datum", datum)],
  ];
  const answers = await Promise.all(calls.map(async ([what, call]) => `${what}: ${(await call).status}`));
  assert.deepEqual(
    answers,
    calls.map(([what]) => `${what}: 403`),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(node.node.tables.get("users", "evil"), undefined);
  assert.equal(JSON.stringify(node.node.switches), before.switches);
  assert.equal(node.node.registry.size, before.size);
});

test("a report naming a source must describe that member: one for another member is 403 (1.4 names none: fine)", async () => {
  const other = `127.0.0.1:${Number(stub.address.split(":")[1]) + 1}`;
  const forOther = await client.call(node.address, {
    method: "POST",
    path: "/nacos/v1/core/cluster/report",
    query: { source: other },
    body: memberJson(stub.address),
  });
  assert.equal(forOther.status, 403, forOther.body);
  assert.match(forOther.body, /a member may only speak for itself: source 127\.0\.0\.1:\d+ reported for 127\.0\.0\.1:\d+/);
  const named = await client.call(node.address, {
    method: "POST",
    path: "/nacos/v1/core/cluster/report",
    query: { source: stub.address },
    body: memberJson(stub.address),
  });
  assert.equal(named.status, 200, named.body);
});

test("a body over the node's body limit is refused with 413", async () => {
  const answer = await client.call(node.address, {
    method: "PUT",
    path: "/nacos/v1/ns/distro/datum",
    body: JSON.stringify({ pad: "x".repeat(65 * 1024) }),
  });
  assert.equal(answer.status, 413);
});

test("a node speaking gRPC only serves no 1.4 peer endpoint on its client port", async () => {
  const self = "127.0.0.1:8848";
  for (const [mode, served] of [
    ["grpc", false],
    ["auto", true],
  ] as const) {
    const scheduler = new VirtualScheduler();
    const config = defaultNodeConfig(self, [self, "127.0.0.2:8848"]);
    const assembled = assemble({
      config,
      mode,
      scheduler,
      log: silentLog,
      secret: undefined,
      peerTimeoutMs: 1000,
      bodyLimitBytes: 1 << 20,
      grpc: () => NO_GRPC,
    });
    const peerNode = assembled.node;
    const app = createHttpApp(nodeContext(peerNode));
    await assembled.servePeerRoutes(app);
    // From the other member's address: a sync naming no sender must come from a member.
    const sync = await app.inject({ method: "PUT", url: "/nacos/v1/ns/distro/datum", payload: "{}", remoteAddress: "127.0.0.2" });
    const report = await app.inject({
      method: "POST",
      url: "/nacos/v1/core/cluster/report",
      payload: JSON.stringify(encodeMember(peerNode.selfInfo(), 0)),
    });
    if (served) {
      assert.equal(sync.statusCode, 400, "auto: mounted (an empty datum map is refused as 1.4 refuses it)");
      assert.equal(report.statusCode, 200);
    } else {
      assert.deepEqual([sync.statusCode, sync.body], [501, "no such api:PUT:/nacos/v1/ns/distro/datum"]);
      assert.equal(report.statusCode, 404);
    }
    await app.close();
    assembled.closeTransports();
  }
});
