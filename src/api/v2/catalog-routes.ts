/**
 * `/v2/ns/catalog/instances`, 2.x's CatalogControllerV2: one page of a service's instances as registered
 * (disabled and unhealthy ones included), optionally only the healthy or enabled ones, with their count. Pages
 * are taken after the filters (2.x paged before filtering, and failed past the filtered end) and bounded.
 */
import type { FastifyInstance } from "fastify";
import { serviceKey } from "../../core/naming.js";
import { instanceInfo } from "../../core/service-info.js";
import type { NodeContext } from "../context.js";
import { page, positive } from "../paging.js";
import { paramsOf, parseBool, serviceOf, type Params } from "../params.js";
import { ApiError, ErrorCode, success } from "./result.js";

/** The most instances one answer lists. */
const MAX_PAGE_SIZE = 1000;

/** An optional boolean filter: undefined when not given. */
const filterOf = (p: Params, name: string): boolean | undefined => (p.has(name) ? parseBool(name, p.raw(name)!) : undefined);

export function catalogRoutes(app: FastifyInstance, ctx: NodeContext): void {
  app.all("/catalog/instances", async (req) => {
    const p = paramsOf(req);
    const service = serviceOf(p);
    const healthyOnly = filterOf(p, "healthyOnly");
    const enabledOnly = filterOf(p, "enabledOnly");
    const pageNo = positive(p, "pageNo");
    const pageSize = positive(p, "pageSize");
    if (pageSize > MAX_PAGE_SIZE) {
      throw new ApiError(
        400,
        ErrorCode.PARAMETER_VALIDATE_ERROR,
        `Param 'pageSize' must be at most ${MAX_PAGE_SIZE}, current: ${pageSize}`,
      );
    }
    const instances = (ctx.node.registry.getLive(serviceKey(service))?.instances ?? []).filter(
      (i) => (healthyOnly === undefined || i.healthy === healthyOnly) && (enabledOnly === undefined || i.enabled === enabledOnly),
    );
    const shown = page(instances, pageNo, pageSize);
    // 2.x leaves `instances` out of a page past the end.
    return success(shown.length === 0 ? { count: instances.length } : { instances: shown.map(instanceInfo), count: instances.length });
  });
}
