/**
 * Forwards to one member are pipelined: while a call is in flight, further writes wait and leave together in
 * one ForwardBatch, each getting back its own outcome; a member without ForwardBatch (an older ts-nacos) gets
 * one Forward per write.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { DistroService, ForwardResponseSchema, SyncResponseSchema } from "../../../gen/nacos/cluster/v1/distro_pb.js";
import type { ClientWrite } from "../../../src/core/ops.js";
import type { ForwardOutcome } from "../../../src/node/ports.js";
import { GrpcPeerTransport } from "../../../src/transport/grpc/client.js";
import { decodeWrite, encodeOutcome } from "../../../src/transport/grpc/codecs/write.js";
import { ForwardBatcher } from "../../../src/transport/grpc/forward-batcher.js";
import { toGrpcServiceDefinition } from "../../../src/transport/grpc/service-adapter.js";
import { LIMITS, PEER, SELF, WRITES, directoryAt, loopback } from "./fixtures.js";

const register = (n: number): ClientWrite => ({
  ...(WRITES[0] as Extract<ClientWrite, { type: "register" }>),
  instance: { ...(WRITES[0] as Extract<ClientWrite, { type: "register" }>).instance, port: n },
});
const portOf = (w: ClientWrite): number => (w.type === "register" ? w.instance.port : -1);
/** Lets pending promise callbacks and immediates run. */
const turns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
const echo = async (w: ClientWrite): Promise<ForwardOutcome> => ({ ok: false, status: 400, message: `port ${portOf(w)}` });

test("the batcher sends at once when idle, merges while calls are in flight, and respects its limits", async () => {
  const calls: number[][] = [];
  const release: Array<() => void> = [];
  const batcher = new ForwardBatcher(
    async (writes) => {
      calls.push(writes.map(portOf));
      await new Promise<void>((resolve) => release.push(resolve));
      return writes.map((w) => ({ ok: false, status: 400, message: `port ${portOf(w)}` }));
    },
    { maxWrites: 3, maxInFlight: 1, maxBytes: 1 << 20 },
    () => 1,
  );
  const first = batcher.submit(register(1));
  await turns();
  assert.deepEqual(calls, [[1]], "an idle batcher does not wait for company");
  const rest = [2, 3, 4, 5].map((n) => batcher.submit(register(n)));
  await turns();
  assert.equal(calls.length, 1, "nothing more while the call is in flight");
  release.shift()!();
  assert.deepEqual(await first, { ok: false, status: 400, message: "port 1" });
  await turns();
  assert.deepEqual(calls[1], [2, 3, 4], "the waiting writes leave together, at most maxWrites of them");
  release.shift()!();
  await turns();
  release.shift()!();
  assert.deepEqual(
    (await Promise.all(rest)).map((o) => (o.ok ? "" : o.message)),
    ["port 2", "port 3", "port 4", "port 5"],
  );
});

test("over gRPC, concurrent forwards to one member share calls and each gets its own outcome", async () => {
  const net = await loopback();
  try {
    net.handler.forwardAnswer = echo;
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, n) => net.transport.forward(PEER, register(n + 1))));
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? "" : o.message)),
      Array.from({ length: 200 }, (_, n) => `port ${n + 1}`),
    );
    assert.equal(net.handler.calls.filter((c) => c.method === "onForward").length, 200, "every write executed once");
  } finally {
    await net.close();
  }
});

test("a member without Pipe and ForwardBatch gets one Forward per write and unary syncs; the caller stops trying", async () => {
  const server = new grpc.Server();
  let forwards = 0;
  let syncs = 0;
  // An older member: it serves Forward and Sync only (grpc-js answers UNIMPLEMENTED for the rest).
  server.addService(toGrpcServiceDefinition(DistroService) as grpc.ServiceDefinition, {
    sync: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
      syncs++;
      callback(null, create(SyncResponseSchema, {}));
    },
    forward: (call: grpc.ServerUnaryCall<{ write: never }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      forwards++;
      const write = decodeWrite(call.request.write, "write");
      void echo(write).then((o) => callback(null, create(ForwardResponseSchema, encodeOutcome(o))));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const transport = new GrpcPeerTransport({ self: SELF, directory: directoryAt(() => `127.0.0.1:${port}`), connection: LIMITS });
  try {
    const outcomes = await Promise.all([1, 2, 3].map((n) => transport.forward(PEER, register(n))));
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? "" : o.message)),
      ["port 1", "port 2", "port 3"],
    );
    assert.equal(forwards, 3);
    await transport.forward(PEER, register(4));
    assert.equal(forwards, 4);
    await transport.sync(PEER, []);
    await transport.sync(PEER, []);
    assert.equal(syncs, 2, "syncs go unary once the pipe was refused");
  } finally {
    transport.close();
    server.forceShutdown();
  }
});
