/**
 * Every peer RPC called with connect-node's gRPC transport and the generated services (a different HTTP/2
 * stack and gRPC implementation than grpc-js), requests built from protobuf JSON by protobuf-es.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fromJson, toJson, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type CallOptions, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  DistroService,
  ForwardRequestSchema,
  ForwardResponseSchema,
  QueryRequestSchema,
  QueryResponseSchema,
  SnapshotRequestSchema,
  SnapshotResponseSchema,
  SyncRequestSchema,
  SyncResponseSchema,
  VerifyRequestSchema,
  VerifyResponseSchema,
} from "../../gen/nacos/cluster/v1/distro_pb.js";
import { MemberService, ReportRequestSchema, ReportResponseSchema } from "../../gen/nacos/cluster/v1/member_pb.js";
import { SECRET, SELF, type Loopback } from "../transport/grpc/fixtures.js";
import { INVALID_FORWARD, RPC_CASES, assertResponses, interopServer, label, type RpcCase } from "./peer-rpc-cases.js";

let net: Loopback;
let distro: Client<typeof DistroService>;
let member: Client<typeof MemberService>;

before(async () => {
  net = await interopServer();
  const transport = createGrpcTransport({ baseUrl: `http://${net.target}` });
  distro = createClient(DistroService, transport);
  member = createClient(MemberService, transport);
});

after(async () => {
  await net.close();
});

const options = (secret: string): CallOptions => ({
  headers: { "x-nacos-cluster-secret": secret, "x-nacos-source": SELF },
  timeoutMs: 5000,
});

/** Calls one RPC; resolves with every response as protobuf JSON. */
async function invoke(c: Pick<RpcCase, "service" | "method">, json: JsonObject, secret: string): Promise<unknown[]> {
  const call = options(secret);
  switch (c.method) {
    case "Sync":
      return [toJson(SyncResponseSchema, await distro.sync(fromJson(SyncRequestSchema, json), call))];
    case "Verify":
      return [toJson(VerifyResponseSchema, await distro.verify(fromJson(VerifyRequestSchema, json), call))];
    case "Query":
      return [toJson(QueryResponseSchema, await distro.query(fromJson(QueryRequestSchema, json), call))];
    case "Forward":
      return [toJson(ForwardResponseSchema, await distro.forward(fromJson(ForwardRequestSchema, json), call))];
    case "Report":
      return [toJson(ReportResponseSchema, await member.report(fromJson(ReportRequestSchema, json), call))];
    case "Snapshot": {
      const received: unknown[] = [];
      for await (const m of distro.snapshot(fromJson(SnapshotRequestSchema, json), call)) received.push(toJson(SnapshotResponseSchema, m));
      return received;
    }
    default:
      throw new Error(`no such method ${c.method}`);
  }
}

for (const c of RPC_CASES) {
  test(`connect client: ${label(c)}`, async () => {
    const before = net.handler.calls.length;
    const responses = await invoke(c, c.request, SECRET);
    assert.deepEqual(net.handler.calls.slice(before), [c.call]);
    assertResponses(c, responses);
  });
}

test("connect client: a wrong secret is Unauthenticated and reaches no handler", async () => {
  const before = net.handler.calls.length;
  const sync = RPC_CASES[0]!;
  await assert.rejects(invoke(sync, sync.request, "wrong"), (err) => ConnectError.from(err).code === Code.Unauthenticated);
  assert.equal(net.handler.calls.length, before);
});

test("connect client: an invalid message is InvalidArgument and reaches no handler", async () => {
  const before = net.handler.calls.length;
  await assert.rejects(
    invoke({ service: "nacos.cluster.v1.DistroService", method: "Forward" }, INVALID_FORWARD, SECRET),
    (err) => ConnectError.from(err).code === Code.InvalidArgument && /port: 70000/.test(ConnectError.from(err).rawMessage),
  );
  assert.equal(net.handler.calls.length, before);
});
