/**
 * UDP push to Nacos 1.x subscribers, as 1.4's PushService: every registry change of a service (local or
 * replicated) leaves at once, or merged with the others of a burst, as one datagram per subscriber carrying the same
 * `instance/list` answer a poll would get; each push waits for its ack, is resent once, then counts as
 * failed. Subscribers that stop polling are dropped. Sends never wait for a receiver, so a slow or dead
 * subscriber cannot delay anyone else. Nothing is pushed while the node's registry is incomplete (loading what
 * its peers hold). All timing comes from the Scheduler; the network is a PushChannel.
 */
import type { Log } from "../core/log.js";
import { serviceKey, type ServiceRef } from "../core/naming.js";
import type { RegistryView } from "../core/registry.js";
import { every, type Scheduler, type TimerHandle } from "../core/scheduler.js";
import { listAnswer, type ListQuery } from "../core/service-view.js";
import type { Switches } from "../core/switches.js";
import { acceptsUdpPush, wantsGroupedNames } from "./client-agent.js";
import type { PushAck, PushChannel } from "./push-channel.js";
import { PushCosts } from "./push-costs.js";
import { encodePushPacket } from "./push-packet.js";
import type { HeldSubscriber, PushSubscriptions, Subscriber } from "./subscriber.js";
import { getOrCreate } from "../core/memo.js";
import { ConnectionPushes, type ConnectionPushStats, type ConnectionSubscription } from "./connection-pushes.js";
import type { StreamPushChannel } from "./stream-push-channel.js";

export interface PushConfig {
  /**
   * A change to a service not pushed within its window leaves at once; changes inside the window after a
   * push leave together when it closes, so a burst costs one push per window (1.4 always waits 1000 ms).
   * The window is what keeps a service's pushes within `pushesPerServicePerSecond` datagrams, between
   * `minCoalesceWindowMs` and this (a few subscribers: tens of ms; thousands: up to this).
   */
  readonly coalesceWindowMs: number;
  readonly minCoalesceWindowMs: number;
  /** Datagrams per second a service's pushes may cost on this node, first sends counted. */
  readonly pushesPerServicePerSecond: number;
  /** How long a push waits for its ack before it is resent (1.4: 10 s). */
  readonly ackTimeoutMs: number;
  /** Resends of an unacknowledged push before it counts as failed (1.4: 1, so at most two sends). */
  readonly maxRetries: number;
  /**
   * A subscriber no poll has refreshed for longer than this is a zombie and is dropped. 1.4 uses
   * pushCacheMillis (10 s), which is exactly the client's own poll period, so a single late poll drops a
   * live client and it flickers in and out. Undefined means ZOMBIE_POLL_PERIODS periods of the current
   * `defaultPushCacheMillis` switch (30 s by default): two polls may be lost or late, and the timeout follows
   * the switch when an operator lengthens the poll period.
   */
  readonly zombieTimeoutMs: number | undefined;
  /** How often zombies are swept (1.4: 20 s); they are also dropped whenever their service is pushed. */
  readonly sweepPeriodMs: number;
  /** Subscriptions one client address (IP) may hold across services; more are not pushed to (the client polls). */
  readonly maxSubscriptionsPerClient: number;
  /** Subscriptions one 2.x client connection may hold. */
  readonly maxSubscriptionsPerConnection: number;
  /** Subscribers one service may have on this node, UDP targets and connections together. */
  readonly maxSubscriptionsPerService: number;
  /** A target (ip:port) whose pushes failed this many times in a row, with no ack between, is dropped ... */
  readonly maxFailedPushes: number;
  /** ... and not subscribed again for this long: it polls meanwhile (its poll answers ask it to poll sooner). */
  readonly mutedForMs: number;
}

export const ZOMBIE_POLL_PERIODS = 3;

/** What pushes are built from: a node's registry and switches (the NamingNode is one). */
export interface PushSource {
  readonly registry: RegistryView;
  readonly switches: Switches;
  /**
   * False while the node loads what its peers hold: its registry may lack instances that exist, and a push of
   * such a view would tell subscribers that providers are gone. Nothing is pushed until it is true.
   */
  readonly registryComplete: boolean;
  /** Calls `listener` once the registry is complete (at once if it is). */
  whenRegistryComplete(listener: () => void): void;
}

