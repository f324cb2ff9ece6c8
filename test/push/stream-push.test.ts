/**
 * Push to 2.x client connections, under a virtual clock with a scripted stream channel: the first push on
 * subscribe, the shared coalescing window, one push in flight per subscription (a slow client holds no backlog),
 * the hold while the registry is incomplete, retries, and subscriptions dropped with their connection.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Instance } from "../../src/core/instance.js";
import { silentLog } from "../../src/core/log.js";
import { serviceKey } from "../../src/core/naming.js";
import { Registry } from "../../src/core/registry.js";
import { DEFAULT_SERVICE_META } from "../../src/core/service-datum.js";
import type { ServiceInfo } from "../../src/core/service-info.js";
import { defaultSwitches } from "../../src/core/switches.js";
import { PushService, type PushConfig } from "../../src/push/push-service.js";
import type { StreamPushChannel } from "../../src/push/stream-push-channel.js";
import { PUSH_CONFIG } from "../../src/runtime/options.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { FakePushChannel, instance, pushSource, SERVICE } from "./push-fixtures.js";

const KEY = serviceKey(SERVICE);

interface StreamPush {
  readonly connectionId: string;
  readonly info: ServiceInfo;
  answer(ok: boolean): void;
}

/** Records every push; each waits until the test answers it (or answers at once when `autoAnswer`). */
class FakeStreamChannel implements StreamPushChannel {
  readonly pushes: StreamPush[] = [];
  autoAnswer: boolean | undefined = true;
  push(connectionId: string, info: ServiceInfo): Promise<boolean> {
    return new Promise((resolve) => {
      this.pushes.push({ connectionId, info, answer: resolve });
      if (this.autoAnswer !== undefined) resolve(this.autoAnswer);
    });
  }
  ips(i: number): string[] {
    return this.pushes[i]!.info.hosts.map((h) => h.ip).sort();
  }
}

function setup(config: Partial<PushConfig> = {}, complete = true) {
  const scheduler = new VirtualScheduler();
  const registry = new Registry("127.0.0.1:8848", () => scheduler.now());
  const stream = new FakeStreamChannel();
  const source = pushSource(registry, defaultSwitches(), complete);
  const push = new PushService(scheduler, source, new FakePushChannel(), { ...PUSH_CONFIG, ...config }, silentLog, stream);
  const write = (...instances: Instance[]): boolean => registry.commit(KEY, { deleted: false, meta: DEFAULT_SERVICE_META, instances });
  return { scheduler, stream, source, push, write };
}

test("a new subscription is pushed the current view at once, in 2.x's ServiceInfo; a change reaches it at once", async () => {
  const { scheduler, stream, push, write } = setup();
  write(instance("192.0.2.1", 80));
  assert.equal(push.subscribeConnection("c1", SERVICE, ""), true);
  await scheduler.advance(0);
  assert.equal(stream.pushes.length, 1);
  const first = stream.pushes[0]!;
  assert.equal(first.connectionId, "c1");
  assert.deepEqual([first.info.name, first.info.groupName, first.info.clusters], ["orders", "DEFAULT_GROUP", ""]);
  assert.equal(first.info.hosts[0]!.serviceName, "DEFAULT_GROUP@@orders");
  assert.equal(push.subscribeConnection("c1", SERVICE, ""), true, "subscribing again is idempotent ...");
  await scheduler.advance(0);
  assert.equal(stream.pushes.length, 1, "... and pushes nothing more");
  write(instance("192.0.2.1", 80), instance("192.0.2.2", 80));
  await scheduler.advance(0);
  assert.deepEqual(stream.ips(1), ["192.0.2.1", "192.0.2.2"]);
  assert.deepEqual(push.subscriptionsOf("c1"), [{ service: SERVICE, clusters: "" }]);
  const stats = push.stats();
  assert.deepEqual([stats.streamSubscribers, stats.streamSent, stats.streamAcked], [1, 2, 2]);
});

