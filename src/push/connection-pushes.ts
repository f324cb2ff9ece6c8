/**
 * Push to 2.x client connections: their subscriptions (a connection, a service, a cluster filter) and the pushes
 * to them, for PushService, which decides when a service is pushed (the same coalescing window and hold while
 * loading as UDP). A subscription has at most one push in flight: a change meanwhile marks it to be pushed again
 * once the answer comes, with the view as it is then. So a slow client holds one push per subscription and
 * never more, however fast its services change; the channel bounds the pushes in flight per connection.
 */
import type { Log } from "../core/log.js";
import { serviceKey, type ServiceRef } from "../core/naming.js";
import type { RegistryView } from "../core/registry.js";
import type { Scheduler } from "../core/scheduler.js";
import { buildServiceInfo, type ServiceInfo } from "../core/service-info.js";
import { getOrCreate } from "../core/memo.js";
import { PushCosts } from "./push-costs.js";
import type { StreamPushChannel } from "./stream-push-channel.js";

export interface ConnectionPushConfig {
  /** Subscriptions one connection may hold. */
  readonly maxSubscriptionsPerConnection: number;
  /** Resends of a push that failed before it counts as failed. */
  readonly maxRetries: number;
  /** How long a failed push waits before it is sent again. */
  readonly retryDelayMs: number;
}

export interface ConnectionSubscription {
  readonly service: ServiceRef;
  /** The cluster filter as the client asked (comma-separated; empty: every cluster). */
  readonly clusters: string;
}

interface Subscription extends ConnectionSubscription {
  readonly connectionId: string;
  readonly key: string;
  inFlight: boolean;
  /** A change came while a push was in flight: push again when it is answered. */
  again: boolean;
  dropped: boolean;
}

export interface ConnectionPushStats {
  readonly streamSubscribers: number;
  readonly streamSent: number;
  readonly streamAcked: number;
  readonly streamRetried: number;
  readonly streamFailed: number;
  /** Longest and mean push-to-answer time of the last 15-s window, ms; -1 when none. */
  readonly maxStreamPushCostMs: number;
  readonly avgStreamPushCostMs: number;
}

const variantOf = (s: ConnectionSubscription): string => `${serviceKey(s.service)}\n${s.clusters}`;

