/**
 * What strangers can make the push machinery do: nothing for datagrams from addresses that await no ack
 * (they are dropped unread), little for gzip bombs (cut after a few KiB), and no pushes to a third party (a
 * push goes where the poll came from, not where the request says). Subscriptions are capped per client and per
 * service, and a target that never acks is no longer pushed to.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { createHttpApp } from "../../src/api/app.js";
import { silentLog } from "../../src/core/log.js";
import { DEFAULT_SERVICE_META } from "../../src/core/service-datum.js";
import { serviceKey } from "../../src/core/naming.js";
import { Registry } from "../../src/core/registry.js";
import { MAX_ACK_BYTES, parseAckStamp } from "../../src/push/push-packet.js";
import { PushService, type PushConfig } from "../../src/push/push-service.js";
import { UdpPushChannel } from "../../src/push/udp-push-channel.js";
import { RealScheduler } from "../../src/runtime/real-scheduler.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { nodeContext, standaloneNode } from "../support/node-context.js";
import { FakePushChannel, JAVA_CLIENT_AGENT, SERVICE, instance, pushSource, subscriber } from "./push-fixtures.js";
import { PUSH_CONFIG } from "../../src/runtime/options.js";

const closers: Array<() => unknown> = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function udp(host: string, port = 0): Promise<{ socket: Socket; port: number; received: Array<{ from: string; bytes: number }> }> {
  const socket = createSocket("udp4");
  const received: Array<{ from: string; bytes: number }> = [];
  socket.on("message", (msg, from) => received.push({ from: `${from.address}:${from.port}`, bytes: msg.length }));
  socket.bind(port, host);
  await once(socket, "listening");
  closers.push(() => socket.close());
  return { socket, port: socket.address().port, received };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("an ack of more than a few KiB, on the wire or unpacked, is no ack", () => {
  const ack = (padding: number): string => JSON.stringify({ type: "push-ack", lastRefTime: 1234, data: " ".repeat(padding) });
  assert.equal(parseAckStamp(Buffer.from(ack(100))), 1234);
  assert.equal(parseAckStamp(gzipSync(ack(100))), 1234);
  assert.equal(parseAckStamp(Buffer.from(ack(MAX_ACK_BYTES))), undefined, "too long as it came");
  assert.equal(parseAckStamp(gzipSync(ack(MAX_ACK_BYTES))), undefined, "small gzip, too long unpacked");
  const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024), { level: 9 });
  assert.ok(bomb.length < 64 * 1024);
  assert.equal(parseAckStamp(bomb), undefined);
});

test("datagrams from an address no push awaits an ack from are dropped unread; the subscriber's ack still settles", async () => {
  const scheduler = new RealScheduler();
  closers.push(() => scheduler.cancelAll());
  const registry = new Registry("127.0.0.1:8848", () => scheduler.now());
  const channel = await UdpPushChannel.open(silentLog, { host: "127.0.0.1" });
  closers.push(() => channel.close());
  const push = new PushService(scheduler, pushSource(registry), channel, { ...PUSH_CONFIG, coalesceWindowMs: 10 }, silentLog);
  closers.push(() => push.close());
  const client = await udp("127.0.0.1");
  client.socket.on("message", (msg, from) => {
    const { lastRefTime } = JSON.parse(msg.toString()) as { lastRefTime: number };
    client.socket.send(JSON.stringify({ type: "push-ack", lastRefTime, data: "" }), from.port, from.address);
  });
  push.subscribe(subscriber(client.port));
  const stranger = await udp("127.0.0.1");
  const bomb = gzipSync(Buffer.alloc(32 * 1024 * 1024), { level: 9 });
  for (let n = 0; n < 20; n++) {
    stranger.socket.send(bomb, channel.port, "127.0.0.1");
    await new Promise((resolve) => setTimeout(resolve, 5)); // within the socket's receive buffer
  }
  await waitFor(() => channel.unsolicited === 20, "every stranger's datagram dropped");
  registry.commit(serviceKey(SERVICE), { deleted: false, meta: DEFAULT_SERVICE_META, instances: [instance("192.0.2.1", 80)] });
  await waitFor(() => push.stats().acked === 1, "the subscriber's ack");
  assert.equal(channel.unsolicited, 20);
});

/** A standalone node's HTTP app with real UDP push on loopback. */
async function pushingApp(trustedProxies: readonly string[] = [], config: Partial<PushConfig> = {}) {
  const scheduler = new RealScheduler();
  closers.push(() => scheduler.cancelAll());
  const node = standaloneNode(scheduler);
  await node.start();
  closers.push(() => node.close());
  const channel = await UdpPushChannel.open(silentLog, { host: "127.0.0.1" });
  closers.push(() => channel.close());
  const push = new PushService(scheduler, node, channel, { ...PUSH_CONFIG, coalesceWindowMs: 10, ...config }, silentLog);
  closers.push(() => push.close());
  const app = createHttpApp(nodeContext(node, { push }), { trustedProxies });
  closers.push(() => app.close());
  const poll = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    app.inject({
      method: "GET",
      url: `/nacos/v1/ns/instance/list?${new URLSearchParams({ serviceName: "orders", ...params })}`,
      headers: { "user-agent": JAVA_CLIENT_AGENT, ...headers },
      remoteAddress: "127.0.0.1",
    });
  const change = (port: number) =>
    app.inject({ method: "POST", url: `/nacos/v1/ns/instance?serviceName=orders&ip=192.0.2.1&port=${port}`, remoteAddress: "127.0.0.1" });
  return { poll, change, push };
}