test("a slow client has one push in flight per subscription: changes meanwhile leave as one push of the newest view", async () => {
  const { scheduler, stream, push, write } = setup({ minCoalesceWindowMs: 20 });
  stream.autoAnswer = undefined;
  push.subscribeConnection("slow", SERVICE, "");
  await scheduler.advance(0);
  for (let i = 1; i <= 50; i++) {
    write(...Array.from({ length: i }, (_, n) => instance(`192.0.2.${n + 1}`, 80)));
    await scheduler.advance(25);
  }
  assert.equal(stream.pushes.length, 1, "nothing more is sent while the first push is unanswered");
  stream.pushes[0]!.answer(true);
  await scheduler.advance(0);
  assert.equal(stream.pushes.length, 2);
  assert.equal(stream.pushes[1]!.info.hosts.length, 50, "the next push carries the newest view");
});

test("nothing is pushed while the registry is incomplete; once complete every subscription gets the complete view", async () => {
  const { scheduler, stream, source, push, write } = setup({}, false);
  push.subscribeConnection("c1", SERVICE, "");
  write(instance("192.0.2.1", 80));
  await scheduler.advance(5_000);
  assert.equal(stream.pushes.length, 0);
  source.finish();
  await scheduler.advance(0);
  assert.equal(stream.pushes.length, 1);
  assert.deepEqual(stream.ips(0), ["192.0.2.1"]);
});

test("a failed push is resent once after the window, then counts as failed", async () => {
  const { scheduler, stream, push, write } = setup({ coalesceWindowMs: 1_000, maxRetries: 1 });
  stream.autoAnswer = false;
  write(instance("192.0.2.1", 80));
  push.subscribeConnection("c1", SERVICE, "");
  await scheduler.advance(0);
  assert.equal(stream.pushes.length, 1);
  await scheduler.advance(999);
  assert.equal(stream.pushes.length, 1);
  await scheduler.advance(1);
  assert.equal(stream.pushes.length, 2, "resent");
  await scheduler.advance(5_000);
  assert.equal(stream.pushes.length, 2, "once");
  const stats = push.stats();
  assert.deepEqual([stats.streamSent, stats.streamRetried, stats.streamFailed, stats.streamAcked], [1, 1, 1, 0]);
});

test("a closed connection's subscriptions go: nothing more is pushed to it; caps per connection refuse more", async () => {
  const { scheduler, stream, push, write } = setup({ maxSubscriptionsPerConnection: 2 });
  assert.equal(push.subscribeConnection("c1", SERVICE, ""), true);
  assert.equal(push.subscribeConnection("c1", SERVICE, "DEFAULT"), true);
  assert.equal(push.subscribeConnection("c1", { ...SERVICE, groupedName: "DEFAULT_GROUP@@other" }, ""), false, "a third is refused");
  assert.equal(push.subscribeConnection("c2", SERVICE, ""), true);
  await scheduler.advance(0);
  const before = stream.pushes.length;
  push.connectionClosed("c1");
  assert.deepEqual(push.subscriptionsOf("c1"), []);
  write(instance("192.0.2.1", 80));
  await scheduler.advance(0);
  assert.deepEqual(
    stream.pushes.slice(before).map((p) => p.connectionId),
    ["c2"],
  );
  push.unsubscribeConnection("c2", SERVICE, "");
  write(instance("192.0.2.2", 80));
  await scheduler.advance(1_000);
  assert.equal(stream.pushes.length, before + 1, "an unsubscribed connection is not pushed");
  assert.equal(push.stats().refusedSubscriptions, 1);
});

test("without a stream channel (the simulator) connections cannot subscribe", () => {
  const scheduler = new VirtualScheduler();
  const registry = new Registry("127.0.0.1:8848", () => scheduler.now());
  const push = new PushService(scheduler, pushSource(registry), new FakePushChannel(), PUSH_CONFIG, silentLog);
  assert.equal(push.subscribeConnection("c1", SERVICE, ""), false);
});
