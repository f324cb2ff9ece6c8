/**
 * The console speaks English and Chinese (console/i18n.js): every module's texts exist in both languages, each
 * text is of the same kind in both (a string, or a function taking the same arguments), and every text the page
 * names (index.html's data-text attributes) exists.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const DIR = join(import.meta.dirname, "..", "..", "console");
type Table = Record<"en" | "zh", Record<string, string | ((...args: unknown[]) => string)>>;

/** Every module's TEXTS but the entry's (console.js starts the page when loaded, so it holds none). */
async function tables(): Promise<Map<string, Table>> {
  const found = new Map<string, Table>();
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".js") && f !== "console.js")) {
    const module = (await import(pathToFileURL(join(DIR, file)).href)) as { TEXTS?: Table };
    if (module.TEXTS !== undefined) found.set(file, module.TEXTS);
  }
  return found;
}

test("console texts: every key in English and Chinese, of the same kind", async () => {
  const all = await tables();
  assert.ok(all.size >= 2, `texts found in ${[...all.keys()].join(", ")}`);
  for (const [file, { en, zh }] of all) {
    assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort(), `${file}: the same keys in both languages`);
    for (const key of Object.keys(en)) {
      const [a, b] = [en[key], zh[key]];
      assert.equal(typeof b, typeof a, `${file}: ${key} is of one kind`);
      if (typeof a === "function" && typeof b === "function") assert.equal(b.length, a.length, `${file}: ${key} takes the same arguments`);
      if (typeof a === "string") assert.notEqual(a, "", `${file}: ${key} is not empty`);
    }
  }
  assert.equal(readFileSync(join(DIR, "console.js"), "utf8").includes("export const TEXTS"), false, "console.js keeps no texts");
});

test("console texts: every text index.html names exists", async () => {
  const page = (await tables()).get("page-texts.js");
  assert.ok(page !== undefined);
  const html = readFileSync(join(DIR, "index.html"), "utf8");
  const named = [...html.matchAll(/data-text(?:-placeholder|-label)?="([^"]+)"/g)].map((m) => m[1] as string);
  assert.ok(named.length > 10, `${named.length} texts named`);
  for (const key of named) assert.ok(Object.hasOwn(page.en, key), `index.html names '${key}'`);
});
