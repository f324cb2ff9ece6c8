/** 1-based paging as Nacos 1.4's list endpoints read it (`pageNo`, `pageSize`), bounded where 1.4 was not. */
import { badRequest } from "../core/errors.js";
import { parseInteger, type Params } from "./params.js";

/** A positive whole number; required when no fallback is given (1.4's `pageNo`/`pageSize` of `/service/list`). */
export function positive(p: Params, name: string, fallback?: string): number {
  const text = fallback === undefined ? p.required(name) : p.optional(name, fallback);
  const n = parseInteger(text.trim());
  if (n < 1) throw badRequest(`Param '${name}' must be a positive integer, current: ${text}`);
  return n;
}

export interface Paging {
  readonly pageNo: number;
  readonly pageSize: number;
}

/**
 * `pageNo` (default 1) and `pageSize` (default `defaultSize`) for the console's lists. 1.4 takes any page size;
 * here one answer is bounded by `maxSize` (a larger page is refused, so a client never mistakes a cut page for
 * the whole).
 */
export function pagingOf(p: Params, defaultSize: number, maxSize: number): Paging {
  const pageNo = positive(p, "pageNo", "1");
  const pageSize = positive(p, "pageSize", String(defaultSize));
  if (pageSize > maxSize) throw badRequest(`Param 'pageSize' must be at most ${maxSize}, current: ${pageSize}`);
  return { pageNo, pageSize };
}

export function page<T>(items: readonly T[], pageNo: number, pageSize: number): T[] {
  const start = (pageNo - 1) * pageSize;
  return items.slice(start, start + pageSize);
}
