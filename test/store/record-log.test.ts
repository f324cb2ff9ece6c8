/**
 * The data directory's log on a real file system: what is put survives a reopen, the last record of a key
 * wins, a torn or corrupt tail is dropped with a warning (and later appends still survive), foreign or newer
 * files are refused, one process at a time holds a directory, and compaction keeps exactly the live records.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Log } from "../../src/core/log.js";
import { DataFileError, LOG_FILE, RecordLog } from "../../src/store/record-log.js";

function recordingLog(): Log & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (msg: string) => void warnings.push(msg) };
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "ts-nacos-log-test-"));
  dirs.push(d);
  return d;
};
const contents = (log: RecordLog): Record<string, unknown> => Object.fromEntries(log.entries());

test("puts and removes survive a reopen; the last record of a key wins", async () => {
  const d = dir();
  const log = await RecordLog.open(d, recordingLog());
  log.put("a", { n: 1 });
  log.put("b", ["x", null, true]);
  log.put("a", { n: 2 });
  log.put("c", "gone soon");
  log.remove("c");
  log.remove("never-there");
  await log.durable();
  assert.equal(log.changes, 5, "a removal of an absent key writes nothing");
  await log.close();
  const again = await RecordLog.open(d, recordingLog());
  assert.deepEqual(contents(again), { a: { n: 2 }, b: ["x", null, true] });
  await again.close();
});

test("durable() resolves only after the batch holding the change is synced, for every concurrent writer", async () => {
  const log = await RecordLog.open(dir(), recordingLog());
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) {
    log.put(`k${i}`, i);
    waits.push(log.durable());
  }
  await Promise.all(waits);
  assert.equal(log.size, 500);
  await log.close();
});

test("a torn last record (a crash mid-write) is dropped with a warning; what came before and what comes after survive", async () => {
  const d = dir();
  const log = await RecordLog.open(d, recordingLog());
  log.put("kept", 1);
  log.put("also kept", 2);
  await log.durable();
  await log.close();
  const file = join(d, LOG_FILE);
  const whole = statSync(file).size;
  // The head of a record announcing 100 bytes, followed by only 10 of them.
  const torn = Buffer.alloc(18);
  torn.writeUInt32LE(100, 0);
  appendFileSync(file, torn);
  const warned = recordingLog();
  const reopened = await RecordLog.open(d, warned);
  assert.deepEqual(contents(reopened), { kept: 1, "also kept": 2 });
  assert.equal(warned.warnings.length, 1, "one warning");
  assert.equal(statSync(file).size, whole, "the file is cut back to its last good record");
  reopened.put("after", 3);
  await reopened.close();
  const third = await RecordLog.open(d, recordingLog());
  assert.deepEqual(contents(third), { kept: 1, "also kept": 2, after: 3 });
  await third.close();
});

test("a last record failing its checksum is dropped like a torn one", async () => {
  const d = dir();
  const log = await RecordLog.open(d, recordingLog());
  log.put("first", 1);
  await log.durable();
  log.put("second", 2);
  await log.close();
  const file = join(d, LOG_FILE);
  const bytes = readFileSync(file);
  bytes[bytes.length - 2]! ^= 0xff; // flip bits inside the last record's payload
  writeFileSync(file, bytes);
  const warned = recordingLog();
  const reopened = await RecordLog.open(d, warned);
  assert.deepEqual(contents(reopened), { first: 1 });
  assert.match(warned.warnings[0] ?? "", /torn or corrupt/);
  await reopened.close();
});

test("a file that is not ours, or is of a newer format, is refused with a clear error", async () => {
  const foreign = dir();
  writeFileSync(join(foreign, LOG_FILE), "hello, I am somebody else's file");
  await assert.rejects(
    RecordLog.open(foreign, recordingLog()),
    (err: Error) => err instanceof DataFileError && /not a ts-nacos data file/.test(err.message),
  );
  const newer = dir();
  const header = Buffer.alloc(12);
  header.write("TSNACOS\n", 0, "ascii");
  header.writeUInt32LE(99, 8);
  writeFileSync(join(newer, LOG_FILE), header);
  await assert.rejects(
    RecordLog.open(newer, recordingLog()),
    (err: Error) => err instanceof DataFileError && /format 99/.test(err.message),
  );
});

test("a directory held by a live process is refused; one left by a dead process is taken over", async () => {
  const held = dir();
  writeFileSync(join(held, "LOCK"), `${process.ppid}\n`); // our parent is alive
  await assert.rejects(RecordLog.open(held, recordingLog()), /in use by process/);
  const left = dir();
  const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  writeFileSync(join(left, "LOCK"), gone.stdout);
  const log = await RecordLog.open(left, recordingLog());
  assert.equal(readFileSync(join(left, "LOCK"), "utf8").trim(), String(process.pid));
  await log.close();
});

test("a log that grew well past its live records is compacted to exactly them", async () => {
  const d = dir();
  const log = await RecordLog.open(d, recordingLog());
  const value = "x".repeat(1000);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 500; i++) log.put(`key-${i}`, `${round}:${value}`);
    await log.durable();
  }
  for (let i = 0; i < 250; i++) log.remove(`key-${i}`);
  await log.durable();
  await log.close();
  const size = statSync(join(d, LOG_FILE)).size;
  // Written: 1,500 records of ~1 KB (~1.5 MB); compacted when the third round passed 1 MiB, to its 500 records.
  assert.ok(size < 700_000, `compacted: ${size} bytes`);
  const reopened = await RecordLog.open(d, recordingLog());
  assert.equal(reopened.size, 250);
  assert.equal((contents(reopened)["key-499"] as string).slice(0, 2), "2:");
  await reopened.close();
});
