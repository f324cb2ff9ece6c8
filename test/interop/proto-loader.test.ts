/**
 * Every peer RPC called with a dynamic @grpc/proto-loader client built from the .proto files alone
 * (protobufjs encoding, none of our code on the client side).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { SECRET, SELF, type Loopback } from "../transport/grpc/fixtures.js";
import { INVALID_FORWARD, RPC_CASES, assertResponses, interopServer, label, type RpcCase } from "./peer-rpc-cases.js";

const PROTO_DIR = fileURLToPath(new URL("../../proto", import.meta.url));

type DynamicClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

let net: Loopback;
const clients = new Map<string, DynamicClient>();

before(async () => {
  net = await interopServer();
  const definition = protoLoader.loadSync(["nacos/cluster/v1/distro.proto", "nacos/cluster/v1/member.proto"], {
    includeDirs: [PROTO_DIR],
    longs: String,
    enums: String,
    json: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    nacos: { cluster: { v1: Record<string, grpc.ServiceClientConstructor> } };
  };
  for (const name of ["DistroService", "MemberService"]) {
    const Client = pkg.nacos.cluster.v1[name]!;
    clients.set(`nacos.cluster.v1.${name}`, new Client(net.target, grpc.credentials.createInsecure()) as unknown as DynamicClient);
  }
});

after(async () => {
  for (const c of clients.values()) c.close();
  await net.close();
});

function metadata(secret: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("x-nacos-cluster-secret", secret);
  md.set("x-nacos-source", SELF);
  return md;
}

/** Calls one RPC; resolves with every response message, rejects with the grpc-js ServiceError. */
function invoke(c: Pick<RpcCase, "service" | "method">, request: object, secret: string): Promise<unknown[]> {
  const client = clients.get(c.service)!;
  const method = client[c.method]!.bind(client);
  if (c.method === "Snapshot") {
    return new Promise((resolve, reject) => {
      const received: unknown[] = [];
      const stream = method(request, metadata(secret)) as grpc.ClientReadableStream<unknown>;
      stream.on("data", (m) => received.push(m));
      stream.on("error", reject);
      stream.on("end", () => resolve(received));
    });
  }
  return new Promise((resolve, reject) => {
    method(request, metadata(secret), (err: grpc.ServiceError | null, response: unknown) =>
      err === null ? resolve([response]) : reject(err),
    );
  });
}

for (const c of RPC_CASES) {
  test(`proto-loader client: ${label(c)}`, async () => {
    const before = net.handler.calls.length;
    const responses = await invoke(c, c.request, SECRET);
    assert.deepEqual(net.handler.calls.slice(before), [c.call]);
    assertResponses(c, responses);
  });
}

test("proto-loader client: a wrong secret is UNAUTHENTICATED and reaches no handler", async () => {
  const before = net.handler.calls.length;
  const sync = RPC_CASES[0]!;
  await assert.rejects(invoke(sync, sync.request, "wrong"), (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED);
  assert.equal(net.handler.calls.length, before);
});

test("proto-loader client: an invalid message is INVALID_ARGUMENT and reaches no handler", async () => {
  const before = net.handler.calls.length;
  await assert.rejects(
    invoke({ service: "nacos.cluster.v1.DistroService", method: "Forward" }, INVALID_FORWARD, SECRET),
    (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT && /port: 70000/.test(err.details),
  );
  assert.equal(net.handler.calls.length, before);
});
