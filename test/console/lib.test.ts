/**
 * How the console reads the server's refusals (console/lib.js api()): Nacos 1.4 answers 403 both to a caller it
 * does not know and to one without the permission, so the message decides. A refused login (token expired or
 * invalid, no credentials, a wrong password; 401 from a proxy) ends the session; `authorization failed!` is a
 * refused permission, and the user stays logged in.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

type ErrorClass = new (message: string) => Error;
interface Lib {
  api(method: string, path: string, params?: Record<string, string>): Promise<string>;
  Forbidden: ErrorClass;
  Unauthorized: ErrorClass;
}
const LIB = pathToFileURL(join(import.meta.dirname, "..", "..", "console", "lib.js")).href;

/** The browser globals api() reads: a session holding a token, and a fetch answering `status` and `body`. */
function answering(status: number, body: string): void {
  const store = new Map<string, string>([["ts-nacos.accessToken", "a-token"]]);
  Object.assign(globalThis, {
    sessionStorage: { getItem: (key: string) => store.get(key) ?? null },
    localStorage: { getItem: () => null },
    fetch: async () => new Response(body, { status }),
  });
}

test("console api(): a refused login is Unauthorized, a refused permission Forbidden, with the server's message", async () => {
  const { api, Forbidden, Unauthorized } = (await import(LIB)) as Lib;
  const cases = [
    [403, "token expired!", Unauthorized],
    [403, "token invalid!", Unauthorized],
    [403, "user not found!", Unauthorized],
    [403, "unknown user!", Unauthorized],
    [401, "", Unauthorized],
    [403, "authorization failed!", Forbidden],
  ] as const;
  for (const [status, body, kind] of cases) {
    answering(status, body);
    await assert.rejects(api("GET", "/nacos/v1/core/cluster/nodes"), (err: Error) => {
      assert.ok(err instanceof kind, `${status} ${body}: ${err.constructor.name}`);
      if (body !== "") assert.equal(err.message, body);
      return true;
    });
  }
  answering(400, "the public namespace cannot be deleted");
  await assert.rejects(api("DELETE", "/nacos/v1/console/namespaces", { namespaceId: "public" }), (err: Error) => {
    assert.equal(
      [Forbidden, Unauthorized].some((kind) => err instanceof kind),
      false,
      "a bad request is neither",
    );
    assert.match(err.message, /the public namespace cannot be deleted/);
    return true;
  });
});
