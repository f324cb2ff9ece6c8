/**
 * Every peer RPC called with `buf curl` (the gRPC client shipped in @bufbuild/buf), once with the schema from
 * proto/ and once learning it from the server's reflection service.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { SECRET, SELF, type Loopback } from "../transport/grpc/fixtures.js";
import { INVALID_FORWARD, RPC_CASES, assertResponses, interopServer, label } from "./peer-rpc-cases.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUF = `${ROOT}node_modules/.bin/buf`;

interface CurlResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function bufCurl(args: readonly string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(
      BUF,
      ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args],
      { cwd: ROOT, timeout: 20_000 },
      (err, stdout, stderr) => {
        const exitCode = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ exitCode, stdout, stderr });
      },
    );
  });
}

/** buf curl prints one pretty JSON document per response message, back to back. */
function jsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{" && depth++ === 0) start = i;
    else if (ch === "}" && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
  }
  return docs;
}

const headers = (secret: string) => ["-H", `x-nacos-cluster-secret: ${secret}`, "-H", `x-nacos-source: ${SELF}`];

let net: Loopback;
before(async () => {
  net = await interopServer();
});
after(async () => {
  await net.close();
});

for (const [mode, schemaArgs] of [
  ["--schema proto", ["--schema", "proto"]],
  ["server reflection", []],
] as const) {
  describe(`buf curl with ${mode}`, () => {
    const url = (service: string, method: string) => `http://${net.target}/${service}/${method}`;

    for (const c of RPC_CASES) {
      test(label(c), async () => {
        const before = net.handler.calls.length;
        const res = await bufCurl([...schemaArgs, ...headers(SECRET), "-d", JSON.stringify(c.request), url(c.service, c.method)]);
        assert.equal(res.exitCode, 0, res.stderr);
        assert.deepEqual(net.handler.calls.slice(before), [c.call]);
        assertResponses(c, jsonDocuments(res.stdout));
      });
    }

    test("a wrong secret is refused as unauthenticated (exit 8 × 16) and reaches no handler", async () => {
      const before = net.handler.calls.length;
      const sync = RPC_CASES[0]!;
      const res = await bufCurl([...schemaArgs, ...headers("wrong"), "-d", JSON.stringify(sync.request), url(sync.service, sync.method)]);
      assert.equal(res.exitCode, 8 * 16, res.stderr);
      assert.equal((jsonDocuments(res.stderr)[0] as { code: string }).code, "unauthenticated");
      assert.equal(net.handler.calls.length, before);
    });

    test("an invalid message is refused as invalid_argument (exit 8 × 3) and reaches no handler", async () => {
      const before = net.handler.calls.length;
      const forward = url("nacos.cluster.v1.DistroService", "Forward");
      const res = await bufCurl([...schemaArgs, ...headers(SECRET), "-d", JSON.stringify(INVALID_FORWARD), forward]);
      assert.equal(res.exitCode, 8 * 3, res.stderr);
      const error = jsonDocuments(res.stderr)[0] as { code: string; message: string };
      assert.equal(error.code, "invalid_argument");
      assert.match(error.message, /write\.register\.instance\.port: 70000 is outside 0\.\.65535/);
      assert.equal(net.handler.calls.length, before);
    });
  });
}

test("reflection lists every peer service", async () => {
  const res = await bufCurl(["--list-methods", `http://${net.target}`]);
  assert.equal(res.exitCode, 0, res.stderr);
  const methods = res.stdout.trim().split("\n");
  for (const c of RPC_CASES) assert.ok(methods.includes(`${c.service}/${c.method}`), `${c.method} in ${res.stdout}`);
});
