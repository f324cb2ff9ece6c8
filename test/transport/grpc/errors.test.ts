/**
 * How GrpcPeerTransport fails: every failure is a PeerError of the kind the core acts on (refused, timeout,
 * rejected, unavailable); messages far above grpc-js's 4 MB default pass within the configured limit; and
 * the transport's channels can be dropped per peer and all at once.
 */
import assert from "node:assert/strict";
import { testInstance } from "../../support/fixtures.js";
import { once } from "node:events";
import { createServer } from "node:net";
import { after, test } from "node:test";
import { GrpcPeerTransport } from "../../../src/transport/grpc/client.js";
import { PeerError, type PeerErrorKind } from "../../../src/node/ports.js";
import { LIMITS, ORDERS, PEER, SELF, SELF_INFO, WRITES, directoryAt, loopback, rejectsWith, type Loopback } from "./fixtures.js";
import { identityOf } from "../../../src/core/instance.js";
import { makeDatum, type ServiceDatum } from "../../../src/core/service-datum.js";

const open: Loopback[] = [];
async function start(...args: Parameters<typeof loopback>): Promise<Loopback> {
  const net = await loopback(...args);
  open.push(net);
  return net;
}

after(async () => {
  for (const net of open) await net.close();
});

const kindIs =
  (kind: PeerErrorKind, pattern = /./) =>
  (err: unknown) =>
    err instanceof PeerError && err.kind === kind && err.peer === PEER && pattern.test(err.message);

/** A one-instance datum whose metadata holds `bytes` characters. */
function datumOf(bytes: number, name = "big"): ServiceDatum {
  const big = testInstance("10.9.9.9", 1, `G@@${name}`, { metadata: { blob: "x".repeat(bytes) } });
  return makeDatum(`public##G@@${name}`, false, ORDERS.meta, ORDERS.metaVersion, [
    { id: identityOf(big), version: ORDERS.version, instance: big },
  ]);
}

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

test("nothing listening at the peer's gRPC port: refused, for unary calls and the snapshot", async () => {
  const port = await closedPort();
  const transport = new GrpcPeerTransport({
    self: SELF,
    directory: directoryAt(() => `127.0.0.1:${port}`),
    connection: LIMITS,
    timeoutMs: 2000,
  });
  try {
    await rejectsWith(transport.report(PEER, SELF_INFO), kindIs("refused"), "report");
    await rejectsWith(transport.sync(PEER, [ORDERS]), kindIs("refused"), "sync");
    await rejectsWith(
      (async () => {
        for await (const _ of transport.snapshot(PEER, "")) assert.fail("no chunk expected");
      })(),
      kindIs("refused"),
      "snapshot",
    );
  } finally {
    transport.close();
  }
});

test("a peer that never answers: timeout at the call's deadline", async () => {
  let release: () => void = () => {};
  const never = new Promise<never>((_, reject) => (release = () => reject(new Error("test over"))));
  never.catch(() => {});
  const net = await start({}, { forwardTimeoutMs: 300 });
  net.handler.forwardAnswer = () => never;
  const started = Date.now();
  try {
    await rejectsWith(net.transport.forward(PEER, WRITES[0]!), kindIs("timeout", /DEADLINE_EXCEEDED/), "forward");
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 3000, `deadline hit after ${took} ms`);
  } finally {
    release();
  }
});

test("a message of ~3 MB passes both ways within the default 4 MiB limit", async () => {
  const net = await start();
  const datum = datumOf(3 * 1024 * 1024);
  await net.transport.sync(PEER, [datum]);
  assert.deepEqual(net.handler.calls.at(-1), { method: "onSync", source: SELF, datums: [datum] });
  net.handler.queryAnswer = [datum];
  assert.deepEqual(await net.transport.query(PEER, [datum.key]), [datum]);
});

test("a query answer larger than one message comes in several, each within the limit", async () => {
  const net = await start();
  const datums = ["a", "b", "c"].map((name) => datumOf(2560 * 1024, name));
  net.handler.queryAnswer = datums;
  assert.deepEqual(
    await net.transport.query(
      PEER,
      datums.map((d) => d.key),
    ),
    datums,
  );
  const asked = net.handler.calls.flatMap((c) => (c.method === "onQuery" ? [c.keys] : []));
  assert.deepEqual(asked, [["public##G@@a", "public##G@@b", "public##G@@c"], ["public##G@@b", "public##G@@c"], ["public##G@@c"]]);
});

test("a message over the configured limit fails as a PeerError and never reaches the handler", async () => {
  const net = await start({ connection: { maxMessageBytes: 1024 * 1024 } });
  const datum = datumOf(2 * 1024 * 1024);
  await rejectsWith(net.transport.sync(PEER, [datum]), kindIs("unavailable", /RESOURCE_EXHAUSTED/), "oversized sync");
  assert.deepEqual(net.handler.calls, []);
});

test("an answer that is not a valid domain value: unavailable, naming what was wrong", async () => {
  const net = await start();
  net.handler.reportAnswer = { ...SELF_INFO, address: "not-an-address" };
  await rejectsWith(net.transport.report(PEER, SELF_INFO), kindIs("unavailable", /invalid answer: member\.address/), "report");
});

test("a peer the directory places elsewhere gets a new channel at once; forget drops one; close refuses every later call", async () => {
  const first = await start();
  let target = first.target;
  const transport = new GrpcPeerTransport({ self: SELF, directory: directoryAt(() => target), connection: LIMITS, timeoutMs: 2000 });
  try {
    await transport.report(PEER, SELF_INFO);
    // The peer comes back elsewhere (a member named by host name that moved): the next call goes there.
    await first.server.close(0);
    const second = await start();
    target = second.target;
    await transport.report(PEER, SELF_INFO);
    assert.equal(second.handler.calls.length, 1);
    transport.forget(PEER);
    await transport.report(PEER, SELF_INFO);
    assert.equal(second.handler.calls.length, 2, "a forgotten peer's next call opens a new channel");
  } finally {
    transport.close();
  }
  await rejectsWith(transport.report(PEER, SELF_INFO), kindIs("unavailable", /transport closed/), "after close");
});
