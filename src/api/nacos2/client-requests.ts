/**
 * The answers to Nacos 2.x clients' naming requests on the client port, as Nacos 2.x's request handlers give them:
 * each request type has its response type (the clients check the name) and, like the HTTP API, needs `r` or `w`
 * on the service it touches when auth is on, proven by `accessToken` (or `username`/`password`) in its headers.
 * Writes of ephemeral instances are bound to the connection: they live as long as it does. Every refusal is the
 * handler's response type with Nacos's error code (400 bad value, 403 no right, 503 over a limit, 500 failure) and
 * changes nothing.
 */
import { NacosError } from "../../core/errors.js";
import type { ConnectionBinding } from "../../core/instance.js";
import type { Log } from "../../core/log.js";
import { serviceKey, splitGroupedName, type ServiceRef } from "../../core/naming.js";
import type { ClientWrite } from "../../core/ops.js";
import { buildServiceInfo } from "../../core/service-info.js";
import type { ClientConnectionInfo } from "../../node/clients/client-connections.js";
import type { ClientConnectionMeta, ClientRequest, ClientRequestHandler } from "../../transport/nacos2/client-handler.js";
import { ErrorCode, failure, success, type ResponseBody, type TypedResponse } from "../../transport/nacos2/responses.js";
import type { AuthServices } from "../auth/auth.js";
import { hasPermission } from "../auth/permission.js";
import type { NodeContext } from "../context.js";
import { page } from "../paging.js";
import {
  batchOf,
  BATCH_REGISTER,
  DEREGISTER,
  instanceChangeOf,
  queryOf,
  serviceListOf,
  subscriptionOf,
  type InstanceChange,
} from "./naming-requests.js";

/** What the client port needs of the node's connections (NamingNode.connections). */
export interface ConnectionRegistry {
  open(info: ClientConnectionInfo): void;
  close(id: string, reason: string): void;
}

/** What it needs of push (PushService): the connections' subscriptions. */
export interface ConnectionSubscriptions {
  subscribeConnection(connectionId: string, service: ServiceRef, clusters: string): boolean;
  unsubscribeConnection(connectionId: string, service: ServiceRef, clusters: string): void;
}

export interface ClientRequestDeps {
  readonly ctx: NodeContext;
  /** This node's member address: the `node` of every binding it makes. */
  readonly self: string;
  readonly connections: ConnectionRegistry;
  readonly subscriptions: ConnectionSubscriptions;
  /** Auth when on (api/auth/auth.ts `authServicesOf`). */
  readonly auth: AuthServices | undefined;
  readonly log: Log;
}

/** What a request touches, for its permission: one service, or a whole namespace (a listing). */
type Resource = { readonly service: ServiceRef } | { readonly namespaceId: string };

interface Handler {
  /** The response type the clients expect. */
  readonly responseType: string;
  readonly action: "r" | "w";
  /** Reads the request (throws NacosError 400) and says what it touches. */
  readonly read: (body: Readonly<Record<string, unknown>>) => {
    readonly resource: Resource;
    run(request: ClientRequest): Promise<ResponseBody>;
  };
}

const resourceOf = (r: Resource): string => {
  if ("namespaceId" in r) return `${r.namespaceId}:*:naming/*`;
  const { group, name } = splitGroupedName(r.service.groupedName);
  return `${r.service.namespaceId}:${group}:naming/${name}`;
};

export class ClientRequests implements ClientRequestHandler {
  private readonly handlers: ReadonlyMap<string, Handler>;

  constructor(private readonly deps: ClientRequestDeps) {
    this.handlers = new Map<string, Handler>([
      ["InstanceRequest", { responseType: "InstanceResponse", action: "w", read: (body) => this.instance(body, true) }],
      ["PersistentInstanceRequest", { responseType: "InstanceResponse", action: "w", read: (body) => this.instance(body, false) }],
      ["BatchInstanceRequest", { responseType: "BatchInstanceResponse", action: "w", read: (body) => this.batch(body) }],
      ["SubscribeServiceRequest", { responseType: "SubscribeServiceResponse", action: "r", read: (body) => this.subscribe(body) }],
      ["ServiceQueryRequest", { responseType: "QueryServiceResponse", action: "r", read: (body) => this.query(body) }],
      ["ServiceListRequest", { responseType: "ServiceListResponse", action: "r", read: (body) => this.serviceList(body) }],
    ]);
  }

  get accepting(): boolean {
    const { node } = this.deps.ctx;
    return node.registryComplete && !node.isStopping;
  }

  handles(type: string): boolean {
    return this.handlers.has(type);
  }

  async handle(request: ClientRequest): Promise<TypedResponse> {
    const handler = this.handlers.get(request.type);
    if (handler === undefined) throw new Error(`no handler for ${request.type}`);
    const { responseType } = handler;
    try {
      const { resource, run } = handler.read(request.body);
      await this.authorize(request, resourceOf(resource), handler.action);
      return { type: responseType, body: await run(request) };
    } catch (err) {
      if (err instanceof NacosError) return { type: responseType, body: failure(request.requestId, err.status, err.message) };
      this.deps.log.error("client request failed", { type: request.type, connection: request.connection.id, error: String(err) });
      return { type: responseType, body: failure(request.requestId, ErrorCode.SERVER_ERROR, "internal error") };
    }
  }

