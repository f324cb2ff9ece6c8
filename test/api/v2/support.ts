/** Calling the v2 OpenAPI in `inject()` tests, and what its answers must look like. */
import assert from "node:assert/strict";
import type { FastifyInstance } from "fastify";
import { call } from "../support.js";

export const V2 = "/nacos/v2/ns";

/** A call with the parameters in the query string (`form`: in an urlencoded body, as 2.x's forms take them). */
export async function v2(
  app: FastifyInstance,
  method: string,
  path: string,
  params: Record<string, string> = {},
  options: { form?: boolean; headers?: Record<string, string> } = {},
) {
  if (options.form !== true) return call(app, method, `${V2}${path}`, params, options.headers);
  const res = await app.inject({
    method: method as "POST",
    url: `${V2}${path}`,
    payload: new URLSearchParams(params).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", ...options.headers },
  });
  return { status: res.statusCode, text: res.body, json: () => JSON.parse(res.body) };
}

/** Asserts a success envelope and returns its data. */
export function dataOf(res: { status: number; text: string; json(): unknown }): unknown {
  assert.equal(res.status, 200, res.text);
  const body = res.json() as { code: number; message: string; data: unknown };
  assert.deepEqual([body.code, body.message], [0, "success"], res.text);
  return body.data;
}

/** Asserts a refusal with 2.x's status and detail code (and its code's message); returns the detail. */
export function refusalOf(res: { status: number; text: string; json(): unknown }, status: number, code: number): string {
  assert.equal(res.status, status, res.text);
  const body = res.json() as { code: number; message: string; data: string };
  assert.equal(body.code, code, res.text);
  assert.equal(typeof body.message, "string");
  assert.equal(typeof body.data, "string");
  return body.data;
}
