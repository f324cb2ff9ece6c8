/**
 * Request parameters the way Nacos 1.4 reads them (query string and form body merged, the first value of a
 * repeated key) and the validators every route shares. Each failure is a NacosError with the status and the
 * 1.4 message a Nacos client expects; where 1.4 accepted nonsense (ports above 65535, `healthy=yes`) the
 * message says what is allowed instead.
 */
import { isIPv6 } from "node:net";
import type { FastifyRequest } from "fastify";
import { firstValue } from "../transport/http-common.js";
import { badRequest } from "../core/errors.js";
import { isPort, isWeight, MAX_PORT, type Metadata } from "../core/instance.js";
import {
  checkClusterName,
  checkGroupedName,
  DEFAULT_GROUP,
  DEFAULT_NAMESPACE,
  GROUP_SEPARATOR,
  MAX_NAMESPACE_LENGTH,
  toGroupedName,
  type ServiceRef,
} from "../core/naming.js";
import type { Selector } from "../core/service-datum.js";

type RawValue = string | string[] | undefined;

export class Params {
  private constructor(private readonly values: ReadonlyMap<string, string>) {}

  /** Query merged with a form body (the body wins, as a servlet's getParameter sees both). */
  static of(query: unknown, body: unknown): Params {
    const values = new Map<string, string>();
    for (const source of [query, body]) {
      if (source === null || typeof source !== "object" || Array.isArray(source)) continue;
      for (const [k, v] of Object.entries(source as Record<string, RawValue>)) {
        const value = firstValue(v);
        if (value !== undefined) values.set(k, value);
      }
    }
    return new Params(values);
  }

  /** The raw value, possibly empty. */
  raw(name: string): string | undefined {
    return this.values.get(name);
  }

  /** 1.4's `required`: absent or empty is a 400. */
  required(name: string): string {
    const v = this.values.get(name);
    if (v === undefined || v === "") throw badRequest(`Param '${name}' is required.`);
    return v;
  }

  /** 1.4's `optional`: absent or blank gives the default. */
  optional(name: string, fallback: string): string {
    const v = this.values.get(name);
    return v === undefined || v.trim() === "" ? fallback : v;
  }

  /** The first of several names (a current one and its legacy alias) that has a non-blank value. */
  either(names: readonly string[], fallback: string): string {
    for (const n of names) {
      const v = this.values.get(n);
      if (v !== undefined && v.trim() !== "") return v;
    }
    return fallback;
  }

  has(name: string): boolean {
    const v = this.values.get(name);
    return v !== undefined && v.trim() !== "";
  }
}

const requestParams = new WeakMap<FastifyRequest, Params>();

/**
 * A request's parameters, read once: the guard and the handler see the very same object, so what the guard
 * checks (the service, the namespace) is what the handler acts on.
 */
export function paramsOf(req: FastifyRequest): Params {
  let p = requestParams.get(req);
  if (p === undefined) {
    p = Params.of(req.query, req.body);
    requestParams.set(req, p);
  }
  return p;
}

/** Java's Integer.parseInt, with 1.4's NumberFormatException message. */
export function parseInteger(text: string): number {
  const n = Number(text);
  if (!/^[+-]?\d+$/.test(text) || n < -2147483648 || n > 2147483647) throw badRequest(`For input string: "${text}"`);
  return n;
}

/** Java's Double.parseDouble (surrounding blanks allowed), with its NumberFormatException message. */
export function parseFloatParam(text: string): number {
  const t = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(t)) throw badRequest(`For input string: "${text}"`);
  return Number(t.replace(/[dDfF]$/, ""));
}

export function parseBool(name: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === "true" || t === "false") return t === "true";
  throw badRequest(`Param '${name}' must be true or false, current: ${text}`);
}

export const optionalBool = (p: Params, names: readonly string[], fallback: boolean): boolean => {
  const name = names.find((n) => p.has(n));
  return name === undefined ? fallback : parseBool(name, p.raw(name)!);
};

export function parsePort(text: string): number {
  const port = parseInteger(text.trim());
  if (!isPort(port)) throw badRequest(`Param 'port' must be an integer in [0, ${MAX_PORT}], current: ${text}`);
  return port;
}

