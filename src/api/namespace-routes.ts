/**
 * `/v1/console/namespaces` (also under `/nacos`): Nacos 1.4's NamespaceController, its parameters and answers —
 * the list wrapped in a RestResult, one namespace with `show=all`, and `true` for every accepted change. Where
 * 1.4 answered a bad or duplicate id with a bare `false` (or failed with a 500), this answers 400/404 with what
 * was wrong (Nacos 2.x's messages). There is no config service: `configCount` is always 0.
 */
import type { FastifyInstance } from "fastify";
import { CONTEXT_PATHS } from "../transport/http-common.js";
import { userOf } from "./auth/guard.js";
import type { NodeContext } from "./context.js";
import { CreationBudget } from "./creation-budget.js";
import { isPublic, type Namespace, Namespaces } from "./namespaces.js";
import { paramsOf, type Params } from "./params.js";

/** 1.4's per-namespace config quota: shown as 1.4 shows it, nothing to enforce here. */
const QUOTA = 200;
/** 1.4's namespace types: 0 the global (public) one, 2 a custom one. */
const PUBLIC_TYPE = 0;
const CUSTOM_TYPE = 2;

/** A list entry; 1.4 lists `public` as the empty id (config's tenant ""), which clients read as public. */
function listEntry(id: string, showName: string, type: number) {
  return { namespace: id, namespaceShowName: showName, quota: QUOTA, configCount: 0, type };
}

function listAnswer(namespaces: readonly Namespace[]) {
  const data = [listEntry("", "public", PUBLIC_TYPE), ...namespaces.map((ns) => listEntry(ns.id, ns.name, CUSTOM_TYPE))];
  return { code: 200, message: null, data };
}

/** `show=all`: one namespace with its description; a blank id (or `public`) is the public namespace. */
function detailAnswer(namespaces: Namespaces, id: string) {
  if (isPublic(id)) return { ...listEntry(id, "Public", PUBLIC_TYPE), namespaceDesc: "Public Namespace" };
  const ns = namespaces.require(id);
  return { ...listEntry(ns.id, ns.name, CUSTOM_TYPE), namespaceDesc: ns.desc ?? null };
}

/** A parameter 1.4 requires to be present but allows blank (`@RequestParam` without a default). */
function present(p: Params, name: string): string {
  return p.raw(name) ?? p.required(name);
}

const descOf = (p: Params): string | undefined => p.raw("namespaceDesc");

export function namespaceRoutes(app: FastifyInstance, ctx: NodeContext): void {
  const namespaces = new Namespaces(ctx.node);
  const anonymous = new CreationBudget("namespaces");
  for (const path of CONTEXT_PATHS.map((c) => `${c}/v1/console/namespaces`)) {
    app.get(path, async (req) => {
      const p = paramsOf(req);
      if (p.raw("show") === "all") return detailAnswer(namespaces, present(p, "namespaceId"));
      if (p.raw("checkNamespaceIdExist") === "true") return namespaces.get(p.optional("customNamespaceId", "").trim()) !== undefined;
      return listAnswer(namespaces.list());
    });
    app.post(path, async (req) => {
      const p = paramsOf(req);
      if (userOf(req) === undefined) anonymous.spend(ctx.node.scheduler.now());
      await namespaces.create(p.optional("customNamespaceId", ""), p.required("namespaceName"), descOf(p));
      return true;
    });
    app.put(path, async (req) => {
      const p = paramsOf(req);
      await namespaces.update(p.required("namespace"), p.required("namespaceShowName"), descOf(p));
      return true;
    });
    app.delete(path, async (req) => {
      await namespaces.remove(present(paramsOf(req), "namespaceId"));
      return true;
    });
  }
}
