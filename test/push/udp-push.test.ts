import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { test } from "node:test";
import { silentLog } from "../../src/core/log.js";
import { serviceKey } from "../../src/core/naming.js";
import { Registry } from "../../src/core/registry.js";
import { DEFAULT_SERVICE_META } from "../../src/core/service-datum.js";
import { PushService } from "../../src/push/push-service.js";
import { UdpPushChannel } from "../../src/push/udp-push-channel.js";
import { RealScheduler } from "../../src/runtime/real-scheduler.js";
import {
  ackLikeNacosClient,
  decodeLikeNacosClient,
  instance,
  isGzip,
  pushSource,
  SERVICE,
  subscriber,
  type ReceivedPush,
} from "./push-fixtures.js";
import { PUSH_CONFIG } from "../../src/runtime/options.js";

const KEY = serviceKey(SERVICE);

interface ClientView {
  dom: string;
  cacheMillis: number;
  hosts: Array<{ ip: string }>;
}

/** A UDP endpoint doing what nacos-naming's PushReceiver does, bound to loopback only. */
class NpmClientReceiver {
  readonly received: Array<{ gzipped: boolean; push: ReceivedPush; view: ClientView }> = [];

  private constructor(readonly socket: Socket) {
    socket.on("message", (msg, from) => {
      const push = decodeLikeNacosClient(msg);
      if (push.type !== "dom") return;
      // processServiceJSON: `data` is itself JSON text.
      this.received.push({ gzipped: isGzip(msg), push, view: JSON.parse(push.data) as ClientView });
      socket.send(ackLikeNacosClient(push), from.port, from.address);
    });
  }

  static async open(): Promise<NpmClientReceiver> {
    const socket = createSocket("udp4");
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    return new NpmClientReceiver(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  async close(): Promise<void> {
    this.socket.close();
    await once(this.socket, "close");
  }
}

/** Polls `condition` every 10 ms for at most `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function setup() {
  const scheduler = new RealScheduler();
  const registry = new Registry("127.0.0.1:8848", () => scheduler.now());
  const channel = await UdpPushChannel.open(silentLog, { host: "127.0.0.1" });
  const config = { ...PUSH_CONFIG, coalesceWindowMs: 20, ackTimeoutMs: 3_000 };
  const push = new PushService(scheduler, pushSource(registry), channel, config, silentLog);
  const client = await NpmClientReceiver.open();
  const write = (count: number): void => {
    const instances = Array.from({ length: count }, (_, i) => instance(`10.3.0.${i}`, 8080, { metadata: { rack: `r${i}` } }));
    registry.commit(KEY, { deleted: false, meta: DEFAULT_SERVICE_META, instances });
  };
  const close = async (): Promise<void> => {
    push.close();
    scheduler.cancelAll();
    await Promise.all([channel.close(), client.close()]);
  };
  return { channel, push, client, write, close };
}

test("over real UDP: gzip and plain pushes reach an npm-style client and its acks settle them", async (t) => {
  const { push, client, write, close } = await setup();
  t.after(close);
  push.subscribe(subscriber(client.port));

  write(40);
  await waitFor(() => push.stats().acked === 1, "the ack of the gzipped push");
  const large = client.received[0]!;
  assert.equal(large.gzipped, true);
  assert.equal(large.view.dom, SERVICE.groupedName);
  assert.equal(large.view.cacheMillis, 10_000);
  assert.equal(large.view.hosts.length, 40);

  write(1);
  await waitFor(() => push.stats().acked === 2, "the ack of the plain push");
  const small = client.received[1]!;
  assert.equal(small.gzipped, false);
  assert.deepEqual(
    small.view.hosts.map((h) => h.ip),
    ["10.3.0.0"],
  );
  assert.ok(small.push.lastRefTime > large.push.lastRefTime);
  assert.equal(push.stats().retried, 0);
  assert.equal(push.stats().failed, 0);
});

test("over real UDP: a dead subscriber does not hold up a live one", async (t) => {
  const { push, client, write, close } = await setup();
  t.after(close);
  const gone = await NpmClientReceiver.open();
  const deadPort = gone.port;
  await gone.close();
  push.subscribe(subscriber(deadPort));
  push.subscribe(subscriber(client.port));
  write(3);
  await waitFor(() => push.stats().acked === 1, "the live subscriber's ack");
  assert.equal(client.received.length, 1);
  assert.equal(push.stats().awaitingAck, 1, "the dead one is still waiting for its ack timeout");
});

test("the channel ignores garbage, and a send it cannot make resolves false instead of throwing", async (t) => {
  const { channel, push, client, write, close } = await setup();
  t.after(close);
  const target = { port: channel.port, address: "127.0.0.1" };
  for (const garbage of ["", "{", "null", '{"lastRefTime":"x"}', "\u001f\u008b broken gzip"]) {
    client.socket.send(Buffer.from(garbage, "latin1"), target.port, target.address);
  }
  push.subscribe(subscriber(client.port));
  write(2);
  await waitFor(() => push.stats().acked === 1, "a push acked after the garbage");

  assert.equal(await channel.send(Buffer.from("{}"), "127.0.0.1", 0), false);
  assert.equal(await channel.send(Buffer.from("{}"), "127.0.0.1", 70_000), false);
  await channel.close();
  assert.equal(await channel.send(Buffer.from("{}"), "127.0.0.1", client.port), false);
});
