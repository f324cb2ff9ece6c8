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
 */
import type { Instance } from "../../core/instance.js";
import { parseServiceKey, serviceKey, type ServiceRef } from "../../core/naming.js";
import type { ClientConnectionInfo } from "../../node/clients/client-connections.js";
import type { Subscriber } from "../../push/subscriber.js";
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
}

/** A client as 2.x details it: a connection this node holds has its details, any other only its id and kind. */
export type Client =
  | { readonly kind: "connection"; readonly id: string; readonly held: ClientConnectionInfo | undefined }
  | { readonly kind: "ipPort"; readonly id: string; readonly ip: string; readonly port: number; readonly ephemeral: boolean };

export interface ClientCounts {
  readonly clients: number;
  readonly connections: number;
  readonly ephemeralIpPort: number;
  readonly persistentIpPort: number;
  /** Held here, or (1.x) with an instance in a service this node is responsible for, or pushed to from here. */
  readonly responsible: number;
  readonly subscriptions: number;
}

const ipPortId = (ip: string, port: number, ephemeral: boolean): string => `${ip}:${port}#${ephemeral}`;
const IP_PORT_ID = /^(.+):(\d+)#(true|false)$/;

/** Who registered an instance: the connection it is bound to, else its address. */
const clientIdOf = (i: Instance): string => i.connection?.connectionId ?? ipPortId(i.ip, i.port, i.ephemeral);

export class ClientDirectory {
  constructor(private readonly ctx: NodeContext) {}

  /** Every client's id, sorted. */
  ids(): string[] {
    return [...this.census().keys()].sort();
  }

  find(id: string): Client | undefined {
    const held = this.ctx.node.connections.get(id);
    if (held !== undefined) return { kind: "connection", id, held };
    const kind = this.census().get(id)?.kind;
    if (kind === undefined) return undefined;
    const ipPort = IP_PORT_ID.exec(id);
    if (kind === "connection" || ipPort === null) return { kind: "connection", id, held: undefined };
    return { kind: "ipPort", id, ip: ipPort[1]!, port: Number(ipPort[2]), ephemeral: ipPort[3] === "true" };
  }

  /** The instances a client registered, in every service. */
  publications(id: string): Publication[] {
    const out: Publication[] = [];
    for (const [service, instances] of this.liveServices()) {
      for (const instance of instances) if (clientIdOf(instance) === id) out.push({ service, instance });
    }
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

  /** The clients subscribed to a service on this node. */
  subscribersOf(service: ServiceRef): Subscription[] {
    const same = (s: ServiceRef) => s.namespaceId === service.namespaceId && s.groupedName === service.groupedName;
    const byConnection = this.ctx.node.connections
      .list()
      .filter((c) => this.ctx.push.subscriptionsOf(c.id).some((s) => same(s.service)))
      .map((c) => connectionSubscription(service, c));
    return [...this.ctx.push.subscribersOf(service).map(udpSubscription), ...byConnection];
  }

  counts(): ClientCounts {
    const census = this.census();
    let connections = 0;
    let ephemeralIpPort = 0;
    let responsible = 0;
    for (const [id, c] of census) {
      if (c.kind === "connection") connections++;
      else if (id.endsWith("#true")) ephemeralIpPort++;
      if (c.responsible) responsible++;
    }
    const byConnections = this.ctx.node.connections.list().reduce((n, c) => n + this.ctx.push.subscriptionsOf(c.id).length, 0);
    return {
      clients: census.size,
      connections,
      ephemeralIpPort,
      persistentIpPort: census.size - connections - ephemeralIpPort,
      responsible,
      subscriptions: this.udpSubscriptions().length + byConnections,
    };
  }

  /** Every client by id, with its kind and whether this node is responsible for it. */
  private census(): Map<string, { kind: ClientKind; responsible: boolean }> {
    const census = new Map<string, { kind: ClientKind; responsible: boolean }>();
    const add = (id: string, kind: ClientKind, responsible: boolean) => {
      const known = census.get(id);
      census.set(id, { kind, responsible: responsible || known?.responsible === true });
    };
    for (const c of this.ctx.node.connections.list()) add(c.id, "connection", true);
    for (const [service, instances] of this.liveServices()) {
      const responsible = this.ctx.node.isResponsible(service.groupedName);
      for (const i of instances) {
        if (i.connection === undefined) add(clientIdOf(i), "ipPort", responsible);
        else add(i.connection.connectionId, "connection", false);
      }
    }
    for (const s of this.udpSubscriptions()) add(s.clientId, "ipPort", true);
    return census;
  }

  private *liveServices(): Generator<readonly [ServiceRef, Iterable<Instance>]> {
    for (const s of this.ctx.node.registry.services()) if (!s.deleted) yield [parseServiceKey(s.key), s.instances()];
  }

  /** This node's UDP push targets, of the services the registry knows (a deleted one's included). */
  private udpSubscriptions(): Subscription[] {
    return [...this.ctx.node.registry.keys()].flatMap((key) => this.ctx.push.subscribersOf(parseServiceKey(key)).map(udpSubscription));
  }
}

function udpSubscription(s: Subscriber): Subscription {
  const { service, ip, udpPort: port, app, agent } = s;
  return { service, clientId: ipPortId(ip, port, true), ip, port, app, agent, addr: `${ip}:${port}` };
}

function connectionSubscription(service: ServiceRef, c: ClientConnectionInfo): Subscription {
  return { service, clientId: c.id, ip: c.clientIp, port: 0, app: c.appName, agent: c.clientVersion, addr: c.clientIp };
}
