import assert from "node:assert/strict";
import { test } from "node:test";
import type { Instance } from "../../src/core/instance.js";
import { silentLog } from "../../src/core/log.js";
import { serviceKey } from "../../src/core/naming.js";
import { Registry } from "../../src/core/registry.js";
import { DEFAULT_SERVICE_META, type ServiceDatum } from "../../src/core/service-datum.js";
import { buildListView, type ListQuery } from "../../src/core/service-view.js";
import { defaultSwitches } from "../../src/core/switches.js";
import { PushService, type PushConfig } from "../../src/push/push-service.js";
import type { Subscriber } from "../../src/push/subscriber.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { FakePushChannel, instance, isGzip, pushSource, SERVICE, subscriber } from "./push-fixtures.js";
import { PUSH_CONFIG } from "../../src/runtime/options.js";

const KEY = serviceKey(SERVICE);

/** A push service over a registry that is complete unless `complete` is false (then `source.finish()` completes it). */
function setup(config: Partial<PushConfig> = {}, complete = true) {
  const scheduler = new VirtualScheduler();
  const registry = new Registry("127.0.0.1:8848", () => scheduler.now());
  const switches = defaultSwitches();
  const channel = new FakePushChannel();
  const source = pushSource(registry, switches, complete);
  const push = new PushService(scheduler, source, channel, { ...PUSH_CONFIG, ...config }, silentLog);
  const write = (...instances: Instance[]): boolean => registry.commit(KEY, { deleted: false, meta: DEFAULT_SERVICE_META, instances });
  return { scheduler, registry, switches, channel, source, push, write };
}

/** When a pushed answer was built: its own `lastRefTime`. */
const builtAt = (data: string): number => (JSON.parse(data) as { lastRefTime: number }).lastRefTime;

/** What a poll by `s` at `now` would have answered, with the push poll period. */
function expectedData(datum: ServiceDatum | undefined, s: Subscriber, now: number, groupedNames = true): string {
  const query: ListQuery = {
    groupedName: s.service.groupedName,
    clusters: s.clusters,
    healthyOnly: s.healthyOnly,
    env: s.env,
    groupedNamesForClient: groupedNames,
    cacheMillis: 10_000,
    lastRefTime: now,
  };
  return JSON.stringify(buildListView(datum, query));
}

test("a change to a quiet service is pushed at once; a burst after it leaves as one push when the window closes", async () => {
  // Two subscribers at 2 datagrams/s: a window of 1 s.
  const { scheduler, registry, channel, push, write } = setup({ pushesPerServicePerSecond: 2 });
  const a = subscriber(5001);
  const b = subscriber(5002, { clusters: "DEFAULT" });
  push.subscribe(a);
  push.subscribe(b);
  write(instance("192.0.2.101", 80));
  write(instance("192.0.2.101", 80), instance("192.0.2.102", 80));
  await scheduler.advance(0);
  assert.equal(channel.sent.length, 2, "one push per subscriber for the changes of one turn, with no wait");
  await scheduler.advance(300);
  write(instance("192.0.2.102", 80));
  await scheduler.advance(300);
  write(instance("192.0.2.103", 80));
  await scheduler.advance(399);
  assert.equal(channel.sent.length, 2, "changes after a push wait for the window");
  await scheduler.advance(1);
  assert.equal(channel.sent.length, 4);
  const toA = channel.sentTo("127.0.0.1", 5001)[1]!.push;
  assert.equal(toA.type, "dom");
  assert.equal(toA.data, expectedData(registry.get(KEY), a, builtAt(toA.data)));
  assert.deepEqual(
    (JSON.parse(toA.data) as { hosts: Array<{ ip: string }> }).hosts.map((h) => h.ip),
    ["192.0.2.103"],
    "the burst left as one push carrying the latest data",
  );
  await scheduler.advance(5_000);
  assert.equal(channel.sent.length, 4, "nothing changed after the push, so nothing more is sent");
  write(instance("192.0.2.104", 80));
  await scheduler.advance(0);
  assert.equal(channel.sent.length, 6, "quiet again: the next change leaves at once");
  push.close();
});

