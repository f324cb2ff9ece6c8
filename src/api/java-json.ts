/**
 * JSON parameters bound to a Java class the way Nacos 1.4's Jackson (2.12, default coercions, unknown fields
 * ignored) binds them: a `String` field takes a string, or a number or boolean as its text; an `int` or
 * `double` a number, or numeric text; a `boolean` true/false, their text, or an integer (0 is false); a
 * `Map<String,String>` an object of such strings. An array or object where a scalar belongs, or a boolean where
 * a number belongs, is refused as Jackson refuses it (`{"ip":["192.0.2.10"]}` is no address), with a 400 that
 * names the field. Every declared field is checked, used or not, so a request 1.4 refused is refused here
 * before anything changes. `null` counts as absent.
 */
import { badRequest } from "../core/errors.js";
import { parseFloatParam, parseInteger } from "./params.js";

export type JavaType = "String" | "int" | "double" | "boolean" | "Map<String,String>";

/** A Java class as the field types Jackson binds; the TypeScript value each becomes. */
export type JavaClass = Readonly<Record<string, JavaType>>;
type ValueOf<T extends JavaType> = T extends "String"
  ? string
  : T extends "int" | "double"
    ? number
    : T extends "boolean"
      ? boolean
      : Readonly<Record<string, string>>;
export type Bound<C extends JavaClass> = { readonly [K in keyof C]?: ValueOf<C[K]> };

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

const refuse = (where: string, what: string, value: unknown) =>
  badRequest(`Param '${where}' must be ${what}, current: ${JSON.stringify(value)}`);

function javaString(where: string, v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw refuse(where, "a string", v);
}

function javaInt(where: string, v: unknown): number {
  if (typeof v === "number") {
    // Jackson truncates a fraction (ACCEPT_FLOAT_AS_INT) but refuses what an int cannot hold.
    if (v < INT_MIN || v > INT_MAX) throw refuse(where, "an integer", v);
    return Math.trunc(v);
  }
  if (typeof v === "string") return v.trim() === "" ? 0 : parseInteger(v.trim());
  throw refuse(where, "an integer", v);
}

function javaDouble(where: string, v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return v.trim() === "" ? 0 : parseFloatParam(v);
  throw refuse(where, "a number", v);
}

function javaBoolean(where: string, v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number" && Number.isInteger(v)) return v !== 0;
  if (typeof v === "string") {
    const t = v.trim();
    if (t === "true" || t === "True" || t === "TRUE") return true;
    if (t === "false" || t === "False" || t === "FALSE" || t === "") return false;
  }
  throw refuse(where, "true or false", v);
}

/** A JSON object's values, each as Jackson makes a `Map<String,String>` value of it. */
export function stringMapOf(where: string, v: unknown): Readonly<Record<string, string>> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw refuse(where, "an object of strings", v);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) out[k] = value === null ? "" : javaString(`${where}.${k}`, value);
  return out;
}

const READERS: { readonly [T in JavaType]: (where: string, v: unknown) => ValueOf<T> } = {
  String: javaString,
  int: javaInt,
  double: javaDouble,
  boolean: javaBoolean,
  "Map<String,String>": stringMapOf,
};

/** Binds a parsed JSON value (`where` names it in refusals) to `javaClass`; undefined fields were absent or null. */
export function bindJava<C extends JavaClass>(where: string, value: unknown, javaClass: C): Bound<C> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw refuse(where, "an object", value);
  const o = value as Readonly<Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const [field, type] of Object.entries(javaClass)) {
    const v = Object.hasOwn(o, field) ? o[field] : undefined;
    if (v !== undefined && v !== null) out[field] = READERS[type](`${where}.${field}`, v);
  }
  return out as Bound<C>;
}
