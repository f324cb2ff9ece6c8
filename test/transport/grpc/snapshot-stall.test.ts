/**
 * Snapshot readers that never read, against a real node process: HTTP/2 flow control takes the node's first
 * chunks (the stream's window and buffers fill), then the node waits on them. Such a stream must still be cut
 * once the reader has taken nothing for `--snapshot-stall-ms`, and its slot freed, so a joiner is served.
 */
import assert from "node:assert/strict";
import { connect, constants, type ClientHttp2Session } from "node:http2";
import { after, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { SnapshotRequestSchema } from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { readSnapshotChunk } from "../../../src/transport/grpc/codecs/datum-reader.js";
import { callMetadata } from "../../../src/transport/grpc/metadata.js";
import { freePort, nacos, startNode, waitUntil, type NodeProcess } from "../../support/node-process.js";

const SNAPSHOT_PATH = "/nacos.cluster.v1.DistroService/Snapshot";
const STALL_MS = 1500;
const running: NodeProcess[] = [];
const clients: grpc.Client[] = [];
const sessions: ClientHttp2Session[] = [];

after(async () => {
  for (const c of clients) c.close();
  for (const s of sessions) s.destroy();
  await Promise.all(running.map((n) => n.stop("SIGKILL")));
});

const serialize = (r: { resumeAfter: string }): Buffer => Buffer.from(toBinary(SnapshotRequestSchema, create(SnapshotRequestSchema, r)));
const keepBytes = (b: Buffer): Buffer => b;

/**
 * A snapshot request over a raw HTTP/2 connection of its own whose response is never read: the client takes
 * what its stream window allows, then sends no window update, so the node's writes back up.
 */
function stalledSnapshot(node: NodeProcess, peer: string): { ended: Promise<number> } {
  const session = connect(`http://127.0.0.1:${node.port + 1001}`);
  sessions.push(session);
  session.on("error", () => {});
  const message = serialize({ resumeAfter: "" });
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  const stream = session.request({
    ":method": "POST",
    ":path": SNAPSHOT_PATH,
    "content-type": "application/grpc",
    te: "trailers",
    "x-nacos-source": peer,
  });
  stream.on("error", () => {});
  stream.end(frame);
  stream.pause();
  const ended = new Promise<number>((resolve) => stream.on("close", () => resolve(stream.rstCode ?? 0)));
  return { ended };
}

/** A snapshot stream read by grpc-js, on its own connection. */
function openSnapshot(node: NodeProcess, peer: string): grpc.ClientReadableStream<Buffer> {
  const client = new grpc.Client(`127.0.0.1:${node.port + 1001}`, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  });
  clients.push(client);
  return client.makeServerStreamRequest(SNAPSHOT_PATH, serialize, keepBytes, { resumeAfter: "" }, callMetadata(peer, undefined));
}

/** Reads a whole snapshot: its chunks' datum count, or the status that ended it. */
function readAll(call: grpc.ClientReadableStream<Buffer>): Promise<{ datums: number } | { error: grpc.ServiceError }> {
  return new Promise((resolve) => {
    let datums = 0;
    call.on("data", (bytes: Buffer) => (datums += readSnapshotChunk(bytes).datums.length));
    call.on("end", () => resolve({ datums }));
    call.on("error", (error: grpc.ServiceError) => resolve({ error }));
  });
}

test("four snapshot streams whose readers never read are cut after --snapshot-stall-ms, and a joiner is served", async () => {
  const port = await freePort();
  const absent = `127.0.0.1:${await freePort()}`; // a member that never starts: the node starts alone after waiting for it
  const node = await startNode({
    port,
    args: [
      "--members",
      `127.0.0.1:${port},${absent}`,
      "--snapshot-stall-ms",
      String(STALL_MS),
      "--snapshot-chunk-bytes",
      "1024",
      "--max-snapshot-streams",
      "4",
    ],
    timeoutMs: 60_000,
  });
  running.push(node);
  // Some 400 services of ~1.5 KB each: 600 KB, far more than the HTTP/2 windows and stream buffers hold.
  const blob = "x".repeat(1400);
  const writes = [];
  for (let i = 0; i < 400; i++) {
    const params = { serviceName: `stall-${i}`, ip: "192.0.2.1", port: "80", metadata: JSON.stringify({ blob }) };
    writes.push(nacos(node.url, "POST", "/nacos/v1/ns/instance", params));
    if (writes.length === 50) assert.deepEqual(new Set((await Promise.all(writes.splice(0))).map((r) => r.text)), new Set(["ok"]));
  }
  await Promise.all(writes);

  const started = Date.now();
  const stalled = [0, 1, 2, 3].map(() => stalledSnapshot(node, absent));
  // All four slots are taken at first: a joiner now is refused as busy.
  await waitUntil(
    async () => {
      const probe = await readAll(openSnapshot(node, absent));
      return "error" in probe && probe.error.code === grpc.status.RESOURCE_EXHAUSTED;
    },
    5_000,
    () => "the four stalled streams hold every slot",
  );
  // Within the stall bound (and generous slack for a loaded machine), a joiner reads the whole snapshot.
  const bound = STALL_MS + 15_000;
  let served: { datums: number } | undefined;
  await waitUntil(
    async () => {
      const result = await readAll(openSnapshot(node, absent));
      if ("datums" in result) served = result;
      return served !== undefined;
    },
    bound,
    () => `a joiner served within ${bound} ms:\n${node.output().slice(-2000)}`,
  );
  assert.equal(served!.datums, 400);
  assert.ok(Date.now() - started >= STALL_MS, "the stalled streams were not cut before their reader had its time");
  // Each stalled stream is reset (its status could not pass the data it does not read), freeing what it buffered.
  for (const { ended } of stalled) {
    const end = await Promise.race([ended, new Promise<"open">((r) => setTimeout(() => r("open"), 5_000))]);
    assert.equal(end, constants.NGHTTP2_CANCEL, "a stalled stream was never ended");
  }
  assert.match(node.output(), /"reason":"the reader took no chunk for 1500 ms".*"msg":"snapshot stream cut: its reader stalled"/);
});