export interface PushStats extends ConnectionPushStats {
  /** Subscribers held, zombies not yet swept included. */
  readonly subscribers: number;
  /** UDP pushes sent (first sends; resends are `retried`); the `stream*` numbers are the connections'. */
  readonly sent: number;
  readonly acked: number;
  readonly retried: number;
  /** Pushes still unacknowledged after every resend. */
  readonly failed: number;
  /** Unacknowledged pushes abandoned because a newer push to the same subscriber replaced them. */
  readonly superseded: number;
  /** Datagrams (sends or resends) the network refused; each is then treated as lost. */
  readonly sendErrors: number;
  readonly awaitingAck: number;
  /**
   * Subscriptions refused: a client or service at its cap, a target muted for never acking, or a target already
   * pushed the service under another cluster filter.
   */
  readonly refusedSubscriptions: number;
  /** Targets currently muted for never acking. */
  readonly mutedTargets: number;
  /** Longest and mean first-send-to-ack time of the last 15-s window, ms (push-costs.ts); -1 when none. */
  readonly maxPushCostMs: number;
  readonly avgPushCostMs: number;
}

/**
 * Push stamps (`lastRefTime`) are the clock's milliseconds × 1000, bumped to stay strictly increasing when
 * several pushes share a millisecond or the clock steps back: unique per push, integers, and below 2^53
 * until the year 2255, so the npm client's JSON.parse/JSON.stringify echo is exact. (1.4's nanosecond stamp
 * would lose digits in a JavaScript number and the ack would never match.)
 */
const STAMPS_PER_MS = 1_000;

const NO_CONNECTION_PUSHES: ConnectionPushStats = Object.freeze({
  streamSubscribers: 0,
  streamSent: 0,
  streamAcked: 0,
  streamRetried: 0,
  streamFailed: 0,
  maxStreamPushCostMs: -1,
  avgStreamPushCostMs: -1,
});

interface Subscription {
  subscriber: Subscriber;
  refreshedAt: number;
  /** The push still waiting for this subscriber's ack; a newer push replaces it. */
  awaiting: PendingAck | undefined;
}

interface PendingAck {
  readonly ackKey: string;
  readonly datagram: Uint8Array;
  readonly subscription: Subscription;
  /** When it was first sent: its ack tells what the push cost. */
  readonly sentAt: number;
  resends: number;
  timer: TimerHandle | undefined;
}

/** How 1.4 matches an ack: the address it came from and the stamp it echoes. */
const ackKeyOf = (ip: string, port: number, lastRefTime: number): string => `${ip},${port},${lastRefTime}`;

const targetOf = (ip: string, port: number): string => `${ip},${port}`;

/**
 * What a client files a pushed answer under: the SDKs key it by the answer's name (grouped or not, by agent) and
 * its `clusters` echo, and apply it to that key only. Polls of one variant refresh its subscription; the
 * healthy-only flag, env and app may change between polls (the latest poll's are pushed).
 */
const sameVariant = (a: Subscriber, b: Subscriber): boolean => a.clusters === b.clusters && a.agent === b.agent;

