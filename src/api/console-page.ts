/**
 * The web console at `/nacos/`: three static files from the package's `console/` folder (one page, one script,
 * one style sheet), read once and served from memory. The page itself calls the same HTTP API as Nacos 1.4's
 * console, so this module only delivers bytes; it knows nothing of services or members.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** URL path under `/nacos/` → file in `console/` and its content type. */
const FILES: ReadonlyArray<readonly [string, string, string]> = [
  ["", "index.html", "text/html; charset=utf-8"],
  ["index.html", "index.html", "text/html; charset=utf-8"],
  ["console.js", "console.js", "text/javascript; charset=utf-8"],
  ["console.css", "console.css", "text/css; charset=utf-8"],
];

/**
 * Service names and metadata are user input: the script inserts them only as text, and this policy is the
 * second line of defence — no inline script, nothing from another origin, no framing.
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // A new version of the node must not be paired with a cached script of the old one.
  "cache-control": "no-cache",
} as const;

/**
 * The `console/` folder beside the package.json above this module: the same from `src/api/` (tsx) and from
 * `dist/src/api/` (the compiled node), which sit at different depths.
 */
function consoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}: cannot find console/`);
    dir = parent;
  }
  return join(dir, "console");
}

let assets: ReadonlyMap<string, Asset> | undefined;

/** Read on first use and kept: the files are small and change only with a new release. */
function loadAssets(): ReadonlyMap<string, Asset> {
  if (assets === undefined) {
    const dir = consoleDir();
    assets = new Map(FILES.map(([path, file, type]) => [path, { type, body: readFileSync(join(dir, file)) }]));
  }
  return assets;
}

export function consolePage(app: FastifyInstance): void {
  app.get("/nacos", async (_req, reply) => reply.redirect("/nacos/"));
  for (const [path, asset] of loadAssets()) {
    app.get(`/nacos/${path}`, async (_req, reply) => reply.headers(SECURITY_HEADERS).type(asset.type).send(asset.body));
  }
}