test("the window is tens of ms for a few subscribers and grows with them to keep a service's push budget", async () => {
  const burstDelay = async (subscribers: number): Promise<number> => {
    const { scheduler, channel, push, write } = setup({ maxSubscriptionsPerClient: 10_000 });
    for (let n = 0; n < subscribers; n++) push.subscribe(subscriber(5001 + n));
    write(instance("192.0.2.101", 80));
    await scheduler.advance(0);
    assert.equal(channel.sent.length, subscribers, "the first change leaves at once");
    write(instance("192.0.2.102", 80));
    const start = scheduler.now();
    while (channel.sent.length === subscribers && scheduler.now() - start <= 2_000) await scheduler.advance(1);
    push.close();
    return scheduler.now() - start;
  };
  assert.equal(await burstDelay(1), PUSH_CONFIG.minCoalesceWindowMs);
  assert.equal(await burstDelay(100), PUSH_CONFIG.minCoalesceWindowMs);
  assert.equal(await burstDelay(2_500), (1_000 * 2_500) / PUSH_CONFIG.pushesPerServicePerSecond);
  assert.equal(await burstDelay(8_000), PUSH_CONFIG.coalesceWindowMs, "never longer than 1.4's window");
});

/** One subscriber (port 5001) and one write; resolves `ms` later. */
async function oneWrite(ms: number, prepare: (ctx: ReturnType<typeof setup>) => void = () => {}) {
  const ctx = setup();
  prepare(ctx);
  ctx.push.subscribe(subscriber(5001));
  ctx.write(instance("192.0.2.101", 80));
  await ctx.scheduler.advance(ms);
  return ctx;
}

test("how one push ends, by what the subscriber and the network do", async () => {
  type Channel = ReturnType<typeof setup>["channel"];
  const cases: Array<{ what: string; failing?: boolean; ackAt?: number; ack?: (c: Channel) => void; expect: Record<string, number> }> = [
    {
      what: "acked: settled, never resent",
      ackAt: 1_000,
      ack: (c) => c.ack(c.sent[0]!),
      expect: { sent: 1, acked: 1, retried: 0, failed: 0, sendErrors: 0 },
    },
    {
      what: "the resend acked: settled",
      ackAt: 10_000,
      ack: (c) => c.ack(c.sent[1]!),
      expect: { sent: 2, acked: 1, retried: 1, failed: 0, sendErrors: 0 },
    },
    { what: "never acked: resent once, then failed", expect: { sent: 2, acked: 0, retried: 1, failed: 1, sendErrors: 0 } },
    {
      what: "refused by the network: an error, treated as lost",
      failing: true,
      expect: { sent: 2, acked: 0, retried: 1, failed: 1, sendErrors: 2 },
    },
  ];
  for (const c of cases) {
    const { scheduler, channel, push } = await oneWrite(c.ackAt ?? 0, (ctx) => {
      if (c.failing === true) ctx.channel.failing.add("127.0.0.1:5001");
    });
    c.ack?.(channel);
    await scheduler.advance(60_000 - (c.ackAt ?? 0));
    const stats = push.stats();
    const got = Object.fromEntries(
      Object.keys(c.expect)
        .filter((k) => k !== "sent")
        .map((k) => [k, stats[k as keyof typeof stats]]),
    );
    assert.deepEqual({ sent: channel.sent.length, ...got }, c.expect, c.what);
    assert.equal(stats.awaitingAck, 0, c.what);
    push.close();
  }
});

test("an acked push's cost (first send to ack) shows once its 15-s window is complete", async () => {
  const { scheduler, channel, push } = await oneWrite(0);
  await scheduler.advance(120);
  channel.ack(channel.sent[0]!);
  assert.equal(push.stats().maxPushCostMs, -1, "the window is still open");
  await scheduler.advance(15_000);
  assert.deepEqual([push.stats().maxPushCostMs, push.stats().avgPushCostMs], [120, 120]);
  push.close();
});

