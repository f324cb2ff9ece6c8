import assert from "node:assert/strict";
import { test } from "node:test";
import { prettyLine } from "../../src/runtime/pretty-log.js";
import { resolveLogFormat } from "../../src/runtime/logging.js";

const TIME = Date.UTC(2026, 11, 6, 19, 15, 31, 123);

test("a record: ISO-8601 time, level, message, then its fields (strings bare unless they need quotes)", () => {
  const line = JSON.stringify({
    level: 40,
    time: TIME,
    msg: "member is unreachable",
    member: "127.0.0.1:8850",
    error: "14 UNAVAILABLE: no",
    n: 3,
  });
  assert.equal(
    prettyLine(`${line}\n`, false),
    '2026-12-06T19:15:31.123Z WARN  member is unreachable member=127.0.0.1:8850 error="14 UNAVAILABLE: no" n=3\n',
  );
});

test("a multi-line message and an error's stack continue on indented lines", () => {
  const err = { type: "Error", message: "boom", stack: "Error: boom\n    at f (a.js:1:1)" };
  assert.equal(
    prettyLine(JSON.stringify({ level: 60, time: TIME, msg: "failed to start\nsecond line", err }), false),
    "2026-12-06T19:15:31.123Z FATAL failed to start\n    second line\n    Error: boom\n    at f (a.js:1:1)\n",
  );
});

test("objects as JSON; colour only when asked; a line that is not JSON passes unchanged", () => {
  const line = JSON.stringify({ level: 30, time: TIME, msg: "x", healthCheck: { allow: [], loopback: false } });
  assert.equal(prettyLine(line, false), '2026-12-06T19:15:31.123Z INFO  x healthCheck={"allow":[],"loopback":false}\n');
  assert.equal(prettyLine(line, true), '2026-12-06T19:15:31.123Z \x1b[32mINFO \x1b[0m x healthCheck={"allow":[],"loopback":false}\n');
  assert.equal(prettyLine("not json", false), "not json\n");
});

test("--log-format auto is pretty on a terminal and JSON otherwise; json and pretty are what they say", () => {
  assert.equal(resolveLogFormat("auto", true), "pretty");
  assert.equal(resolveLogFormat("auto", false), "json");
  assert.equal(resolveLogFormat("json", true), "json");
  assert.equal(resolveLogFormat("pretty", false), "pretty");
});
