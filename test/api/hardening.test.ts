/**
 * What a client connection may hold and claim: slow or idle connections are cut by the configured timeouts,
 * connections beyond the cap are refused, and `User-Agent: Nacos-Server` counts as a peer only with the
 * cluster secret.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type Socket } from "node:net";
import { after, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { createHttpApp, type HttpLimits } from "../../src/api/app.js";
import type { ClientWrite, ClientWriter, WriteResult } from "../../src/core/ops.js";
import type { NamingNode } from "../../src/node/naming-node.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { nodeContext, standaloneNode } from "../support/node-context.js";

const closers: Array<() => unknown> = [];
after(async () => {
  for (const close of closers) await close();
});

/** A writer that records whether each write was marked as already forwarded by a peer. */
class RecordingWriter implements ClientWriter {
  readonly forwarded: boolean[] = [];
  async write(_op: ClientWrite, options?: { readonly forwarded?: boolean }): Promise<WriteResult> {
    this.forwarded.push(options?.forwarded === true);
    return { type: "ok" };
  }
}

async function appWith(
  peerSecret: string | undefined,
  limits?: HttpLimits,
): Promise<{ app: FastifyInstance; node: NamingNode; writer: RecordingWriter }> {
  const scheduler = new VirtualScheduler(1);
  const node = standaloneNode(scheduler);
  await node.start();
  const writer = new RecordingWriter();
  const app = createHttpApp(nodeContext(node, { writer, peerSecret }), limits === undefined ? {} : { limits });
  closers.push(() => app.close());
  return { app, node, writer };
}

const register = (app: FastifyInstance, headers: Record<string, string>) =>
  app.inject({ method: "POST", url: "/nacos/v1/ns/instance?serviceName=orders&ip=192.0.2.1&port=80", headers });

test("with a cluster secret, a request counts as a peer's only when it carries the secret, whatever its User-Agent", async () => {
  const { app, node, writer } = await appWith("s3cret");
  await register(app, { "user-agent": "Nacos-Server:1.4.1" });
  await register(app, { "user-agent": "Nacos-Server:1.4.1", "x-nacos-cluster-secret": "wrong" });
  await register(app, { "user-agent": "Nacos-Server:1.4.1", "x-nacos-cluster-secret": "s3cret" });
  assert.deepEqual(writer.forwarded, [false, false, true], "only the one with the secret skips routing");
  node.switches.overriddenServerStatus = "DOWN";
  assert.equal(
    (await register(app, { "user-agent": "Nacos-Server:1.4.1" })).statusCode,
    503,
    "a forged agent does not pass the status filter",
  );
  assert.equal((await register(app, { "user-agent": "Nacos-Server:1.4.1", "x-nacos-cluster-secret": "s3cret" })).statusCode, 200);
});

test("without a secret (an open cluster) the agent alone marks a peer, as in Nacos 1.4", async () => {
  const { app, writer } = await appWith(undefined);
  await register(app, { "user-agent": "Nacos-Server:1.4.1" });
  await register(app, { "user-agent": "Nacos-Java-Client:v1.4.1" });
  assert.deepEqual(writer.forwarded, [true, false]);
});

const LIMITS: HttpLimits = { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 500, maxConnections: 16 };

async function listening(limits: HttpLimits): Promise<number> {
  const { app } = await appWith(undefined, limits);
  await app.listen({ host: "127.0.0.1", port: 0 });
  return (app.server.address() as { port: number }).port;
}

/** Resolves with how long the server kept the connection open, or `undefined` if it still was after `capMs`. */
async function heldFor(socket: Socket, capMs: number): Promise<number | undefined> {
  const started = Date.now();
  const closed = once(socket, "close").then(() => Date.now() - started);
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), capMs).unref());
  const held = await Promise.race([closed, timeout]);
  socket.destroy();
  return held;
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  socket.resume(); // read what the server sends, so its close is seen
  await once(socket, "connect");
  return socket;
}

test("a client sending its headers slowly, or a body never finished, is cut after the configured timeouts", async () => {
  const port = await listening(LIMITS);
  const slowHeaders = await open(port);
  slowHeaders.write("GET /nacos/v1/ns/instance/list HTTP/1.1\r\nHost: x\r\n");
  const slowBody = await open(port);
  slowBody.write("POST /nacos/v1/ns/instance HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nserviceName=");
  const [headers, body] = await Promise.all([heldFor(slowHeaders, 8_000), heldFor(slowBody, 8_000)]);
  assert.ok(headers !== undefined, "partial headers: still open after 8 s");
  assert.ok(body !== undefined, "partial body: still open after 8 s");
});

test("an idle keep-alive connection is closed after the keep-alive timeout", async () => {
  const port = await listening(LIMITS);
  const socket = await open(port);
  socket.write("GET /nacos/v1/console/health/liveness HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
  await once(socket, "data");
  assert.ok((await heldFor(socket, 8_000)) !== undefined, "idle connection still open after 8 s");
});

test("connections beyond the cap are closed on arrival", async () => {
  const port = await listening(LIMITS);
  const sockets = await Promise.all(Array.from({ length: 24 }, () => open(port)));
  const closed = await Promise.all(sockets.map((s) => heldFor(s, 1_000)));
  const cut = closed.filter((held) => held !== undefined).length;
  assert.ok(cut >= 8, `only ${cut} of 24 connections were refused with a cap of 16`);
});
