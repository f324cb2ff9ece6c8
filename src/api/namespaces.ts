/**
 * Namespaces as Nacos 1.4's console keeps them (its `tenant_info` rows): an id, a show name and a description,
 * held in the cluster table `namespaces` (id → `{"name","desc"}`), so a namespace created on any node is durable
 * and reaches every member. `public` is implicit: it always exists, is never stored and cannot be changed or
 * deleted. As in 1.4 the table only names namespaces: registering into one nobody created keeps working, and
 * deleting one leaves its services alone.
 */
import { randomUUID } from "node:crypto";
import { badRequest, notFound } from "../core/errors.js";
import { DEFAULT_NAMESPACE, MAX_NAMESPACE_LENGTH } from "../core/naming.js";
import type { NodeView } from "./context.js";
import { parseJsonOrUndefined } from "./lenient-json.js";

export interface Namespace {
  readonly id: string;
  readonly name: string;
  readonly desc: string | undefined;
}

const TABLE = "namespaces";
/** 1.4's `namespaceIdCheckPattern` (`^[\w-]+`, matched whole; Java's `\w` is ASCII as JavaScript's is). */
const ID_PATTERN = /^[\w-]+$/;
/** 1.4's `tenant_info` columns: `tenant_name` varchar(128), `tenant_desc` varchar(256). */
const MAX_NAME_LENGTH = 128;
const MAX_DESC_LENGTH = 256;

/** Blank and `public` both mean the default namespace, as 1.4's console and clients use them. */
export const isPublic = (id: string): boolean => id.trim() === "" || id === DEFAULT_NAMESPACE;

/** A row as a peer or the disk handed it over: only a well-formed one is a namespace. */
function parseRow(id: string, value: string): Namespace | undefined {
  const { name, desc } = (parseJsonOrUndefined(value) ?? {}) as { name?: unknown; desc?: unknown };
  if (typeof name !== "string") return undefined;
  return { id, name, desc: typeof desc === "string" ? desc : undefined };
}

function checkTexts(name: string, desc: string | undefined): void {
  if (name.length > MAX_NAME_LENGTH) throw badRequest(`too long namespaceName, over ${MAX_NAME_LENGTH}`);
  if (desc !== undefined && desc.length > MAX_DESC_LENGTH) throw badRequest(`too long namespaceDesc, over ${MAX_DESC_LENGTH}`);
}

/** Messages are Nacos 2.x's (1.4 answered a bare `false` for each of these). */
function checkNewId(id: string): void {
  if (!ID_PATTERN.test(id)) throw badRequest(`namespaceId [${id}] mismatch the pattern`);
  if (id.length > MAX_NAMESPACE_LENGTH) throw badRequest(`too long namespaceId, over ${MAX_NAMESPACE_LENGTH}`);
}

const notExist = (id: string) => notFound(`namespaceId [ ${id} ] not exist`);

export class Namespaces {
  constructor(private readonly node: Pick<NodeView, "tables" | "setTableRow">) {}

  /** The created namespaces, by id (`public` not among them). */
  list(): Namespace[] {
    const out: Namespace[] = [];
    for (const [id, value] of this.node.tables.entries(TABLE)) {
      const ns = parseRow(id, value);
      if (ns !== undefined) out.push(ns);
    }
    return out;
  }

  get(id: string): Namespace | undefined {
    const value = this.node.tables.get(TABLE, id);
    return value === undefined ? undefined : parseRow(id, value);
  }

  /** Creates a namespace under `customId`, or under a new UUID when blank; resolves to its id once durable. */
  async create(customId: string, name: string, desc: string | undefined): Promise<string> {
    const id = customId.trim() === "" ? randomUUID() : customId.trim();
    checkNewId(id);
    checkTexts(name, desc);
    if (isPublic(id) || this.get(id) !== undefined) throw badRequest(`the namespaceId is existed, namespaceId: ${id}`);
    await this.save({ id, name, desc });
    return id;
  }

  /** Renames and re-describes an existing namespace; an unchanged one is not written again. */
  async update(id: string, name: string, desc: string | undefined): Promise<void> {
    checkTexts(name, desc);
    if (isPublic(id)) throw badRequest("the public namespace cannot be changed");
    const current = this.get(id);
    if (current === undefined) throw notExist(id);
    if (current.name !== name || current.desc !== desc) await this.save({ id, name, desc });
  }

  /** Deletes a namespace (its services stay, as in 1.4); deleting an unknown one changes nothing. */
  async remove(id: string): Promise<void> {
    if (isPublic(id)) throw badRequest("the public namespace cannot be deleted");
    if (this.node.tables.get(TABLE, id) !== undefined) await this.node.setTableRow(TABLE, id, undefined);
  }

  /** The namespace, or 404 as Nacos 2.x answers (1.4 failed with a 500). */
  require(id: string): Namespace {
    const ns = this.get(id);
    if (ns === undefined) throw notExist(id);
    return ns;
  }

  private save(ns: Namespace): Promise<void> {
    return this.node.setTableRow(TABLE, ns.id, JSON.stringify({ name: ns.name, ...(ns.desc === undefined ? {} : { desc: ns.desc }) }));
  }
}
