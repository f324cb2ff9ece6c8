/**
 * `/v2/ns/client*`, 2.x's ClientInfoControllerV2: the clients (clients.ts), one client's details, what it
 * registered and subscribed, and which clients registered or subscribed a service. The administrator's, as in
 * 2.x (`nacos/admin`). One difference on purpose: `ip` and `port` filter the publishers of a service only when
 * given (2.5's controller compares them even when absent, and so lists no publisher without them; its
 * subscriber list and its documentation say "not given: any").
 */
import type { FastifyInstance } from "fastify";
import { splitGroupedName, type ServiceRef } from "../../core/naming.js";
import { optionalBool, paramsOf, parseIp, parsePort, serviceOf, type Params } from "../params.js";
import type { Client, ClientDirectory } from "./clients.js";
import { ApiError, ErrorCode, success } from "./result.js";

/** A service as 2.x's client listings name it. */
function names(service: ServiceRef) {
  const { group, name } = splitGroupedName(service.groupedName);
  return { namespace: service.namespaceId, group, serviceName: name };
}

/** 2.x's client detail: a connection's meta only where it is held (2.x fails on another node's connection). */
function detailOf(client: Client) {
  if (client.kind === "ipPort") {
    const { id, ip, port, ephemeral } = client;
    return { clientId: id, ephemeral, clientType: "ipPort", clientIp: ip, clientPort: String(port) };
  }
  const { id, held } = client;
  if (held === undefined) return { clientId: id, ephemeral: true, clientType: "connection" };
  return {
    clientId: id,
    ephemeral: true,
    lastUpdatedTime: held.connectedAt,
    clientType: "connection",
    connectType: "GRPC",
    appName: held.appName,
    version: held.clientVersion,
    clientIp: held.clientIp,
    clientPort: String(held.clientPort),
  };
}

/** The optional `ip` and `port` a service's client listing is narrowed to. */
function addressFilterOf(p: Params): (ip: string, port: number) => boolean {
  const ip = p.has("ip") ? parseIp(p.raw("ip")!) : undefined;
  const port = p.has("port") ? parsePort(p.raw("port")!) : undefined;
  return (i, n) => (ip === undefined || i === ip) && (port === undefined || n === port);
}

/** The service a listing names; 2.x's `ephemeral` is checked but names no other service (a service holds both). */
function listedServiceOf(p: Params): ServiceRef {
  const service = serviceOf(p);
  optionalBool(p, ["ephemeral"], true);
  return service;
}

export function clientRoutes(app: FastifyInstance, clients: ClientDirectory): void {
  const known = async (p: Params): Promise<Client> => {
    const id = p.required("clientId");
    const client = await clients.find(id);
    if (client === undefined) throw new ApiError(404, ErrorCode.RESOURCE_NOT_FOUND, `clientId [ ${id} ] not exist`);
    return client;
  };

  app.get("/client/list", async () => success(await clients.ids()));

  app.get("/client", async (req) => success(detailOf(await known(paramsOf(req)))));

  app.get("/client/publish/list", async (req) => {
    const published = await clients.publications((await known(paramsOf(req))).id);
    return success(
      published.map(({ service, instance: { ip, port, clusterName } }) => ({
        ...names(service),
        registeredInstance: { ip, port, cluster: clusterName },
      })),
    );
  });

  app.get("/client/subscribe/list", async (req) => {
    const subscribed = clients.subscriptions((await known(paramsOf(req))).id);
    return success(subscribed.map(({ service, app, agent, addr }) => ({ ...names(service), subscriberInfo: { app, agent, addr } })));
  });

  app.get("/client/service/publisher/list", async (req) => {
    const p = paramsOf(req);
    const service = listedServiceOf(p);
    const wanted = addressFilterOf(p);
    const publishers = clients.publishersOf(service).filter(({ instance }) => wanted(instance.ip, instance.port));
    return success(publishers.map(({ clientId, instance: { ip, port, clusterName } }) => ({ ip, port, cluster: clusterName, clientId })));
  });

  app.get("/client/service/subscriber/list", async (req) => {
    const p = paramsOf(req);
    const service = listedServiceOf(p);
    const wanted = addressFilterOf(p);
    const subscribers = clients.subscribersOf(service).filter((s) => wanted(s.ip, s.port));
    return success(subscribers.map(({ clientId, ip, port }) => ({ clientId, ip, port })));
  });
}
