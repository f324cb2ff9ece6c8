/**
 * The clients of 2.x's naming (its `Client`: whatever registers instances or subscribes), as the v2 API's
 * `/client/*` routes and metrics list them, made from what this cluster holds:
 * - **a 2.x connection** (`connection`), named by its connection id: its instances are the ones bound to it
 *   (`Instance.connection`, held by every node, so every node lists the connections of every node that hold
 *   instances); the connections this node holds are listed with their details and subscriptions even when they
 *   registered nothing.
 * - **a 1.x client** (`ipPort`), named as 2.x names it `ip:port#ephemeral`: 2.x makes one for each address that
 *   registers (`#true` for its ephemeral instances, `#false` for its persistent ones) and one for each address
 *   a 1.x SDK takes UDP pushes at (`ip:udpPort#true`). Here: one per address of the unbound instances, and one
 *   per UDP push target of this node (of the services the registry knows).
 * 2.x keeps a 1.x client's last beat as its `lastUpdatedTime`; here only a service's responsible node knows
 * beats, so 1.x clients have none.
 *
 * Finding the clients the instances name reads every instance. That scan runs in slices, yielding to the event
 * loop between them (beats keep flowing on a node of a million instances), and one scan serves every caller
 * until the registry or the member view changes, so asking again and again costs nothing more.
 */
import type { Instance } from "../../core/instance.js";
import { parseServiceKey, serviceKey, type ServiceRef } from "../../core/naming.js";
import type { ClientConnectionInfo } from "../../node/clients/client-connections.js";
import type { HeldSubscriber } from "../../push/subscriber.js";
import type { NodeContext } from "../context.js";

export type ClientKind = "connection" | "ipPort";

export interface Publication {
  readonly service: ServiceRef;
  readonly instance: Instance;
}

export interface Subscription {
  readonly service: ServiceRef;
  readonly clientId: string;
  readonly ip: string;
  /** The UDP port a 1.x client takes pushes at; 0 for a connection (pushed over its stream). */
  readonly port: number;
  readonly app: string;
  readonly agent: string;
  /** 2.x's `addrStr`: `ip:port` of a 1.x subscriber, the client's IP for a connection. */
  readonly addr: string;
  /** When a 1.x subscriber last polled (scheduler ms); undefined for a connection, which is there while connected. */
  readonly polledAt: number | undefined;
}

/**
 * The clients subscribed to a service on this node, 1.x pollers and 2.x connections alike (what 2.x's
 * `/v1/ns/service/subscribers` and `/v2/ns/client/service/subscriber/list` list).
 */
export function serviceSubscribers(ctx: NodeContext, service: ServiceRef): Subscription[] {
  const same = (s: ServiceRef) => s.namespaceId === service.namespaceId && s.groupedName === service.groupedName;
  const byConnection = ctx.node.connections
    .list()
    .filter((c) => ctx.push.subscriptionsOf(c.id).some((s) => same(s.service)))
    .map((c) => connectionSubscription(service, c));
  return [...ctx.push.subscribersOf(service).map(udpSubscription), ...byConnection];
}

/** A client as 2.x details it: a connection this node holds has its details, any other only its id and kind. */
export type Client =
  | { readonly kind: "connection"; readonly id: string; readonly held: ClientConnectionInfo | undefined }
  | { readonly kind: "ipPort"; readonly id: string; readonly ip: string; readonly port: number; readonly ephemeral: boolean };

export interface ClientCounts {
  clients: number;
  connections: number;
  ephemeralIpPort: number;
  persistentIpPort: number;
  /** Held here, or (1.x) with an instance in a service this node is responsible for, or pushed to from here. */
  responsible: number;
}

interface Known {
  readonly kind: ClientKind;
  responsible: boolean;
}

/** The clients the registry's instances name, and their counts. */
interface Census {
  readonly clients: ReadonlyMap<string, Known>;
  readonly counts: Readonly<ClientCounts>;
}

/** Instances read between two yields to the event loop. */
const SCAN_SLICE = 1_000;

const ipPortId = (ip: string, port: number, ephemeral: boolean): string => `${ip}:${port}#${ephemeral}`;
const IP_PORT_ID = /^(.+):(\d+)#(true|false)$/;

