/**
 * `npm test` on a fresh Debian machine: scripts/ensure-chromium.sh installs Debian's Chromium when it is missing
 * and it runs as root, and otherwise stops at once naming the command. `id` and `apt-get` are stubs on PATH
 * (recording their calls), so nothing is installed here.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("../../scripts/ensure-chromium.sh", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "ts-nacos-chromium-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function stub(name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
}

const browser = join(dir, "chromium");
const calls = join(dir, "apt-get.calls");
// apt-get: records its arguments; `install` puts an executable where the browser belongs, as the package does.
stub("apt-get", `echo "$*" >> ${calls}\ncase "$1" in install) printf '#!/bin/sh\\n' > ${browser}; chmod +x ${browser};; esac`);

function run(uid: number) {
  stub("id", `echo ${uid}`);
  const result = spawnSync("bash", [SCRIPT, browser], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    encoding: "utf8",
    timeout: 30_000,
  });
  const aptCalls = existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n") : [];
  return { status: result.status, stderr: result.stderr, aptCalls };
}

function reset(): void {
  rmSync(browser, { force: true });
  rmSync(calls, { force: true });
}

test("not root and no Chromium: stops at once with the one command to run", () => {
  reset();
  const r = run(1000);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Install it \(as root\): apt-get update && apt-get install -y chromium/);
  assert.deepEqual(r.aptCalls, [], "nothing was installed");
});

test("root and no Chromium: installs Debian's package, then goes on", () => {
  reset();
  const r = run(0);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.aptCalls, ["update -q", "install -y -q chromium"]);
  assert.ok(existsSync(browser));
});

test("Chromium present: nothing to do", () => {
  reset();
  writeFileSync(browser, "#!/bin/sh\n");
  chmodSync(browser, 0o755);
  const r = run(0);
  assert.equal(r.status, 0);
  assert.deepEqual(r.aptCalls, []);
});