test("an unacknowledged push is resent exactly once after the ack timeout, then counted as failed", async () => {
  const { scheduler, channel, push } = await oneWrite(0);
  assert.equal(channel.sent.length, 1);
  await scheduler.advance(9_999);
  assert.equal(channel.sent.length, 1, "no resend before the ack timeout");
  await scheduler.advance(1);
  assert.equal(channel.sent.length, 2);
  const [first, resend] = channel.sent;
  assert.deepEqual(resend!.datagram, first!.datagram, "the resend is the same datagram, same lastRefTime");
  assert.equal(push.stats().retried, 1);
  assert.equal(push.stats().failed, 0);
  await scheduler.advance(10_000);
  assert.equal(push.stats().failed, 1);
  assert.equal(push.stats().awaitingAck, 0);
  await scheduler.advance(60_000);
  assert.equal(channel.sent.length, 2, "never a third send");
  channel.ack(first!);
  assert.equal(push.stats().acked, 0, "a late ack after failure matches nothing");
  push.close();
});

test("a subscriber is listed with the time of its last poll", async () => {
  const { scheduler, push } = setup();
  const start = scheduler.now();
  push.subscribe(subscriber(5001));
  await scheduler.advance(7_000);
  assert.deepEqual(
    push.subscribersOf(SERVICE).map((s) => [s.udpPort, s.polledAt]),
    [[5001, start]],
  );
  push.subscribe(subscriber(5001));
  assert.deepEqual(
    push.subscribersOf(SERVICE).map((s) => [s.udpPort, s.polledAt]),
    [[5001, start + 7_000]],
    "a poll refreshes it",
  );
  push.close();
});

test("a subscriber not refreshed for 3 poll periods (30 s) is dropped by the sweep and never pushed", async () => {
  const { scheduler, channel, push, write } = setup();
  push.subscribe(subscriber(5001));
  await scheduler.advance(30_000);
  assert.equal(push.subscribersOf(SERVICE).length, 1, "still alive at exactly the timeout");
  await scheduler.advance(10_000);
  assert.equal(push.stats().subscribers, 0, "the 40 s sweep dropped it");
  write(instance("192.0.2.101", 80));
  await scheduler.advance(2_000);
  assert.equal(channel.sent.length, 0);
  push.close();
});

test("a zombie is dropped at push time even before the sweep", async () => {
  const { scheduler, channel, push, write } = setup({ sweepPeriodMs: 3_600_000 });
  push.subscribe(subscriber(5001));
  push.subscribe(subscriber(5002));
  await scheduler.advance(25_000);
  push.subscribe(subscriber(5002));
  await scheduler.advance(6_000);
  assert.equal(push.stats().subscribers, 2, "no sweep has run yet");
  write(instance("192.0.2.101", 80));
  await scheduler.advance(1_000);
  assert.deepEqual(
    channel.sent.map((s) => s.port),
    [5002],
  );
  assert.equal(push.stats().subscribers, 1);
  push.close();
});

test("polls keep a subscriber alive well past the zombie timeout", async () => {
  const { scheduler, channel, push, write } = setup();
  for (let i = 0; i < 12; i++) {
    push.subscribe(subscriber(5001));
    await scheduler.advance(10_000);
  }
  assert.equal(push.stats().subscribers, 1);
  write(instance("192.0.2.101", 80));
  await scheduler.advance(1_000);
  assert.equal(channel.sent.length, 1);
  push.close();
});

test("the zombie timeout follows the pushCacheMillis switch unless configured", async () => {
  const derived = setup();
  derived.switches.defaultPushCacheMillis = 20_000;
  derived.push.subscribe(subscriber(5001));
  await derived.scheduler.advance(60_000);
  assert.equal(derived.push.subscribersOf(SERVICE).length, 1);
  await derived.scheduler.advance(1);
  assert.equal(derived.push.subscribersOf(SERVICE).length, 0);
  derived.push.close();

  const fixed = setup({ zombieTimeoutMs: 5_000 });
  fixed.push.subscribe(subscriber(5001));
  await fixed.scheduler.advance(5_001);
  assert.equal(fixed.push.subscribersOf(SERVICE).length, 0);
  fixed.push.close();
});

