/**
 * Reading untrusted JSON from peers: every reader names the path of what is wrong, and every failure is a
 * 400 (NacosError), so a malformed body is refused with a message that says what to fix, before anything
 * is applied.
 */
import { badRequest } from "../../../core/errors.js";

export type JsonObject = Readonly<Record<string, unknown>>;

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

export function expectObject(value: unknown, where: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw badRequest(`${where} must be a JSON object`);
  return value as JsonObject;
}

export function expectArray(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw badRequest(`${where} must be a JSON array`);
  return value;
}

export function expectString(value: unknown, where: string): string {
  if (typeof value !== "string") throw badRequest(`${where} must be a string`);
  return value;
}

export function optionalString(o: JsonObject, field: string, where: string, fallback: string): string {
  const v = o[field];
  return v === undefined || v === null ? fallback : expectString(v, `${where}.${field}`);
}

export function requiredString(o: JsonObject, field: string, where: string): string {
  const v = optionalString(o, field, where, "");
  if (v.trim() === "") throw badRequest(`${where}.${field} is required`);
  return v;
}

export function optionalBoolean(o: JsonObject, field: string, where: string, fallback: boolean): boolean {
  const v = o[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw badRequest(`${where}.${field} must be true or false`);
  return v;
}

export function optionalNumber(o: JsonObject, field: string, where: string, fallback: number): number {
  const v = o[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) throw badRequest(`${where}.${field} must be a number`);
  return v;
}

export function requiredInteger(o: JsonObject, field: string, where: string, min: number, max: number): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw badRequest(`${where}.${field} must be an integer in [${min}, ${max}]`);
  }
  return v;
}

/** A non-negative integer field (milliseconds, counters); 0 when absent. */
export function optionalInteger(o: JsonObject, field: string, where: string): number {
  if (o[field] === undefined || o[field] === null) return 0;
  return requiredInteger(o, field, where, 0, Number.MAX_SAFE_INTEGER);
}

/** A `Map<String,String>` as Jackson reads it: scalar values are taken as their text. */
export function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const o = expectObject(value, where);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === "string") out[k] = v;
    else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
    else throw badRequest(`${where}.${k} must be a string`);
  }
  return out;
}
