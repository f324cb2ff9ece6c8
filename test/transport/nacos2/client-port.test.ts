/**
 * The client port's wire and connection lifecycle against a raw 2.x client built from the vendored proto
 * (@grpc/proto-loader): the handshake, Nacos's error codes in Nacos's order, bounds on what a request may cost,
 * connection limits, detection of silent clients and reset. The handler is a stand-in that records what it is told.
 */
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { ClientPort, type ClientPortLimits } from "../../../src/transport/nacos2/client-port.js";
import type { ClientConnectionMeta, ClientRequest, ClientRequestHandler } from "../../../src/transport/nacos2/client-handler.js";
import { success } from "../../../src/transport/nacos2/responses.js";
import { encodeBody, RawNacos2Client } from "../../support/nacos2-raw-client.js";
import { waitUntil } from "../../support/node-process.js";

const quietLog = { debug() {}, info() {}, warn() {}, error() {} };

const LIMITS: ClientPortLimits = {
  maxMessageBytes: 1024 * 1024,
  maxRequestBytes: 64 * 1024,
  maxConnections: 100,
  maxConnectionsPerIp: 100,
  maxCallsPerConnection: 16,
  maxServerRequestsPerConnection: 4,
  serverRequestTimeoutMs: 2_000,
  resetTimeoutMs: 1_000,
  idleMs: 60_000,
  detectionTimeoutMs: 1_000,
  sweepMs: 100,
};

class RecordingHandler implements ClientRequestHandler {
  accepting = true;
  readonly opened_: ClientConnectionMeta[] = [];
  readonly closed_: Array<{ id: string; reason: string }> = [];
  readonly requests: ClientRequest[] = [];
  handles(type: string): boolean {
    return type === "InstanceRequest";
  }
  async handle(request: ClientRequest) {
    this.requests.push(request);
    return { type: "InstanceResponse", body: success(request.requestId, { type: "registerInstance" }) };
  }
  opened(connection: ClientConnectionMeta): void {
    this.opened_.push(connection);
  }
  closed(connectionId: string, reason: string): void {
    this.closed_.push({ id: connectionId, reason });
  }
}