const IP_MESSAGE = "instance format invalid: Your IP address is spelled incorrectly";
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** IPv4 (each octet 0–255), IPv6, or a host name; 1.4's message for anything else. */
export function parseIp(text: string): string {
  const ip = text.trim();
  if (/^[\d.]+$/.test(ip)) {
    const octets = ip.split(".");
    if (octets.length !== 4 || octets.some((o) => o === "" || Number(o) > 255 || (o.length > 1 && o.startsWith("0")))) {
      throw badRequest(IP_MESSAGE);
    }
    return ip;
  }
  if (isIPv6(ip.replace(/^\[(.*)\]$/, "$1")) || HOSTNAME.test(ip)) return ip.replace(/^\[(.*)\]$/, "$1");
  throw badRequest(IP_MESSAGE);
}

export function parseWeight(text: string): number {
  const w = parseFloatParam(text);
  if (!isWeight(w)) throw badRequest("instance format invalid: The weights range from 0.0 to 10000.0");
  return w;
}

/** Java's `String.split` with a literal separator: trailing empty strings are dropped. */
function javaSplit(text: string, separator: string): string[] {
  const parts = text.split(separator);
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/**
 * A JSON object of scalars, or 1.4's `k1=v1,k2=v2`; empty gives no metadata. Pairs split as Java splits
 * them, so `a=` (one part) is refused as 1.4 refuses it, and a trailing comma is accepted as 1.4 accepts it.
 */
export function parseMetadata(text: string): Metadata {
  const t = text.trim();
  if (t === "") return {};
  const incorrect = () => badRequest(`metadata format incorrect:${text}`);
  if (t.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(t);
    } catch {
      throw incorrect();
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw incorrect();
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (v !== null && typeof v === "object") throw incorrect();
      out[k] = v === null ? "" : String(v);
    }
    return out;
  }
  const out: Record<string, string> = {};
  for (const pair of javaSplit(t, ",")) {
    const kv = javaSplit(pair, "=");
    if (kv.length !== 2 || kv[0]!.trim() === "") throw incorrect();
    out[kv[0]!.trim()] = kv[1]!.trim();
  }
  return out;
}

export function parseClusterName(text: string): string {
  checkClusterName(text);
  return text;
}

/** `{"type":"none"}` or `{"type":"label","expression":"..."}` (URL-decoded JSON); empty means none. */
export function parseSelector(text: string): Selector {
  if (text.trim() === "") return { type: "none" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest(`Param 'selector' must be JSON like {"type":"none"} or {"type":"label","expression":"..."}, current: ${text}`);
  }
  const o = parsed as { type?: unknown; expression?: unknown } | null;
  if (o?.type === "none") return { type: "none" };
  if (o?.type === "label" && typeof o.expression === "string") return { type: "label", expression: o.expression };
  throw badRequest(`Param 'selector' has an unsupported type (allowed: none, label with an expression), current: ${text}`);
}

export function namespaceOf(p: Params): string {
  const ns = p.optional("namespaceId", DEFAULT_NAMESPACE);
  if (ns.length > MAX_NAMESPACE_LENGTH) throw badRequest(`Param 'namespaceId' is longer than ${MAX_NAMESPACE_LENGTH} characters`);
  return ns;
}

/** The namespace a listing names, undefined for every namespace (`/service/names` without `namespaceId`). */
export const namedNamespaceOf = (p: Params): string | undefined => (p.has("namespaceId") ? namespaceOf(p) : undefined);

const parsedServices = new WeakMap<Params, ServiceRef>();

/**
 * The service a request is about: `serviceName` (or 1.x's `dom`) prefixed with `groupName` unless it
 * already has a group, as 1.4's DistroFilter rewrites it; then the format check. A `groupName` that names
 * another group than the one in `serviceName` is refused: 1.4 acted on the embedded group but checked the
 * permission of `groupName`. Parsed once per request, so the guard's resource is this very service.
 */
export function serviceOf(p: Params): ServiceRef {
  const parsed = parsedServices.get(p);
  if (parsed !== undefined) return parsed;
  const name = (p.has("serviceName") ? p.required("serviceName") : p.has("dom") ? p.required("dom") : p.required("serviceName")).trim();
  const at = name.indexOf(GROUP_SEPARATOR);
  if (at >= 0 && p.has("groupName") && p.required("groupName").trim() !== name.slice(0, at)) {
    const group = p.required("groupName").trim();
    throw badRequest(`Param 'groupName' is illegal, serviceName '${name}' is in group '${name.slice(0, at)}', not '${group}'`);
  }
  const groupedName = toGroupedName(name, p.optional("groupName", DEFAULT_GROUP));
  checkGroupedName(groupedName);
  const service = { namespaceId: namespaceOf(p), groupedName };
  parsedServices.set(p, service);
  return service;
}
