/**
 * The Pipe: Sync and ForwardBatch requests of one member to another on one long-lived stream. Answers find
 * their requests by id, a refused request fails alone, a broken stream fails what waits on it and the next
 * request opens a new one.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { DistroService, ForwardBatchRequestSchema } from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { writeSyncRequest } from "../../../src/transport/grpc/codecs/datum-writer.js";
import { encodeWrite } from "../../../src/transport/grpc/codecs/write.js";
import { callMetadata } from "../../../src/transport/grpc/metadata.js";
import { PIPE_FORWARD_BATCH, PIPE_SYNC, Pipe, PipeFailure } from "../../../src/transport/grpc/pipe.js";
import { makeClientConstructor } from "../../../src/transport/grpc/service-adapter.js";
import { DATUMS, SELF, WRITES, loopback, type Loopback } from "./fixtures.js";

const Client = makeClientConstructor(DistroService);
const nets: Loopback[] = [];
const clients: grpc.Client[] = [];
after(async () => {
  for (const c of clients) c.close();
  for (const n of nets) await n.close();
});

async function pipeTo(): Promise<{ net: Loopback; pipe: Pipe }> {
  const net = await loopback();
  nets.push(net);
  const client = new Client(net.target, grpc.credentials.createInsecure());
  clients.push(client);
  const pass = (b: Buffer): Buffer => b;
  const pipe = new Pipe(() => client.makeBidiStreamRequest(`/${DistroService.typeName}/Pipe`, pass, pass, callMetadata(SELF, undefined)));
  return { net, pipe };
}

test("sync and forward-batch requests share one stream, each answered under its own id", async () => {
  const { net, pipe } = await pipeTo();
  net.handler.forwardAnswer = async (w) => ({ ok: false, status: 400, message: w.type });
  const forward = toBinary(
    ForwardBatchRequestSchema,
    create(ForwardBatchRequestSchema, { writes: WRITES.slice(0, 3).map((w) => ({ write: encodeWrite(w) })) }),
  );
  const [synced, forwarded] = await Promise.all([
    pipe.request(PIPE_SYNC, writeSyncRequest(DATUMS), 2000),
    pipe.request(PIPE_FORWARD_BATCH, forward, 2000),
  ]);
  assert.equal(synced.case, "sync");
  assert.equal(forwarded.case, "forwardBatch");
  assert.deepEqual(
    forwarded.case === "forwardBatch"
      ? forwarded.value.outcomes.map((o) => (o.outcome.case === "refusal" ? o.outcome.value.message : ""))
      : [],
    WRITES.slice(0, 3).map((w) => w.type),
  );
  const call = net.handler.calls.find((c) => c.method === "onSync");
  assert.deepEqual(call, { method: "onSync", source: SELF, datums: DATUMS });
  pipe.close();
});

test("a request that does not decode is refused with INVALID_ARGUMENT alone; the stream goes on", async () => {
  const { pipe } = await pipeTo();
  await assert.rejects(
    pipe.request(PIPE_SYNC, Buffer.from([0x0a, 0xff]), 2000),
    (err: unknown) => err instanceof PipeFailure && err.code === grpc.status.INVALID_ARGUMENT,
  );
  assert.equal((await pipe.request(PIPE_SYNC, writeSyncRequest([]), 2000)).case, "sync");
  pipe.close();
});

test("a broken stream fails what waits on it; the next request opens a new stream", async () => {
  const { net, pipe } = await pipeTo();
  net.handler.syncFails = undefined;
  await pipe.request(PIPE_SYNC, writeSyncRequest([]), 2000);
  let release: () => void = () => {};
  net.handler.forwardAnswer = () => new Promise((resolve) => (release = () => resolve({ ok: true, result: { type: "ok" } })));
  const forward = toBinary(ForwardBatchRequestSchema, create(ForwardBatchRequestSchema, { writes: [{ write: encodeWrite(WRITES[0]!) }] }));
  const waiting = pipe.request(PIPE_FORWARD_BATCH, forward, 5000);
  await new Promise((r) => setTimeout(r, 50));
  pipe.close(); // the stream breaks under the waiting request (cancelled, as a reset would)
  await assert.rejects(waiting, PipeFailure);
  release();
  assert.equal((await pipe.request(PIPE_SYNC, writeSyncRequest([]), 2000)).case, "sync", "a new stream");
  assert.equal(net.handler.calls.filter((c) => c.method === "onSync").length, 2);
  pipe.close();
});