const open: Array<{ close(): void | Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function portWith(limits: Partial<ClientPortLimits> = {}, handler = new RecordingHandler()) {
  const port = await ClientPort.start(handler, { host: "127.0.0.1", port: 0, limits: { ...LIMITS, ...limits }, log: quietLog });
  open.push({ close: () => port.close(200) });
  const client = (): RawNacos2Client => {
    const c = new RawNacos2Client(`127.0.0.1:${port.port}`);
    open.push(c);
    return c;
  };
  return { port, handler, client };
}

test("ServerCheckRequest answers the connection's id; requests before ConnectionSetupRequest answer 301; after it they are served", async () => {
  const { handler, client } = await portWith();
  const c = client();
  const check = await c.call("ServerCheckRequest");
  assert.equal(check.type, "ServerCheckResponse");
  assert.match(check.body.connectionId, /^\d+_127\.0\.0\.1_\d+$/);
  assert.equal(check.body.resultCode, 200);
  assert.equal(check.body.success, true);
  const early = await c.call("InstanceRequest", { namespace: "public" });
  assert.equal(early.type, "ErrorResponse");
  assert.deepEqual([early.body.resultCode, early.body.errorCode, early.body.message], [500, 301, "Connection is unregistered."]);
  assert.equal(handler.requests.length, 0, "an unregistered connection's request reaches no handler");
  await c.ready("dev", { AppName: "orders" });
  assert.equal(handler.opened_.length, 1);
  assert.deepEqual(
    { id: handler.opened_[0]!.id, tenant: handler.opened_[0]!.tenant, app: handler.opened_[0]!.appName },
    { id: check.body.connectionId, tenant: "dev", app: "orders" },
    "the unary calls and the stream share one connection, known by the id ServerCheck gave",
  );
  const served = await c.call("InstanceRequest", { namespace: "public" }, { accessToken: "t0k" });
  assert.equal(served.type, "InstanceResponse");
  assert.equal(served.body.requestId, handler.requests[0]!.requestId, "the answer echoes the requestId");
  assert.equal(handler.requests[0]!.headers.get("accesstoken"), "t0k", "Metadata.headers reach the handler");
});

test("an unknown type answers 302, before the connection is even set up; not a Payload, not JSON, no body: 502; too large: 400", async () => {
  const { handler, client } = await portWith({ maxRequestBytes: 1024 });
  const c = client();
  const unknown = await c.call("ConfigQueryRequest");
  assert.deepEqual([unknown.type, unknown.body.errorCode, unknown.body.message], ["ErrorResponse", 302, "RequestHandler Not Found"]);
  await c.ready();
  const notJson = await c.callRaw("InstanceRequest", Buffer.from("{not json", "utf8"));
  assert.deepEqual([notJson.type, notJson.body.resultCode, notJson.body.errorCode], ["ErrorResponse", 500, 502]);
  const array = await c.callRaw("InstanceRequest", encodeBody([1, 2]));
  assert.equal(array.body.errorCode, 502);
  const noBody = await c.callRaw("InstanceRequest", undefined);
  assert.equal(noBody.body.errorCode, 502);
  const large = await c.callRaw("InstanceRequest", encodeBody({ pad: "x".repeat(2048) }));
  assert.equal(large.type, "ErrorResponse");
  assert.equal(large.body.errorCode, 400);
  assert.match(large.body.message, /more than the 1024 bytes allowed/);
  assert.equal(handler.requests.length, 0, "no refused request reaches the handler");
});

test("bytes that are not a Payload get ErrorResponse 502, and the port keeps serving", async () => {
  const { port, client } = await portWith();
  const c = client();
  // A hand-made unary call whose message is garbage protobuf (field 2 claims more bytes than follow).
  const garbage = await new Promise<Buffer>((resolve, reject) => {
    (c as unknown as { unary: import("@grpc/grpc-js").Client }).unary.makeUnaryRequest(
      "/Request/request",
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from([0x12, 0x7f, 0x01]),
      (err, answer) => (err === null ? resolve(answer!) : reject(err)),
    );
  });
  assert.match(garbage.toString("latin1"), /ErrorResponse/);
  assert.match(garbage.toString("latin1"), /"errorCode":502/);
  const check = await c.call("ServerCheckRequest");
  assert.equal(check.type, "ServerCheckResponse", `port ${port.port} still serves`);
});

test("while the node is not accepting clients every request answers 300 and a setup closes the connection", async () => {
  const handler = new RecordingHandler();
  handler.accepting = false;
  const { client } = await portWith({}, handler);
  const c = client();
  const check = await c.call("ServerCheckRequest");
  assert.deepEqual([check.type, check.body.errorCode], ["ErrorResponse", 300]);
  const closed = c.streamClosed();
  c.setUp();
  await closed;
  assert.equal(handler.opened_.length, 0);
});

test("connections beyond the per-IP limit are closed on arrival, before anything is read", async () => {
  const { port, handler, client } = await portWith({ maxConnectionsPerIp: 2 });
  const a = client();
  const b = client();
  await a.ready();
  await b.ready();
  const socket = createConnection(port.port, "127.0.0.1");
  socket.on("error", () => {});
  let closed = false;
  socket.once("close", () => (closed = true));
  await waitUntil(
    () => closed,
    5_000,
    () => "the third connection from the IP is closed on arrival",
  );
  assert.equal(port.stats().refusedConnections, 1);
  a.close();
  await waitUntil(
    () => handler.closed_.length === 1,
    5_000,
    () => "the closed client's connection is released",
  );
  const c = client();
  await c.ready();
  assert.equal(port.stats().setUp, 2, "its slot is free again");
});

test("a silent connection is probed with ClientDetectionRequest: answered it stays, unanswered it is closed", async () => {
  const { port, handler, client } = await portWith({ idleMs: 300, detectionTimeoutMs: 2_000 });
  const live = client();
  const dead = client();
  await live.ready();
  await dead.ready();
  dead.answering = false;
  await waitUntil(
    () => handler.closed_.length === 1,
    10_000,
    () => `closed: ${JSON.stringify(handler.closed_)}`,
  );
  assert.equal(handler.closed_[0]!.reason, "no answer to ClientDetectionRequest");
  assert.ok(dead.received.some((m) => m.type === "ClientDetectionRequest"));
  assert.ok(
    live.received.some((m) => m.type === "ClientDetectionRequest"),
    "the live one was probed too",
  );
  assert.equal(port.stats().setUp, 1, "and stays");
  assert.equal(port.stats().detectionDrops, 1);
});

test("a connection that never sets up is closed after the idle time", async () => {
  const { port, client } = await portWith({ idleMs: 300 });
  const c = client();
  await c.call("ServerCheckRequest");
  await waitUntil(
    () => port.stats().connections === 0,
    10_000,
    () => "the connection that never set up is closed",
  );
});

test("server requests go out on the stream and resolve with the answer; at most the limit are in flight", async () => {
  const { port, handler, client } = await portWith({ maxServerRequestsPerConnection: 2, serverRequestTimeoutMs: 500 });
  const c = client();
  await c.ready();
  const id = handler.opened_[0]!.id;
  const answer = await port.request(id, "NotifySubscriberRequest", { module: "naming", serviceInfo: { name: "x" } });
  assert.equal(answer?.resultCode, 200);
  const pushed = c.received.find((m) => m.type === "NotifySubscriberRequest")!;
  assert.deepEqual(pushed.body.serviceInfo, { name: "x" });
  assert.deepEqual(pushed.body.headers, {}, "a server request carries the headers map the clients require");
  c.answering = false;
  const three = await Promise.all([1, 2, 3].map(() => port.request(id, "NotifySubscriberRequest", { module: "naming" })));
  assert.deepEqual(three, [undefined, undefined, undefined], "unanswered ones time out, the third was never sent");
  assert.equal(c.received.filter((m) => m.type === "NotifySubscriberRequest").length, 3, "1 answered + 2 in flight");
  assert.equal(await port.request("no-such-connection", "NotifySubscriberRequest", {}), undefined);
});

test("reset sends ConnectResetRequest naming where to go, then closes the connection; closing the port resets everyone", async () => {
  const { port, handler, client } = await portWith();
  const a = client();
  const b = client();
  await a.ready();
  await b.ready();
  const aId = handler.opened_[0]!.id;
  assert.equal(await port.reset(aId, { ip: "127.0.0.1", port: 8850 }), true);
  const reset = a.received.find((m) => m.type === "ConnectResetRequest")!;
  assert.deepEqual([reset.body.serverIp, reset.body.serverPort], ["127.0.0.1", "8850"]);
  assert.deepEqual(handler.closed_, [{ id: aId, reason: "reset" }]);
  await port.close(1_000);
  assert.ok(
    b.received.some((m) => m.type === "ConnectResetRequest"),
    "a stopping port tells its clients to move",
  );
  assert.equal(handler.closed_.length, 2);
});

test("with TLS the port speaks only TLS: a client trusting its CA is served, a plaintext one is not", async () => {
  const tlsDir = new URL("../grpc/tls/", import.meta.url);
  const read = (name: string): Buffer => readFileSync(new URL(name, tlsDir));
  const handler = new RecordingHandler();
  const port = await ClientPort.start(handler, {
    host: "127.0.0.1",
    port: 0,
    tls: { cert: read("server.pem"), key: read("server.key") },
    limits: LIMITS,
    log: quietLog,
  });
  open.push({ close: () => port.close(200) });
  const secure = new RawNacos2Client(`127.0.0.1:${port.port}`, grpc.credentials.createSsl(read("ca.pem")));
  open.push(secure);
  await secure.ready();
  assert.equal(handler.opened_.length, 1);
  const plain = new RawNacos2Client(`127.0.0.1:${port.port}`);
  open.push(plain);
  await assert.rejects(plain.call("ServerCheckRequest", {}), (err: { code?: number }) => err.code === grpc.status.UNAVAILABLE);
});
