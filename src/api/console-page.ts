/**
 * The web console at `/nacos/`: the static files of the package's `console/` folder (one page, its script
 * modules, one style sheet), read once and served from memory. The page itself calls the same HTTP API as Nacos
 * 1.4's console, so this module only delivers bytes; it knows nothing of services or members.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/** The kinds of file the console is made of; anything else in the folder is not served. */
const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

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
    const files = readdirSync(dir).filter((file) => TYPES[extname(file)] !== undefined);
    const read = (file: string): Asset => ({ type: TYPES[extname(file)] as string, body: readFileSync(join(dir, file)) });
    assets = new Map([["", read("index.html")], ...files.map((file) => [file, read(file)] as const)]);
  }
  return assets;
}

export function consolePage(app: FastifyInstance): void {
  app.get("/nacos", async (_req, reply) => reply.redirect("/nacos/"));
  for (const [path, asset] of loadAssets()) {
    app.get(`/nacos/${path}`, async (_req, reply) => reply.headers(SECURITY_HEADERS).type(asset.type).send(asset.body));
  }
}
