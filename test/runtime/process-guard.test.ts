/**
 * What the process does with errors nobody caught and with signals: a stray exception is logged with its stack
 * and ends the process (code 1) after a graceful stop; a stray rejection is logged with its stack; SIGTERM
 * stops gracefully with code 0, and a stop that hangs is cut off.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { pino, type Logger } from "pino";
import { guardProcess, type GuardedProcess } from "../../src/runtime/process-guard.js";

class FakeProcess extends EventEmitter implements GuardedProcess {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

function logged(): { logger: Logger; lines: () => Array<Record<string, any>> } {
  const out: string[] = [];
  const logger: Logger = pino({ level: "info" }, { write: (line: string) => void out.push(line) });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, any>) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("an uncaught exception is logged with its stack, then the node stops gracefully and exits 1", async () => {
  const proc = new FakeProcess();
  const { logger, lines } = logged();
  let stopped = 0;
  guardProcess(proc, logger, { stop: async () => void stopped++, forceExitAfterMs: 60_000 });
  proc.emit("uncaughtException", new Error("boom in a socket callback"));
  await settle();
  const fatal = lines().find((l) => l.level === 60)!;
  assert.equal(fatal.msg, "uncaught exception");
  assert.match(fatal.err.stack, /Error: boom in a socket callback\n\s+at /);
  assert.equal(stopped, 1);
  assert.deepEqual(proc.exits, [1]);
});

test("an unhandled rejection is logged with its stack and the node carries on", async () => {
  const proc = new FakeProcess();
  const { logger, lines } = logged();
  guardProcess(proc, logger, { stop: async () => {}, forceExitAfterMs: 60_000 });
  proc.emit("unhandledRejection", new Error("nobody awaited me"));
  await settle();
  const error = lines().find((l) => l.level === 50)!;
  assert.match(error.err.stack, /Error: nobody awaited me\n\s+at /);
  assert.deepEqual(proc.exits, []);
});

test("SIGTERM stops once, gracefully, with code 0; a stop that hangs is cut off with code 1", async () => {
  const proc = new FakeProcess();
  const { logger } = logged();
  let stops = 0;
  guardProcess(proc, logger, { stop: async () => void stops++, forceExitAfterMs: 60_000 });
  proc.emit("SIGTERM");
  proc.emit("SIGTERM");
  await settle();
  assert.deepEqual([stops, proc.exits], [1, [0]]);
  const hung = new FakeProcess();
  guardProcess(hung, logger, { stop: () => new Promise(() => {}), forceExitAfterMs: 50 });
  hung.emit("SIGINT");
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(hung.exits, [1]);
});