export class ConnectionPushes {
  /** service key → subscriptions of it. */
  private readonly byService = new Map<string, Set<Subscription>>();
  /** connection → (service key, clusters) → its subscription. */
  private readonly byConnection = new Map<string, Map<string, Subscription>>();
  private readonly costs: PushCosts;
  private sent = 0;
  private acked = 0;
  private retried = 0;
  private failed = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly registry: RegistryView,
    private readonly channel: StreamPushChannel,
    private readonly config: ConnectionPushConfig,
    private readonly cacheMillis: () => number,
    private readonly log: Log,
  ) {
    this.costs = new PushCosts(scheduler.now());
  }

  has(connectionId: string, service: ServiceRef, clusters: string): boolean {
    return this.byConnection.get(connectionId)?.has(variantOf({ service, clusters })) === true;
  }

  /** Adds a subscription that does not exist yet; false when the connection holds as many as allowed. */
  subscribe(connectionId: string, service: ServiceRef, clusters: string): boolean {
    if ((this.byConnection.get(connectionId)?.size ?? 0) >= this.config.maxSubscriptionsPerConnection) return false;
    const subscriptions = getOrCreate(this.byConnection, connectionId, () => new Map<string, Subscription>());
    const variant = variantOf({ service, clusters });
    const key = serviceKey(service);
    const s: Subscription = { connectionId, service, clusters, key, inFlight: false, again: false, dropped: false };
    subscriptions.set(variant, s);
    getOrCreate(this.byService, key, () => new Set()).add(s);
    return true;
  }

  unsubscribe(connectionId: string, service: ServiceRef, clusters: string): void {
    const s = this.byConnection.get(connectionId)?.get(variantOf({ service, clusters }));
    if (s !== undefined) this.drop(s);
  }

  /** Every subscription of a connection goes (it closed). */
  dropConnection(connectionId: string): void {
    for (const s of [...(this.byConnection.get(connectionId)?.values() ?? [])]) this.drop(s);
  }

  subscriptionsOf(connectionId: string): ConnectionSubscription[] {
    return [...(this.byConnection.get(connectionId)?.values() ?? [])].map(({ service, clusters }) => ({ service, clusters }));
  }

  /** Subscriptions of a service. */
  count(key: string): number {
    return this.byService.get(key)?.size ?? 0;
  }

  /** Keys of the services some connection subscribed to. */
  keys(): string[] {
    return [...this.byService.keys()];
  }

  /** Pushes a service's current view to every connection subscribed to it. */
  pushService(key: string): void {
    const views = new Map<string, ServiceInfo>();
    for (const s of this.byService.get(key) ?? []) this.send(s, views);
  }

  /** Pushes one subscription its view now (the first push after subscribing). */
  pushOne(connectionId: string, service: ServiceRef, clusters: string): void {
    const s = this.byConnection.get(connectionId)?.get(variantOf({ service, clusters }));
    if (s !== undefined) this.send(s, new Map());
  }

  stats(): ConnectionPushStats {
    let subscribers = 0;
    for (const subscriptions of this.byService.values()) subscribers += subscriptions.size;
    const { maxMs, avgMs } = this.costs.read(this.scheduler.now());
    return {
      streamSubscribers: subscribers,
      streamSent: this.sent,
      streamAcked: this.acked,
      streamRetried: this.retried,
      streamFailed: this.failed,
      maxStreamPushCostMs: maxMs,
      avgStreamPushCostMs: avgMs,
    };
  }

  close(): void {
    for (const s of [...this.byService.values()].flatMap((set) => [...set])) this.drop(s);
  }

  /** The view subscribers with the same filter share, built once per push round. */
  private viewOf(s: Subscription, views: Map<string, ServiceInfo>): ServiceInfo {
    return getOrCreate(views, s.clusters, () =>
      buildServiceInfo(this.registry.getLive(s.key), {
        groupedName: s.service.groupedName,
        clusters: s.clusters,
        healthyOnly: false,
        cacheMillis: this.cacheMillis(),
        lastRefTime: this.scheduler.now(),
      }),
    );
  }

  private send(s: Subscription, views: Map<string, ServiceInfo>, resends = 0): void {
    if (s.dropped) return;
    if (s.inFlight) {
      s.again = true;
      return;
    }
    s.inFlight = true;
    s.again = false;
    if (resends === 0) this.sent++;
    const sentAt = this.scheduler.now();
    void this.channel.push(s.connectionId, this.viewOf(s, views)).then((ok) => {
      s.inFlight = false;
      if (s.dropped) return;
      if (ok) {
        this.acked++;
        this.costs.record(this.scheduler.now() - sentAt, this.scheduler.now());
      } else if (!s.again && resends < this.config.maxRetries) {
        this.retried++;
        this.scheduler.schedule(this.config.retryDelayMs, () => this.send(s, new Map(), resends + 1));
        return;
      } else if (!s.again) {
        this.failed++;
        this.log.debug("stream push failed", { connection: s.connectionId, service: s.key });
      }
      // The newest view supersedes the one that failed or was answered.
      if (s.again) this.send(s, new Map());
    });
  }

  private drop(s: Subscription): void {
    s.dropped = true;
    const subscriptions = this.byConnection.get(s.connectionId);
    subscriptions?.delete(variantOf(s));
    if (subscriptions?.size === 0) this.byConnection.delete(s.connectionId);
    const ofService = this.byService.get(s.key);
    ofService?.delete(s);
    if (ofService?.size === 0) this.byService.delete(s.key);
  }
}