test("small answers go out as plain JSON, answers of 1 KB or more gzipped; data is the polled answer", async () => {
  const { scheduler, registry, channel, push, write } = setup();
  const s = subscriber(5001);
  push.subscribe(s);
  write(instance("192.0.2.101", 80));
  await scheduler.advance(1_000);
  const small = channel.sent[0]!;
  assert.equal(isGzip(small.datagram), false);
  assert.ok(small.datagram.length < 1024);
  assert.equal(small.push.data, expectedData(registry.get(KEY), s, builtAt(small.push.data)));

  const many = Array.from({ length: 40 }, (_, i) => instance(`10.2.0.${i}`, 8080, { metadata: { zone: `z${i % 3}` } }));
  write(...many);
  await scheduler.advance(1_000);
  const large = channel.sent[1]!;
  assert.equal(isGzip(large.datagram), true);
  assert.ok(Buffer.from(JSON.stringify(large.push)).length >= 1024);
  assert.equal(large.push.data, expectedData(registry.get(KEY), s, builtAt(large.push.data)));
  push.close();
});

test("lastRefTime is a safe integer, unique and increasing across pushes and subscribers", async () => {
  const { scheduler, channel, push, write } = setup();
  for (let port = 5001; port <= 5010; port++) push.subscribe(subscriber(port));
  for (let i = 0; i < 5; i++) {
    write(instance(`10.1.0.${i}`, 80));
    await scheduler.advance(1_000);
  }
  assert.equal(channel.sent.length, 50);
  const stamps = channel.sent.map((s) => s.push.lastRefTime);
  for (const stamp of stamps) {
    assert.ok(Number.isSafeInteger(stamp) && stamp < 2 ** 53, `${stamp}`);
  }
  for (let i = 1; i < stamps.length; i++) assert.ok(stamps[i]! > stamps[i - 1]!, "strictly increasing");
  push.close();
});

test("a subscriber whose sends hang and who never acks delays no one", async () => {
  const { scheduler, channel, push, write } = setup();
  channel.hanging.add("127.0.0.1:5001");
  push.subscribe(subscriber(5001));
  push.subscribe(subscriber(5002));
  for (let round = 1; round <= 3; round++) {
    write(instance(`10.1.0.${round}`, 80));
    await scheduler.advance(1_000);
    const toHealthy = channel.sentTo("127.0.0.1", 5002);
    assert.equal(toHealthy.length, round, `round ${round}: pushed when the window closed`);
    channel.ack(toHealthy.at(-1)!);
  }
  assert.equal(push.stats().acked, 3);
  push.close();
});

test("replicated changes (registry.apply from a peer) are pushed too", async () => {
  const { scheduler, registry, channel, push } = setup();
  const s = subscriber(5001);
  push.subscribe(s);
  const peer = new Registry("127.0.0.2:8848", () => scheduler.now());
  peer.commit(KEY, { deleted: false, meta: DEFAULT_SERVICE_META, instances: [instance("198.51.100.91", 80)] });
  assert.equal(registry.apply(peer.get(KEY)!), "applied");
  await scheduler.advance(1_000);
  assert.equal(channel.sent.length, 1);
  assert.equal(channel.sent[0]!.push.data, expectedData(registry.get(KEY), s, builtAt(channel.sent[0]!.push.data)));
  assert.equal((JSON.parse(channel.sent[0]!.push.data) as { hosts: unknown[] }).hosts.length, 1);
  registry.forget(KEY);
  await scheduler.advance(1_000);
  assert.equal(channel.sent.length, 2, "forgetting the service is a change too");
  assert.deepEqual((JSON.parse(channel.sent[1]!.push.data) as { hosts: unknown[] }).hosts, []);
  push.close();
});