  opened(connection: ClientConnectionMeta): void {
    this.deps.connections.open({
      id: connection.id,
      clientIp: connection.remoteIp,
      clientPort: connection.remotePort,
      clientVersion: connection.clientVersion,
      namespace: connection.tenant,
      appName: connection.appName,
      labels: connection.labels,
      connectedAt: this.deps.ctx.node.scheduler.now(),
    });
  }

  closed(connectionId: string, reason: string): void {
    this.deps.connections.close(connectionId, reason);
  }

  /** Nacos's RemoteRequestAuthFilter: with auth on, the headers' credentials must grant `action` on the resource. */
  private async authorize(request: ClientRequest, resource: string, action: "r" | "w"): Promise<void> {
    const auth = this.deps.auth;
    if (auth === undefined) return;
    const header = (name: string): string | undefined => request.headers.get(name.toLowerCase());
    const username = await auth.authenticator.identify({
      accessToken: header("accessToken"),
      username: header("username"),
      password: header("password"),
      address: request.connection.remoteIp,
    });
    if (auth.store.isAdmin(username) || hasPermission(auth.store, username, { resource, action })) return;
    throw new NacosError(ErrorCode.NO_RIGHT, "authorization failed!");
  }

  private binding(request: ClientRequest): ConnectionBinding {
    return { node: this.deps.self, connectionId: request.connection.id };
  }

  private write(op: ClientWrite): Promise<unknown> {
    return this.deps.ctx.writer.write(op);
  }

  /** InstanceRequest (ephemeral, bound to the connection) and PersistentInstanceRequest (as `/instance` writes it). */
  private instance(body: Readonly<Record<string, unknown>>, ephemeral: boolean) {
    const change: InstanceChange = instanceChangeOf(body, ephemeral);
    const { service, instance } = change;
    return {
      resource: { service },
      run: async (request: ClientRequest) => {
        const connection = ephemeral ? { connection: this.binding(request) } : {};
        if (change.type === DEREGISTER) {
          const { ip, port, clusterName } = instance;
          await this.write({ type: "deregister", service, address: { ip, port, clusterName }, ephemeral, ...connection });
        } else {
          await this.write({ type: "register", service, instance, ...connection });
        }
        return success(request.requestId, { type: change.type });
      },
    };
  }

  private batch(body: Readonly<Record<string, unknown>>) {
    const { service, instances } = batchOf(body);
    return {
      resource: { service },
      run: async (request: ClientRequest) => {
        await this.write({ type: "batchRegister", service, instances, connection: this.binding(request) });
        return success(request.requestId, { type: BATCH_REGISTER });
      },
    };
  }

  private serviceInfo(service: ServiceRef, clusters: string, healthyOnly: boolean, cacheMillis: number) {
    const { node } = this.deps.ctx;
    return buildServiceInfo(node.registry.getLive(serviceKey(service)), {
      groupedName: service.groupedName,
      clusters,
      healthyOnly,
      cacheMillis,
      lastRefTime: node.scheduler.now(),
    });
  }

  /** SubscribeServiceRequest: answers the view at once; while subscribed, changes are pushed on the stream. */
  private subscribe(body: Readonly<Record<string, unknown>>) {
    const { service, clusters, subscribe } = subscriptionOf(body);
    return {
      resource: { service },
      run: async (request: ClientRequest) => {
        const { subscriptions, ctx } = this.deps;
        const connectionId = request.connection.id;
        if (!subscribe) subscriptions.unsubscribeConnection(connectionId, service, clusters);
        // With push switched off nothing is subscribed and the clients keep what they query.
        else if (ctx.node.switches.pushEnabled && !subscriptions.subscribeConnection(connectionId, service, clusters)) {
          throw new NacosError(ErrorCode.OVER_THRESHOLD, "too many subscriptions on this connection or to this service");
        }
        const info = this.serviceInfo(service, clusters, false, ctx.node.switches.defaultPushCacheMillis);
        return { ...success(request.requestId, { serviceInfo: info }), message: "success" };
      },
    };
  }

  private query(body: Readonly<Record<string, unknown>>) {
    const { service, clusters, healthyOnly } = queryOf(body);
    return {
      resource: { service },
      run: async (request: ClientRequest) => {
        const info = this.serviceInfo(service, clusters, healthyOnly, this.deps.ctx.node.switches.defaultCacheMillis);
        return success(request.requestId, { serviceInfo: info });
      },
    };
  }

  /** ServiceListRequest: bare names of one group, paged from 1, and how many there are. */
  private serviceList(body: Readonly<Record<string, unknown>>) {
    const { namespaceId, groupName, pageNo, pageSize } = serviceListOf(body);
    return {
      resource: { namespaceId },
      run: async (request: ClientRequest) => {
        const names = this.deps.ctx.node.registry
          .serviceNames(namespaceId)
          .map((n) => splitGroupedName(n))
          .filter((n) => n.group === groupName)
          .map((n) => n.name);
        return success(request.requestId, { count: names.length, serviceNames: page(names, pageNo, pageSize) });
      },
    };
  }
}
