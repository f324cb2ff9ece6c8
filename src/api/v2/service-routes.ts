/**
 * `/v2/ns/service*`, 2.x's ServiceControllerV2: create, update, delete, detail and the names of a group's
 * services, through the same writes as `/v1/ns/service`. Where 1.x and 2.x differ, this is 2.x: the protect
 * threshold of an update is optional (0), a service that still holds instances is not deleted, and the detail
 * is 2.x's ServiceDetailInfo.
 */
import type { FastifyInstance } from "fastify";
import { settingsOf } from "../../core/cluster-settings.js";
import { DEFAULT_GROUP, serviceKey, splitGroupedName } from "../../core/naming.js";
import { clusterNamesOf } from "../../core/service-datum.js";
import type { NodeContext } from "../context.js";
import { page, positive } from "../paging.js";
import { namespaceOf, optionalBool, paramsOf, serviceOf } from "../params.js";
import { serviceSpecOf } from "../write-params.js";
import { ApiError, ErrorCode, success } from "./result.js";
import { write } from "./write.js";

/** 2.x's largest page of service names; a larger `pageSize` asks for this many. */
const MAX_PAGE_SIZE = 500;

export function serviceRoutes(app: FastifyInstance, ctx: NodeContext): void {
  app.post("/service", async (req) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    // Checked as 2.x binds it; a service here holds both kinds of instance, so it is not kept.
    optionalBool(p, ["ephemeral"], false);
    await write(ctx, req, { type: "createService", service, spec: serviceSpecOf(p, p.optional("protectThreshold", "0")) });
    return success("ok");
  });

  app.put("/service", async (req) => {
    const p = paramsOf(req);
    await write(ctx, req, { type: "updateService", service: serviceOf(p), spec: serviceSpecOf(p, p.optional("protectThreshold", "0")) });
    return success("ok");
  });

  app.delete("/service", async (req) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    if ((ctx.node.registry.liveService(serviceKey(service))?.size ?? 0) > 0) {
      const message = `Service ${service.groupedName} is not empty, can't be delete. Please unregister instance first`;
      throw new ApiError(400, ErrorCode.SERVICE_DELETE_FAILURE, message);
    }
    await write(ctx, req, { type: "deleteService", service });
    return success("ok");
  });

  app.get("/service", async (req) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const datum = ctx.node.registry.getLive(serviceKey(service));
    if (datum === undefined) {
      const message = `service not found, namespace: ${service.namespaceId}, serviceName: ${service.groupedName}`;
      throw new ApiError(400, ErrorCode.SERVICE_NOT_EXIST, message);
    }
    const { group, name } = splitGroupedName(service.groupedName);
    const clusterMap: Record<string, unknown> = {};
    for (const clusterName of clusterNamesOf(datum)) {
      const { healthChecker, metadata } = settingsOf(datum.meta.clusters, clusterName);
      clusterMap[clusterName] = { clusterName, healthChecker, metadata, hosts: null };
    }
    return success({
      namespace: service.namespaceId,
      serviceName: name,
      groupName: group,
      clusterMap,
      metadata: datum.meta.metadata,
      protectThreshold: datum.meta.protectThreshold,
      selector: datum.meta.selector,
      // 2.x's services are of one kind; here, one is ephemeral when it holds only ephemeral instances.
      ephemeral: datum.instances.length > 0 && datum.instances.every((i) => i.ephemeral),
    });
  });

  app.get("/service/list", async (req) => {
    const p = paramsOf(req);
    const pageNo = positive(p, "pageNo", "1");
    const pageSize = Math.min(MAX_PAGE_SIZE, positive(p, "pageSize", "20"));
    const group = p.optional("groupName", DEFAULT_GROUP);
    const names = ctx.node.registry
      .serviceNames(namespaceOf(p))
      .map(splitGroupedName)
      .filter((n) => n.group === group)
      .map((n) => n.name);
    return success({ count: names.length, services: page(names, pageNo, pageSize) });
  });
}