export class PushService implements PushSubscriptions {
  /**
   * service key → target (ip,port) → its one subscription. 1.4 keys a PushClient by cluster filter, address and
   * agent, so one socket polling a service with 50 cluster filters got 50 datagrams per change. A target here
   * holds one subscription per service: one datagram per change. The clients (nacos-naming's HostReactor,
   * the 1.x Java HostReactor) apply a pushed answer to the one key `name@@clusters` it names and never filter it
   * themselves, so one datagram cannot serve two filters; a second live filter from the same socket is refused
   * and polls at the normal rate (`defaultCacheMillis`, 3 s) while the first is pushed.
   */
  private readonly subscriptions = new Map<string, Map<string, Subscription>>();
  /** At most one scheduled push per service key: that is what coalesces changes. */
  private readonly scheduledPushes = new Map<string, TimerHandle>();
  /** When each service was last pushed, while that is within the coalescing window. */
  private readonly lastPushedAt = new Map<string, number>();
  private readonly awaitingAck = new Map<string, PendingAck>();
  /** Unacknowledged pushes per target (ip,port): acks from anywhere else are not even read. */
  private readonly awaitingFrom = new Map<string, number>();
  /** Subscriptions per client IP, across services. */
  private readonly perClient = new Map<string, number>();
  /** Consecutive failed pushes per target; reset by any ack. */
  private readonly failedInARow = new Map<string, number>();
  /** Targets that never acked, until when they stay muted. */
  private readonly mutedUntil = new Map<string, number>();
  private refusedSubscriptions = 0;
  private readonly sweeper: TimerHandle;
  private lastStamp = 0;
  private closed = false;
  private sent = 0;
  private acked = 0;
  private retried = 0;
  private failed = 0;
  private superseded = 0;
  private sendErrors = 0;
  private readonly costs: PushCosts;
  /** 2.x connections' subscriptions; none without a stream channel (the simulator, 1.x-only tests). */
  private readonly connections: ConnectionPushes | undefined;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly source: PushSource,
    private readonly channel: PushChannel,
    private readonly config: PushConfig,
    private readonly log: Log,
    streamChannel?: StreamPushChannel,
  ) {
    this.connections =
      streamChannel === undefined
        ? undefined
        : new ConnectionPushes(
            scheduler,
            source.registry,
            streamChannel,
            {
              maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
              maxRetries: config.maxRetries,
              retryDelayMs: config.coalesceWindowMs,
            },
            () => source.switches.defaultPushCacheMillis,
            log,
          );
    // Every change counts, whatever its origin: subscribers of this node must see replicated data too.
    // The sweep starts here so a service that never changes cannot keep its zombies; close() stops it.
    source.registry.onChange((change) => this.serviceChanged(change.key));
    // Changes while the registry was incomplete were held back: every subscribed service gets its complete view.
    source.whenRegistryComplete(() => {
      for (const key of new Set([...this.subscriptions.keys(), ...(this.connections?.keys() ?? [])])) this.serviceChanged(key);
    });
    channel.onAck(
      (ack) => this.acknowledge(ack),
      (ip, port) => this.awaitingFrom.has(targetOf(ip, port)),
    );
    this.sweeper = every(scheduler, config.sweepPeriodMs, () => this.dropZombies());
    this.costs = new PushCosts(scheduler.now());
  }

  /**
   * Registers or refreshes a push target; returns whether it will be pushed to. Ignored, as in 1.4's
   * `canEnablePush`, when push is switched off or the agent is below its push minimum, and when there is no
   * address to push to; refused when the client or the service holds as many subscriptions as allowed, the
   * target is muted for never acking, or it still polls the service with another cluster filter.
   */
  subscribe(subscriber: Subscriber): boolean {
    if (this.closed || subscriber.ip === "" || subscriber.udpPort <= 0) return false;
    if (!acceptsUdpPush(subscriber.agent, this.source.switches)) return false;
    const key = serviceKey(subscriber.service);
    const target = targetOf(subscriber.ip, subscriber.udpPort);
    const now = this.scheduler.now();
    const existing = this.subscriptions.get(key)?.get(target);
    if (existing !== undefined && sameVariant(existing.subscriber, subscriber)) {
      existing.subscriber = subscriber;
      existing.refreshedAt = now;
      return true;
    }
    if (existing !== undefined && !this.isZombie(existing, now)) {
      this.refusedSubscriptions++;
      return false;
    }
    // A filter whose polls stopped gives way to the one polling now.
    if (existing !== undefined) this.drop(key, target);
    if (!this.admits(subscriber, key, now)) {
      this.refusedSubscriptions++;
      return false;
    }
    getOrCreate(this.subscriptions, key, () => new Map()).set(target, { subscriber, refreshedAt: now, awaiting: undefined });
    this.perClient.set(subscriber.ip, (this.perClient.get(subscriber.ip) ?? 0) + 1);
    return true;
  }

  /** Whether a new subscription fits its client's and its service's caps and its target is not muted. */
  private admits(subscriber: Subscriber, key: string, now: number): boolean {
    const muted = this.mutedUntil.get(targetOf(subscriber.ip, subscriber.udpPort));
    if (muted !== undefined && muted > now) return false;
    if ((this.perClient.get(subscriber.ip) ?? 0) >= this.config.maxSubscriptionsPerClient) return false;
    return (this.subscriptions.get(key)?.size ?? 0) < this.config.maxSubscriptionsPerService;
  }

  subscribersOf(service: ServiceRef): HeldSubscriber[] {
    return this.liveSubscriptions(serviceKey(service)).map((s) => ({ ...s.subscriber, polledAt: s.refreshedAt }));
  }

  /**
   * Subscribes a 2.x connection to a service (idempotent) and, when new, pushes it the current view at once.
   * Refused when push is switched off, there is no stream channel, or the connection or the service holds as many
   * subscriptions as allowed; the subscription then does not exist (the client's answer says so).
   */
  subscribeConnection(connectionId: string, service: ServiceRef, clusters: string): boolean {
    const connections = this.connections;
    if (this.closed || connections === undefined || !this.source.switches.pushEnabled) return false;
    if (connections.has(connectionId, service, clusters)) return true;
    const key = serviceKey(service);
    const held = connections.count(key) + (this.subscriptions.get(key)?.size ?? 0);
    if (held >= this.config.maxSubscriptionsPerService || !connections.subscribe(connectionId, service, clusters)) {
      this.refusedSubscriptions++;
      return false;
    }
    // The subscribe answer carries the view too; the push makes a change between the two reach the client.
    if (this.source.registryComplete) this.scheduler.schedule(0, () => connections.pushOne(connectionId, service, clusters));
    return true;
  }

  unsubscribeConnection(connectionId: string, service: ServiceRef, clusters: string): void {
    this.connections?.unsubscribe(connectionId, service, clusters);
  }

  /** A connection closed: its subscriptions go. */
  connectionClosed(connectionId: string): void {
    this.connections?.dropConnection(connectionId);
  }

  subscriptionsOf(connectionId: string): ReadonlyArray<ConnectionSubscription> {
    return this.connections?.subscriptionsOf(connectionId) ?? [];
  }

  stats(): PushStats {
    let subscribers = 0;
    for (const subscriptions of this.subscriptions.values()) subscribers += subscriptions.size;
    return {
      subscribers,
      sent: this.sent,
      acked: this.acked,
      retried: this.retried,
      failed: this.failed,
      superseded: this.superseded,
      sendErrors: this.sendErrors,
      awaitingAck: this.awaitingAck.size,
      refusedSubscriptions: this.refusedSubscriptions,
      mutedTargets: this.mutedUntil.size,
      ...this.costSummary(),
      ...(this.connections?.stats() ?? NO_CONNECTION_PUSHES),
    };
  }

  private costSummary(): Pick<PushStats, "maxPushCostMs" | "avgPushCostMs"> {
    const { maxMs, avgMs } = this.costs.read(this.scheduler.now());
    return { maxPushCostMs: maxMs, avgPushCostMs: avgMs };
  }

  /** Cancels every timer and forgets every subscriber; later changes, subscribes and acks are ignored. */
  close(): void {
    this.closed = true;
    this.sweeper.cancel();
    for (const timer of this.scheduledPushes.values()) timer.cancel();
    for (const pending of this.awaitingAck.values()) pending.timer?.cancel();
    this.scheduledPushes.clear();
    this.lastPushedAt.clear();
    this.awaitingAck.clear();
    this.awaitingFrom.clear();
    this.subscriptions.clear();
    this.perClient.clear();
    this.connections?.close();
  }

  private serviceChanged(key: string): void {
    if (this.closed || !this.source.registryComplete || this.scheduledPushes.has(key)) return;
    if (!this.subscriptions.has(key) && (this.connections?.count(key) ?? 0) === 0) return;
    const last = this.lastPushedAt.get(key);
    const delay = last === undefined ? 0 : Math.max(0, last + this.windowOf(key) - this.scheduler.now());
    // Even "at once" waits for the end of this turn, so the changes of one burst leave as one push.
    this.scheduledPushes.set(
      key,
      this.scheduler.schedule(delay, () => this.pushService(key)),
    );
  }

  private windowOf(key: string): number {
    const { coalesceWindowMs, minCoalesceWindowMs, pushesPerServicePerSecond } = this.config;
    const subscribers = (this.subscriptions.get(key)?.size ?? 0) + (this.connections?.count(key) ?? 0);
    const spread = (1000 * subscribers) / pushesPerServicePerSecond;
    return Math.min(coalesceWindowMs, Math.max(minCoalesceWindowMs, spread));
  }

  private pushService(key: string): void {
    this.scheduledPushes.delete(key);
    if (!this.source.switches.pushEnabled) return;
    this.lastPushedAt.set(key, this.scheduler.now());
    const service = this.source.registry.service(key);
    const now = this.scheduler.now();
    // Subscribers asking the same question share one answer: build (and checksum) each distinct view once.
    const dataByQuery = new Map<string, string>();
    for (const subscription of this.liveSubscriptions(key)) {
      const query = this.pushQuery(subscription.subscriber, now);
      const queryKey = JSON.stringify([query.clusters, query.healthyOnly, query.env, query.groupedNamesForClient]);
      this.startPush(
        subscription,
        getOrCreate(dataByQuery, queryKey, () => listAnswer(service, query)),
      );
    }
    this.connections?.pushService(key);
  }

  /** The poll a subscriber made, answered now, with the push poll period (as 1.4 forces it). */
  private pushQuery(s: Subscriber, now: number): ListQuery {
    return {
      groupedName: s.service.groupedName,
      clusters: s.clusters,
      healthyOnly: s.healthyOnly,
      env: s.env,
      groupedNamesForClient: wantsGroupedNames(s.agent),
      cacheMillis: this.source.switches.defaultPushCacheMillis,
      lastRefTime: now,
    };
  }

  private startPush(subscription: Subscription, data: string): void {
    if (subscription.awaiting !== undefined) {
      // Resending the older answer after this one would roll the client back until its next poll.
      this.superseded++;
      this.settle(subscription.awaiting);
    }
    const { ip, udpPort } = subscription.subscriber;
    const lastRefTime = this.nextStamp();
    const pending: PendingAck = {
      ackKey: ackKeyOf(ip, udpPort, lastRefTime),
      datagram: encodePushPacket({ type: "dom", data, lastRefTime }),
      subscription,
      sentAt: this.scheduler.now(),
      resends: 0,
      timer: undefined,
    };
    subscription.awaiting = pending;
    this.awaitingAck.set(pending.ackKey, pending);
    const target = targetOf(ip, udpPort);
    this.awaitingFrom.set(target, (this.awaitingFrom.get(target) ?? 0) + 1);
    this.sent++;
    this.transmit(pending);
  }

  private transmit(pending: PendingAck): void {
    const { ip, udpPort } = pending.subscription.subscriber;
    pending.timer = this.scheduler.schedule(this.config.ackTimeoutMs, () => this.ackTimedOut(pending));
    void this.channel.send(pending.datagram, ip, udpPort).then((sentOk) => {
      if (!sentOk) this.sendErrors++;
    });
  }

  private ackTimedOut(pending: PendingAck): void {
    if (pending.resends < this.config.maxRetries) {
      pending.resends++;
      this.retried++;
      this.transmit(pending);
      return;
    }
    this.settle(pending);
    this.failed++;
    const { ip, udpPort, service } = pending.subscription.subscriber;
    this.log.debug("udp push failed: no ack after retries", { ip, port: udpPort, service: serviceKey(service) });
    const target = targetOf(ip, udpPort);
    const failures = (this.failedInARow.get(target) ?? 0) + 1;
    this.failedInARow.set(target, failures);
    if (failures >= this.config.maxFailedPushes) this.mute(target, ip, udpPort);
  }

  /** Stops pushing to a target that never acks: its subscriptions go, and it may not subscribe for a while. */
  private mute(target: string, ip: string, port: number): void {
    this.failedInARow.delete(target);
    this.mutedUntil.set(target, this.scheduler.now() + this.config.mutedForMs);
    for (const key of [...this.subscriptions.keys()]) this.drop(key, target);
    this.log.warn("udp push target never acks; no longer pushed to for a while (it keeps polling)", {
      ip,
      port,
      mutedForMs: this.config.mutedForMs,
    });
  }

  private acknowledge(ack: PushAck): void {
    const pending = this.awaitingAck.get(ackKeyOf(ack.ip, ack.port, ack.lastRefTime));
    if (pending === undefined) {
      this.log.debug("udp push ack matches no pending push", { ...ack });
      return;
    }
    this.settle(pending);
    this.acked++;
    this.costs.record(this.scheduler.now() - pending.sentAt, this.scheduler.now());
    this.failedInARow.delete(targetOf(ack.ip, ack.port));
  }

  private settle(pending: PendingAck): void {
    pending.timer?.cancel();
    if (!this.awaitingAck.delete(pending.ackKey)) return;
    if (pending.subscription.awaiting === pending) pending.subscription.awaiting = undefined;
    const { ip, udpPort } = pending.subscription.subscriber;
    const target = targetOf(ip, udpPort);
    const left = (this.awaitingFrom.get(target) ?? 1) - 1;
    if (left > 0) this.awaitingFrom.set(target, left);
    else this.awaitingFrom.delete(target);
  }

  private nextStamp(): number {
    this.lastStamp = Math.max(Math.floor(this.scheduler.now()) * STAMPS_PER_MS, this.lastStamp + 1);
    return this.lastStamp;
  }

  private zombieTimeoutMs(): number {
    return this.config.zombieTimeoutMs ?? ZOMBIE_POLL_PERIODS * this.source.switches.defaultPushCacheMillis;
  }

  private isZombie(s: Subscription, now: number): boolean {
    return s.refreshedAt < now - this.zombieTimeoutMs();
  }

  /** The subscribers of a service that are still polling; zombies are dropped on the way. */
  private liveSubscriptions(key: string): Subscription[] {
    const now = this.scheduler.now();
    this.removeWhere(key, (s) => this.isZombie(s, now));
    return [...(this.subscriptions.get(key)?.values() ?? [])];
  }

  /** Drops a service's subscriptions that match. */
  private removeWhere(key: string, doomed: (s: Subscription) => boolean): void {
    for (const [target, s] of this.subscriptions.get(key) ?? []) if (doomed(s)) this.drop(key, target);
  }

  /**
   * Drops one subscription, keeping the per-client counts right. Its unacknowledged push goes with it: a resend
   * would reach a client that stopped polling, or one that now polls with another filter.
   */
  private drop(key: string, target: string): void {
    const subscriptions = this.subscriptions.get(key);
    const s = subscriptions?.get(target);
    if (subscriptions === undefined || s === undefined) return;
    subscriptions.delete(target);
    if (subscriptions.size === 0) this.subscriptions.delete(key);
    if (s.awaiting !== undefined) this.settle(s.awaiting);
    const { ip } = s.subscriber;
    const left = (this.perClient.get(ip) ?? 1) - 1;
    if (left > 0) this.perClient.set(ip, left);
    else this.perClient.delete(ip);
  }

  private dropZombies(): void {
    for (const key of [...this.subscriptions.keys()]) this.liveSubscriptions(key);
    const now = this.scheduler.now();
    for (const [target, until] of this.mutedUntil) if (until <= now) this.mutedUntil.delete(target);
    for (const [key, at] of this.lastPushedAt) if (at + this.config.coalesceWindowMs <= now) this.lastPushedAt.delete(key);
  }
}