/** Who registered an instance: the connection it is bound to, else its address. */
const clientIdOf = (i: Instance): string => i.connection?.connectionId ?? ipPortId(i.ip, i.port, i.ephemeral);

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ClientDirectory {
  /** Registry changes seen: a census made at an older count is out of date. */
  private changes = 0;
  private census: { readonly changes: number; readonly view: string; readonly result: Promise<Census> } | undefined;

  constructor(private readonly ctx: NodeContext) {
    ctx.node.registry.onChange(() => this.changes++);
  }

  /** Every client's id, sorted. */
  async ids(): Promise<string[]> {
    const ids = new Set((await this.registered()).clients.keys());
    for (const id of this.local().keys()) ids.add(id);
    return [...ids].sort();
  }

  async find(id: string): Promise<Client | undefined> {
    const held = this.ctx.node.connections.get(id);
    if (held !== undefined) return { kind: "connection", id, held };
    const kind = (await this.registered()).clients.get(id)?.kind ?? this.local().get(id);
    if (kind === undefined) return undefined;
    const ipPort = IP_PORT_ID.exec(id);
    if (kind === "connection" || ipPort === null) return { kind: "connection", id, held: undefined };
    return { kind: "ipPort", id, ip: ipPort[1]!, port: Number(ipPort[2]), ephemeral: ipPort[3] === "true" };
  }

  /** The instances a client registered, in every service. */
  async publications(id: string): Promise<Publication[]> {
    const out: Publication[] = [];
    await this.scan((service, _responsible, instance) => {
      if (clientIdOf(instance) === id) out.push({ service, instance });
    });
    return out;
  }

  /** What a client subscribed to (on this node). */
  subscriptions(id: string): Subscription[] {
    const held = this.ctx.node.connections.get(id);
    if (held !== undefined) return this.ctx.push.subscriptionsOf(id).map(({ service }) => connectionSubscription(service, held));
    return this.udpSubscriptions().filter((s) => s.clientId === id);
  }

  /** The clients that registered instances of a service, with each instance. */
  publishersOf(service: ServiceRef): Array<{ readonly clientId: string; readonly instance: Instance }> {
    const instances = this.ctx.node.registry.liveService(serviceKey(service))?.instances() ?? [];
    return [...instances].map((instance) => ({ clientId: clientIdOf(instance), instance }));
  }

  subscribersOf(service: ServiceRef): Subscription[] {
    return serviceSubscribers(this.ctx, service);
  }

  /** How many subscriptions this node holds: its UDP push targets' and its connections'. */
  subscriptionCount(): number {
    const byConnections = this.ctx.node.connections.list().reduce((n, c) => n + this.ctx.push.subscriptionsOf(c.id).length, 0);
    return this.udpSubscriptions().length + byConnections;
  }

  async counts(): Promise<ClientCounts> {
    const census = await this.registered();
    const counts = { ...census.counts };
    // This node's own clients: all its responsibility, some already named by instances.
    for (const [id, kind] of this.local()) {
      const known = census.clients.get(id);
      if (known === undefined) count(counts, id, kind, true);
      else if (!known.responsible) counts.responsible++;
    }
    return counts;
  }

  /** This node's own clients (connections held, UDP push targets) by id, with their kind. */
  private local(): Map<string, ClientKind> {
    const local = new Map<string, ClientKind>();
    for (const c of this.ctx.node.connections.list()) local.set(c.id, "connection");
    for (const s of this.udpSubscriptions()) local.set(s.clientId, "ipPort");
    return local;
  }

  /** The census of the registry's clients: the last one while neither the registry nor the member view changed. */
  private registered(): Promise<Census> {
    // Which services this node is responsible for follows the members' states.
    const view = this.ctx.node
      .cluster()
      .members.map((m) => `${m.address}=${m.state}`)
      .join();
    if (this.census !== undefined && this.census.changes === this.changes && this.census.view === view) return this.census.result;
    const result = this.take();
    this.census = { changes: this.changes, view, result };
    // A scan that failed is not kept: the next caller scans again.
    result.catch(() => {
      if (this.census?.result === result) this.census = undefined;
    });
    return result;
  }

  private async take(): Promise<Census> {
    const clients = new Map<string, Known>();
    const counts: ClientCounts = { clients: 0, connections: 0, ephemeralIpPort: 0, persistentIpPort: 0, responsible: 0 };
    await this.scan((_service, responsible, i) => {
      const id = clientIdOf(i);
      const known = clients.get(id);
      // An instance bound to a connection is the responsibility of the node holding it (local(), there).
      const mine = i.connection === undefined && responsible;
      if (known === undefined) {
        const kind = i.connection === undefined ? "ipPort" : "connection";
        clients.set(id, { kind, responsible: mine });
        count(counts, id, kind, mine);
      } else if (mine && !known.responsible) {
        known.responsible = true;
        counts.responsible++;
      }
    });
    return { clients, counts };
  }

  /** Visits every live instance, yielding to the event loop every SCAN_SLICE instances. */
  private async scan(visit: (service: ServiceRef, responsible: boolean, instance: Instance) => void): Promise<void> {
    let sinceYield = 0;
    for (const s of this.ctx.node.registry.services()) {
      if (s.deleted) continue;
      const service = parseServiceKey(s.key);
      const responsible = this.ctx.node.isResponsible(service.groupedName);
      for (const instance of s.instances()) visit(service, responsible, instance);
      sinceYield += s.size;
      if (sinceYield >= SCAN_SLICE) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
  }

  /** This node's UDP push targets, of the services the registry knows (a deleted one's included). */
  private udpSubscriptions(): Subscription[] {
    return [...this.ctx.node.registry.keys()].flatMap((key) => this.ctx.push.subscribersOf(parseServiceKey(key)).map(udpSubscription));
  }
}

function count(counts: ClientCounts, id: string, kind: ClientKind, responsible: boolean): void {
  counts.clients++;
  if (kind === "connection") counts.connections++;
  else if (id.endsWith("#true")) counts.ephemeralIpPort++;
  else counts.persistentIpPort++;
  if (responsible) counts.responsible++;
}

function udpSubscription(s: HeldSubscriber): Subscription {
  const { service, ip, udpPort: port, app, agent, polledAt } = s;
  return { service, clientId: ipPortId(ip, port, true), ip, port, app, agent, addr: `${ip}:${port}`, polledAt };
}

function connectionSubscription(service: ServiceRef, c: ClientConnectionInfo): Subscription {
  return {
    service,
    clientId: c.id,
    ip: c.clientIp,
    port: 0,
    app: c.appName,
    agent: c.clientVersion,
    addr: c.clientIp,
    polledAt: undefined,
  };
}
