/**
 * The data directory's log on a real file system: what is put survives a reopen, the last record of a key
 * wins, a torn or corrupt tail is dropped with a warning (and later appends still survive), foreign or newer
 * files are refused, one process at a time holds a directory, and compaction keeps exactly the live records.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { Log } from "../../src/core/log.js";
import { DataFileError, type DiskOp, LOG_FILE, RecordLog } from "../../src/store/record-log.js";
import { type LogRecord, logRecords, replayRecords } from "../support/log-records.js";
import { settled } from "../support/settled.js";

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

/** A disk whose syncs wait until the test lets each one go. */
function heldSyncs(): { beforeDiskOp: (op: DiskOp) => Promise<void>; held: () => number; release: () => void } {
  const gates: Array<() => void> = [];
  return {
    beforeDiskOp: (op) => (op === "sync" ? new Promise<void>((resolve) => gates.push(resolve)) : Promise.resolve()),
    held: () => gates.length,
    release: () => {
      for (const go of gates.splice(0)) go();
    },
  };
}

test("durable() resolves only after the batch holding the change is synced, for every concurrent writer", async () => {
  const disk = heldSyncs();
  const log = await RecordLog.open(dir(), recordingLog(), disk);
  log.put("first", 1);
  const first = log.durable();
  for (let i = 0; i < 100 && disk.held() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(disk.held(), 1, "the first batch is written and waits for its sync");
  const waits: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) {
    log.put(`k${i}`, i);
    waits.push(log.durable());
  }
  assert.equal(await settled(first), false, "not durable while its sync is held back");
  assert.equal(await settled(Promise.race(waits)), false, "nor any later writer's");
  disk.release();
  await first;
  assert.equal(await settled(Promise.race(waits)), false, "the later writers' batch has its own sync, still held");
  assert.equal(disk.held(), 1, "one sync for the 500 writes that came meanwhile");
  disk.release();
  await Promise.all(waits);
  assert.equal(log.size, 501);
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
  assert.deepEqual(
    readdirSync(left).filter((n) => n.startsWith("LOCK")),
    ["LOCK.1"],
    "the next lock of the chain; the dead one's is gone",
  );
  assert.equal(readFileSync(join(left, "LOCK.1"), "utf8").split(" ")[0], String(process.pid));
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

/** An error as the file system gives it. */
const diskError = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: simulated`), { code });

test("a write that fails part-way (a full disk) is cut back before anything else is appended; its waiters are refused, later writes are not", async () => {
  const d = dir();
  const file = join(d, LOG_FILE);
  let failNext = false;
  const log = await RecordLog.open(d, recordingLog(), {
    beforeDiskOp: async (op) => {
      if (op !== "write" || !failNext) return;
      failNext = false;
      appendFileSync(file, Buffer.from([200, 0, 0, 0, 1, 2, 3, 4, 91, 34])); // what the disk took of the batch
      throw diskError("ENOSPC");
    },
  });
  log.put("before", 1);
  await log.durable();
  const synced = statSync(file).size;
  failNext = true;
  log.put("refused", 2);
  await assert.rejects(log.durable(), (err: Error) => err instanceof DataFileError && /ENOSPC/.test(err.message));
  assert.equal(statSync(file).size, synced, "cut back to the last synced record");
  assert.equal(log.failure, undefined, "a failed write is no reason to stop");
  const acknowledged: string[] = [];
  for (let i = 0; i < 10; i++) {
    log.put(`after-${i}`, i);
    await log.durable();
    acknowledged.push(`after-${i}`);
  }
  await log.close();
  const warned = recordingLog();
  const reopened = await RecordLog.open(d, warned);
  const back = contents(reopened);
  for (const key of ["before", ...acknowledged]) assert.ok(key in back, `${key} survives`);
  assert.equal(back.refused, 2, "the refused write's record went out with the next batch (the registry holds it)");
  assert.deepEqual(warned.warnings, [], "nothing torn or damaged to drop");
  await reopened.close();
});

test("after a failed sync nothing more is acknowledged: every later durable() is refused and `failure` says why", async () => {
  const d = dir();
  let sync: "ok" | "fail" = "ok";
  const log = await RecordLog.open(d, recordingLog(), {
    beforeDiskOp: async (op) => {
      if (op === "sync" && sync === "fail") throw diskError("EIO");
    },
  });
  log.put("synced", 1);
  await log.durable();
  sync = "fail";
  log.put("lost", 2);
  await assert.rejects(log.durable(), /EIO/);
  sync = "ok"; // a retried fsync would succeed without the pages the kernel dropped: it must not be trusted
  log.put("later", 3);
  await assert.rejects(log.durable(), (err: Error) => /syncing .*naming\.log failed .*EIO.*restart the node/.test(err.message));
  assert.match(log.failure ?? "", /EIO/);
  await log.close();
});

test("a failed write whose cut-back fails too ends durability like a failed sync", async () => {
  const log = await RecordLog.open(dir(), recordingLog(), {
    beforeDiskOp: async (op) => {
      if (op === "write") throw diskError("ENOSPC");
      if (op === "truncate") throw diskError("EIO");
    },
  });
  log.put("a", 1);
  await assert.rejects(log.durable(), /cutting it back failed too/);
  log.put("b", 2);
  await assert.rejects(log.durable(), /cutting it back failed too/);
  assert.match(log.failure ?? "", /ENOSPC.*EIO/);
  await log.close();
});

/** What replaying `records` gives, as `contents()` shows a log. */
const replayed = (records: readonly LogRecord[]): Record<string, unknown> => Object.fromEntries(replayRecords(records));

/** A log of 60 writes: puts of 40 keys, some put again, some removed. */
async function writtenLog(): Promise<{ dir: string; bytes: Buffer }> {
  const d = dir();
  const log = await RecordLog.open(d, recordingLog());
  for (let i = 0; i < 40; i++) log.put(`service-${i}`, { ip: "192.0.2.1", port: 8000 + i, metadata: { n: i } });
  for (let i = 0; i < 10; i++) log.put(`service-${i * 3}`, { ip: "192.0.2.2", port: 9000 + i });
  for (let i = 0; i < 10; i++) log.remove(`service-${i * 4 + 1}`);
  await log.close();
  return { dir: d, bytes: readFileSync(join(d, LOG_FILE)) };
}

test("a damaged record in the middle (a flipped byte) is skipped with an error naming its offset; every intact record after it is kept", async () => {
  const { dir: d, bytes } = await writtenLog();
  const records = logRecords(bytes);
  const victim = records[5]!;
  const damaged = Buffer.from(bytes);
  damaged[victim.at + 12]! ^= 0x40;
  writeFileSync(join(d, LOG_FILE), damaged);
  const errors: string[] = [];
  const log = recordingLog();
  const reopened = await RecordLog.open(d, {
    ...log,
    error: (msg: string, fields?: object) => void errors.push(`${msg} ${JSON.stringify(fields)}`),
  });
  assert.deepEqual(contents(reopened), replayed(records.filter((r) => r !== victim)));
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, new RegExp(`damaged records skipped.*naming\\.log.*at byte ${victim.at} `));
  await reopened.close();
  assert.deepEqual(readFileSync(join(d, `${LOG_FILE}.damaged.1`)), damaged, "the damaged file is kept for inspection");
  const quiet = recordingLog();
  const again = await RecordLog.open(d, quiet);
  assert.deepEqual(contents(again), replayed(records.filter((r) => r !== victim)), "the log was rewritten from what was read");
  assert.deepEqual(quiet.warnings, []);
  await again.close();
});

/** A small deterministic generator (mulberry32), so every seed flips the same bytes on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("1 to 3 bytes flipped at random offsets (40 seeds): the log opens with exactly its intact records, or is refused naming the file and offset", async () => {
  const { bytes } = await writtenLog();
  const records = logRecords(bytes);
  let refused = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const next = random(seed);
    const damaged = Buffer.from(bytes);
    const offsets = Array.from({ length: 1 + Math.floor(next() * 3) }, () => Math.floor(next() * bytes.length));
    for (const at of offsets) damaged[at]! ^= 1 + Math.floor(next() * 255);
    const d = dir();
    writeFileSync(join(d, LOG_FILE), damaged);
    const intact = records.filter((r) => offsets.every((at) => at < r.at || at >= r.end));
    try {
      const log = await RecordLog.open(d, silentLogWithErrors());
      assert.deepEqual(contents(log), replayed(intact), `seed ${seed}: flipped ${offsets}`);
      await log.close();
    } catch (err) {
      assert.ok(
        offsets.some((at) => at < 12),
        `seed ${seed}: refused only for a damaged header (${err})`,
      );
      assert.match((err as Error).message, /naming\.log .*bytes? [0-9]/, `seed ${seed}`);
      refused++;
    }
  }
  assert.ok(refused < 40);
});

function silentLogWithErrors(): Log {
  return { debug() {}, info() {}, warn() {}, error() {} };
}

test("the directory and its files are private to the user (0700, 0600); a looser existing one is tightened with a warning", async () => {
  const d = join(dir(), "data");
  const log = await RecordLog.open(d, recordingLog());
  log.put("user", { password: "$2a$10$hash" });
  await log.close();
  const mode = (path: string): number => statSync(path).mode & 0o777;
  assert.equal(mode(d), 0o700);
  for (const name of readdirSync(d)) assert.equal(mode(join(d, name)), 0o600, name);
  chmodSync(d, 0o755);
  chmodSync(join(d, LOG_FILE), 0o644);
  const warned = recordingLog();
  await (await RecordLog.open(d, warned)).close();
  assert.equal(mode(d), 0o700);
  assert.equal(mode(join(d, LOG_FILE)), 0o600);
  assert.equal(warned.warnings.filter((w) => /tightened/.test(w)).length, 2, "one warning for the directory, one for the file");
});
