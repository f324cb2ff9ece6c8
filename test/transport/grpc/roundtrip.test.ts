/**
 * Every peer RPC between GrpcPeerTransport and GrpcPeerServer over loopback: what the handler receives equals
 * what the caller sent, and what the caller gets equals what the handler answered, for every shape.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { PeerError } from "../../../src/node/ports.js";
import {
  DATUMS,
  DETAIL,
  OUTCOMES,
  PEER,
  PEER_INFO,
  SELF,
  SELF_INFO,
  SUMMARY,
  WRITES,
  loopback,
  rejectsWith,
  type Loopback,
} from "./fixtures.js";

let net: Loopback;

before(async () => {
  net = await loopback();
});

after(async () => {
  await net.close();
});

const lastCall = () => net.handler.calls.at(-1);

test("sync delivers every datum (tombstones, deleted services, zero versions) with the caller as source", async () => {
  await net.transport.sync(PEER, DATUMS);
  assert.deepEqual(lastCall(), { method: "onSync", source: SELF, datums: DATUMS });
  await net.transport.sync(PEER, []);
  assert.deepEqual(lastCall(), { method: "onSync", source: SELF, datums: [] });
});

test("verify carries both rounds; the digest's source is the caller", async () => {
  for (const digest of [SUMMARY, DETAIL]) {
    const reply = await net.transport.verify(PEER, digest);
    assert.deepEqual(lastCall(), { method: "onVerify", digest });
    assert.deepEqual(reply, { mismatchedBuckets: [0, 2] });
  }
});

test("query sends the keys and returns the peer's datums", async () => {
  const keys = DATUMS.map((d) => d.key);
  assert.deepEqual(await net.transport.query(PEER, keys), DATUMS);
  assert.deepEqual(lastCall(), { method: "onQuery", keys });
  net.handler.queryAnswer = [];
  assert.deepEqual(await net.transport.query(PEER, ["missing"]), []);
});

test("report sends this member and returns the peer's description", async () => {
  assert.deepEqual(await net.transport.report(PEER, SELF_INFO), PEER_INFO);
  assert.deepEqual(lastCall(), { method: "onReport", reporter: SELF_INFO });
});

test("forward carries every ClientWrite variant unchanged", async () => {
  for (const write of WRITES) {
    await net.transport.forward(PEER, write);
    assert.deepEqual(lastCall(), { method: "onForward", write }, write.type);
  }
});

test("forward returns every WriteResult and every refusal unchanged", async () => {
  for (const outcome of OUTCOMES) {
    net.handler.forwardAnswer = async () => outcome;
    assert.deepEqual(await net.transport.forward(PEER, WRITES[0]!), outcome);
  }
});

test("snapshot streams the handler's chunks with totals and resume tokens, and passes resumeAfter through", async () => {
  const chunks = [
    { datums: [DATUMS[0]!], totalKeys: 3, totalInstances: 2, resumeToken: DATUMS[0]!.key },
    { datums: [DATUMS[1]!, DATUMS[2]!], totalKeys: 3, totalInstances: 2, resumeToken: DATUMS[2]!.key },
  ];
  net.handler.snapshotChunks = async function* () {
    yield* chunks;
  };
  const received = [];
  for await (const chunk of net.transport.snapshot(PEER, "public##A@@resume-here")) received.push(chunk);
  assert.deepEqual(received, chunks);
  assert.deepEqual(lastCall(), { method: "onSnapshot", resumeAfter: "public##A@@resume-here" });
});

test("a handler failure answers INTERNAL with its message; the caller sees an unavailable peer", async () => {
  net.handler.syncFails = new Error("disk on fire");
  try {
    await rejectsWith(
      net.transport.sync(PEER, DATUMS),
      (err) => err instanceof PeerError && err.kind === "unavailable" && /INTERNAL: sync failed: disk on fire/.test(err.message),
      "sync",
    );
  } finally {
    net.handler.syncFails = undefined;
  }
  await net.transport.sync(PEER, []); // the server is still serving
});