test("a push goes to the address the poll came from, never to the clientIP a request names", async () => {
  const third = await udp("127.0.0.2");
  const caller = await udp("127.0.0.1", third.port).catch(() => undefined);
  if (caller === undefined) return assert.fail(`port ${third.port} is taken on 127.0.0.1; rerun`);
  const { poll, change } = await pushingApp();
  const answer = await poll({ clientIP: "127.0.0.2", udpPort: String(third.port) });
  assert.equal(answer.statusCode, 200);
  await change(1);
  await waitFor(() => caller.received.length > 0, "the push at the caller's own address");
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(third.received, [], "nothing was sent to the third address");
});

test("behind a proxy the operator trusts, the push goes to the client X-Forwarded-For names", async () => {
  const client = await udp("127.0.0.3");
  const { poll, change } = await pushingApp(["127.0.0.1"]);
  await poll({ udpPort: String(client.port) }, { "x-forwarded-for": "127.0.0.3" });
  await change(2);
  await waitFor(() => client.received.length > 0, "the push at the forwarded client");
});

test("X-Forwarded-For from a proxy nobody trusts is ignored", async () => {
  const client = await udp("127.0.0.3");
  const { poll, push } = await pushingApp();
  await poll({ udpPort: String(client.port) }, { "x-forwarded-for": "127.0.0.3" });
  assert.deepEqual(
    push.subscribersOf({ namespaceId: "public", groupedName: "DEFAULT_GROUP@@orders" }).map((s) => s.ip),
    ["127.0.0.1"],
  );
});

test("subscriptions are capped per client and per service; a refused one is told to poll at the normal rate", async () => {
  const { poll } = await pushingApp([], { maxSubscriptionsPerClient: 2, maxSubscriptionsPerService: 1 });
  const cacheOf = async (params: Record<string, string>) => ((await poll(params)).json() as { cacheMillis: number }).cacheMillis;
  assert.equal(await cacheOf({ serviceName: "a", udpPort: "40001" }), 10_000, "pushed: the push poll period");
  assert.equal(await cacheOf({ serviceName: "a", udpPort: "40002" }), 3_000, "the service's one subscription is taken");
  assert.equal(await cacheOf({ serviceName: "b", udpPort: "40001" }), 10_000);
  assert.equal(await cacheOf({ serviceName: "c", udpPort: "40001" }), 3_000, "the client's two subscriptions are taken");
  assert.equal(await cacheOf({ serviceName: "a", udpPort: "40001" }), 10_000, "refreshing an existing one is always fine");
});

test("a target that never acks is dropped after a few failed pushes and may not subscribe again for a while", async () => {
  const scheduler = new VirtualScheduler();
  const registry = new Registry("127.0.0.1:8848", () => scheduler.now());
  const channel = new FakePushChannel();
  const config = { ...PUSH_CONFIG, maxFailedPushes: 3, mutedForMs: 60_000 };
  const push = new PushService(scheduler, pushSource(registry), channel, config, silentLog);
  const silent = subscriber(5001);
  assert.equal(push.subscribe(silent), true);
  for (let n = 0; n < 3; n++) {
    push.subscribe(silent); // it keeps polling, so it is no zombie
    registry.commit(serviceKey(SERVICE), { deleted: false, meta: DEFAULT_SERVICE_META, instances: [instance("192.0.2.1", 80 + n)] });
    await scheduler.advance(25_000); // the push, its resend after 10 s, failed after 20 s
  }
  assert.equal(push.stats().failed, 3);
  assert.equal(push.stats().subscribers, 0, "dropped");
  assert.equal(push.stats().mutedTargets, 1);
  const sentBefore = channel.sent.length;
  assert.equal(push.subscribe(silent), false, "muted");
  registry.commit(serviceKey(SERVICE), { deleted: false, meta: DEFAULT_SERVICE_META, instances: [] });
  await scheduler.advance(30_000);
  assert.equal(channel.sent.length, sentBefore, "nothing more is sent to it");
  await scheduler.advance(40_000);
  assert.equal(push.subscribe(silent), true, "welcome again once the mute is over");
  push.close();
});
