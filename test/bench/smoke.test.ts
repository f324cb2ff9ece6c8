/**
 * The bench suite in miniature (`--smoke`: every figure with tiny counts, against this checkout's build): every
 * figure in the registry must run without error and produce at least one finite ratio, so a change that breaks
 * a figure is caught by the tests, not on the day someone wants the numbers.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { FIGURES } from "../../bench/figures/index.js";
import type { RunReport } from "../../bench/lib/report.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/**
 * A bound, not a timing check: every figure starts its processes, and beside three other test files on two cores
 * the whole run took 75 s (three files at once) to 88 s (four); one run at four passed the old 90 s bound.
 */
const LIMIT_MS = 240_000;

/** Runs `bench/run.ts --smoke` in a child process; resolves with its exit code and output. */
async function runSmoke(json: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke", "--allow-stale", "--json", json], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill("SIGTERM"), LIMIT_MS); // the bench kills its own children on SIGTERM
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

test("bench --smoke: every figure runs and yields a finite ratio", { timeout: LIMIT_MS + 10_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "bench-smoke-"));
  try {
    const json = path.join(dir, "smoke.json");
    const { code, output } = await runSmoke(json);
    const report = JSON.parse(readFileSync(json, "utf8")) as RunReport;
    for (const [name] of FIGURES) {
      const figure = report.figures.find((f) => f.name === name);
      assert.ok(figure !== undefined, `${name} is missing from the report`);
      assert.equal(figure.error, undefined, `${name} failed: ${figure.error}`);
      assert.ok(
        figure.rows.some((r) => r.ratio !== null && Number.isFinite(r.ratio)),
        `${name} has no finite ratio: ${JSON.stringify(figure.rows)}`,
      );
    }
    assert.equal(code, 0, output.slice(-2_000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