test("pushEnabled=false: new subscribers are refused and pending pushes are not sent", async () => {
  const { scheduler, switches, channel, push, write } = setup();
  push.subscribe(subscriber(5001));
  switches.pushEnabled = false;
  push.subscribe(subscriber(5002));
  assert.deepEqual(
    push.subscribersOf(SERVICE).map((s) => s.udpPort),
    [5001],
  );
  write(instance("192.0.2.101", 80));
  await scheduler.advance(5_000);
  assert.equal(channel.sent.length, 0);
  switches.pushEnabled = true;
  write(instance("192.0.2.102", 80));
  await scheduler.advance(1_000);
  assert.deepEqual(
    channel.sent.map((s) => s.port),
    [5001],
  );
  push.close();
});

test("agents: grouped names for Java ≥ 1.0.0, bare names for others, no push below the minimum", async () => {
  const { scheduler, registry, channel, push, write } = setup();
  const go = subscriber(5002, { agent: "Nacos-Go-Client:v1.1.0" });
  push.subscribe(subscriber(5001));
  push.subscribe(go);
  push.subscribe(subscriber(5003, { agent: "Nacos-SDK-Java:v2.0.0" }));
  push.subscribe(subscriber(5004, { agent: "curl/8.0" }));
  push.subscribe(subscriber(5005, { agent: "Nacos-C-Client:v1.0.11" }));
  assert.deepEqual(
    push.subscribersOf(SERVICE).map((s) => s.udpPort),
    [5001, 5002],
  );
  write(instance("192.0.2.101", 80));
  await scheduler.advance(1_000);
  const dom = (port: number): string => (JSON.parse(channel.sentTo("127.0.0.1", port)[0]!.push.data) as { dom: string }).dom;
  assert.equal(dom(5001), "DEFAULT_GROUP@@orders");
  assert.equal(dom(5002), "orders");
  assert.equal(
    channel.sentTo("127.0.0.1", 5002)[0]!.push.data,
    expectedData(registry.get(KEY), go, builtAt(channel.sentTo("127.0.0.1", 5002)[0]!.push.data), false),
  );
  push.close();
});

test("a target (ip:port) holds one subscription per service: one datagram per change, whatever filters it polls", async () => {
  const { scheduler, channel, push, write } = setup();
  assert.equal(push.subscribe(subscriber(5001)), true);
  assert.equal(push.subscribe(subscriber(5001, { healthyOnly: true })), true, "a repeat refreshes");
  assert.equal(push.subscribersOf(SERVICE)[0]!.healthyOnly, true, "the latest query is kept");
  for (let i = 0; i < 50; i++) assert.equal(push.subscribe(subscriber(5001, { clusters: `c${i}` })), false);
  assert.equal(push.subscribe(subscriber(5001, { agent: "Nacos-Java-Client:v1.4.1" })), false, "another agent files answers elsewhere");
  assert.equal(push.stats().refusedSubscriptions, 51);
  assert.equal(push.subscribe(subscriber(5002, { clusters: "A" })), true, "another port is another target");
  assert.equal(push.subscribe(subscriber(5001, { ip: "127.0.0.2", clusters: "A" })), true, "so is another address");
  push.subscribe(subscriber(0));
  push.subscribe(subscriber(5009, { ip: "" }));
  assert.equal(push.stats().subscribers, 3, "no address, no subscriber");

  write(instance("192.0.2.101", 80, { clusterName: "A" }));
  await scheduler.advance(0);
  assert.deepEqual(
    channel.sentTo("127.0.0.1", 5001).map((s) => (JSON.parse(s.push.data) as { clusters: string }).clusters),
    [""],
    "one datagram, the first filter's answer",
  );
  assert.equal(channel.sent.length, 3);

  // The first filter stops polling; the other goes on, and takes the target over once the first is a zombie.
  for (let t = 0; t < 30_000; t += 3_000) {
    await scheduler.advance(3_000);
    assert.equal(push.subscribe(subscriber(5001, { clusters: "A" })), t + 3_000 > 30_000);
  }
  await scheduler.advance(1);
  assert.equal(push.subscribe(subscriber(5001, { clusters: "A" })), true, "the zombie gave way");
  assert.equal(push.subscribersOf(SERVICE).length, 1, "the other two targets went quiet too");
  const before = channel.sent.length;
  write(instance("192.0.2.102", 80, { clusterName: "A" }));
  await scheduler.advance(0);
  assert.deepEqual(
    channel.sent.slice(before).map((s) => [s.port, (JSON.parse(s.push.data) as { clusters: string }).clusters]),
    [[5001, "A"]],
  );
  push.close();
});

