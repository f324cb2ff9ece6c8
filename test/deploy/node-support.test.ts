/**
 * The Node.js versions package.json's `engines` promises: every installed package admits the oldest of them (so
 * `npm ci` warns of no unsupported engine), and what needed a newer Node works on the oldest. Node 20.18 cannot
 * `require()` an ES module; cookie 2 is one, required by light-my-request (fastify's `inject`), hence the
 * override to cookie 1.1.1 (CommonJS, the same `stringifySetCookie`).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const semver = createRequire(import.meta.url)("semver") as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

const json = (path: string) => JSON.parse(readFileSync(join(ROOT, path), "utf8"));
const OLDEST = semver.minVersion(json("package.json").engines.node)!.version;

test(`every installed package admits Node ${OLDEST}, the oldest package.json supports`, () => {
  const lock = json("package-lock.json");
  const refused = Object.entries(lock.packages as Record<string, { version?: string; engines?: { node?: string }; os?: string[] }>)
    .filter(([path, p]) => path !== "" && p.os === undefined && typeof p.engines?.node === "string")
    .filter(([, p]) => !semver.satisfies(OLDEST, p.engines!.node!))
    .map(([path, p]) => `${path}@${p.version} wants node ${p.engines!.node}`);
  assert.deepEqual(refused, []);
});

test("fastify's inject (light-my-request) works where require() of an ES module does not, as on Node 20.18", async () => {
  // Node 20.19+ can require() ES modules; this flag takes that away again (where the flag still exists).
  const flags = process.allowedNodeEnvironmentFlags.has("--no-experimental-require-module") ? ["--no-experimental-require-module"] : [];
  const script = `
    const app = require("fastify")();
    app.get("/", (_req, reply) => reply.header("set-cookie", "a=b; Path=/").send("ok"));
    app.inject({ url: "/", cookies: { c: "d" } }).then((res) => {
      process.stdout.write(JSON.stringify({ status: res.statusCode, cookies: res.cookies.map((c) => c.name + "=" + c.value) }));
    });`;
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, "-e", script], { cwd: ROOT, timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), { status: 200, cookies: ["a=b"] });
});