test("a dropped subscription takes its unacknowledged push along: no resend to a client that stopped polling", async () => {
  const { scheduler, channel, push, write } = setup({ ackTimeoutMs: 20_000 });
  push.subscribe(subscriber(5001));
  await scheduler.advance(25_000);
  write(instance("192.0.2.101", 80));
  await scheduler.advance(0);
  assert.equal(push.stats().awaitingAck, 1, "pushed at 25 s, its resend due at 45 s");
  await scheduler.advance(25_000); // the sweep at 40 s finds it silent for 30 s
  assert.equal(push.stats().subscribers, 0);
  assert.equal(push.stats().awaitingAck, 0);
  assert.equal(channel.sentTo("127.0.0.1", 5001).length, 1, "never resent");
  push.close();
});

test("a newer push replaces an unacknowledged older one, whose resend would roll the client back", async () => {
  const { scheduler, channel, push, write } = await oneWrite(6_000);
  write(instance("192.0.2.102", 80));
  await scheduler.advance(0);
  assert.equal(channel.sent.length, 2);
  await scheduler.advance(9_999);
  assert.equal(channel.sent.length, 2, "the older push's resend (due at 10 s) was cancelled");
  await scheduler.advance(1);
  assert.equal(channel.sent.length, 3, "only the newer push is resent, 10 s after it was sent");
  assert.deepEqual(channel.sent[2]!.datagram, channel.sent[1]!.datagram);
  channel.ack(channel.sent[0]!);
  assert.equal(push.stats().acked, 0, "the superseded push's ack matches nothing");
  assert.equal(push.stats().superseded, 1);
  push.close();
});

test("changes to a service nobody subscribed to schedule nothing; close cancels every timer", async () => {
  const { scheduler, push, write } = setup();
  const idle = scheduler.pending;
  write(instance("192.0.2.101", 80));
  assert.equal(scheduler.pending, idle, "no push timer for a service without subscribers");
  push.subscribe(subscriber(5001));
  write(instance("192.0.2.102", 80));
  await scheduler.advance(1_000);
  write(instance("192.0.2.103", 80));
  assert.ok(scheduler.pending > idle);
  push.close();
  assert.equal(scheduler.pending, 0);
  push.subscribe(subscriber(5001));
  write(instance("192.0.2.104", 80));
  assert.equal(scheduler.pending, 0, "a closed service ignores subscribes and changes");
});

test("nothing is pushed from a registry still loading; once complete, every subscribed service is pushed its whole view", async () => {
  const { scheduler, registry, channel, source, push, write } = setup({}, false);
  const other: typeof SERVICE = { ...SERVICE, groupedName: "DEFAULT_GROUP@@quiet" };
  push.subscribe(subscriber(5001));
  push.subscribe(subscriber(5001, { service: other }));
  const loaded: Instance[] = [];
  for (let i = 1; i <= 100; i++) {
    loaded.push(instance(`192.0.2.${i}`, 80)); // the snapshot arrives piece by piece
    write(...loaded);
    await scheduler.advance(50);
  }
  assert.equal(channel.sent.length, 0, "no partial view left while loading");
  source.finish();
  await scheduler.advance(0);
  const pushed = channel.sent.map((s) => JSON.parse(s.push.data) as { name: string; hosts: unknown[] });
  assert.deepEqual(
    pushed.map((p) => [p.name, p.hosts.length]).sort(),
    [
      [SERVICE.groupedName, 100],
      [other.groupedName, 0],
    ],
    "each subscribed service once, complete",
  );
  assert.equal(registry.get(KEY)!.instances.length, 100);
  write(...loaded.slice(1));
  await scheduler.advance(1_000);
  assert.equal(channel.sentTo("127.0.0.1", 5001).length, 3, "and changes are pushed as usual after");
  push.close();
});
