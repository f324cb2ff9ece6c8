/**
 * The data directory's lock with real processes: of 8 processes opening one directory at the same moment
 * exactly one wins, round after round (with no lock, a lock left by a dead process, a released one); a lock
 * naming a pid that now belongs to another process (pid 1 after a container restart), a zombie, or a process of
 * an earlier boot is taken over; a live holder is refused by name; the chain of lock files does not grow.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { silentLog } from "../../src/core/log.js";
import { RecordLog } from "../../src/store/record-log.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONTENDER = fileURLToPath(new URL("./lock-contender.ts", import.meta.url));

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "ts-nacos-lock-test-"));
  dirs.push(d);
  return d;
};

/** A pid no process has any more: one that ran and was reaped. */
const deadPid = (): number => Number(spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }).stdout);

/** Field 22 (start time) and field 3 (state) of /proc/<pid>/stat. */
function procStat(pid: number): { state: string; start: string } {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, start: fields[19]! };
}

const BOOT = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
const lockFiles = (d: string): string[] => readdirSync(d).filter((n) => n.startsWith("LOCK"));

class Contender {
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.lines.push(line);
      this.wake?.();
    });
  }
  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }
  async next(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (Date.now() > deadline) throw new Error(`contender ${this.child.pid}: no answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 200);
      });
    }
    return this.lines.shift()!;
  }
}

test("8 processes opening one directory at once: exactly one wins, every round, whatever lock was left", { timeout: 180_000 }, async () => {
  const contenders = Array.from(
    { length: 8 },
    () => new Contender(spawn(process.execPath, ["--import", "tsx", CONTENDER], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] })),
  );
  try {
    for (const c of contenders) assert.equal(await c.next(60_000), "ready");
    const rounds = [
      ...Array.from({ length: 4 }, () => ({ kind: "no lock", dir: dir() })),
      ...Array.from({ length: 6 }, () => {
        const d = dir();
        writeFileSync(join(d, "LOCK"), `${deadPid()}\n`); // left by a process that is gone
        return { kind: "a dead process's lock", dir: d };
      }),
    ];
    const reused = dir();
    for (let i = 0; i < 4; i++) rounds.push({ kind: "released by the last winner", dir: reused });
    for (const [i, round] of rounds.entries()) {
      for (const c of contenders) c.send(`open ${round.dir}`);
      const answers = await Promise.all(contenders.map((c) => c.next()));
      const winners = contenders.filter((_, k) => answers[k] === "won");
      assert.equal(winners.length, 1, `round ${i} (${round.kind}): ${answers.join(" | ")}`);
      const holder = winners[0]!.child.pid;
      for (const answer of answers.filter((a) => a !== "won"))
        assert.match(answer, new RegExp(`in use by process ${holder}\\b`), `round ${i}`);
      winners[0]!.send("close");
      assert.equal(await winners[0]!.next(), "closed");
      assert.ok(lockFiles(round.dir).length <= 1, `round ${i}: at most one lock file is left, ${lockFiles(round.dir)}`);
    }
  } finally {
    for (const c of contenders) c.child.kill("SIGKILL");
  }
});

test("a lock naming pid 1 with another start time (the pid reused after a container restart) is taken over; with its own start time it is refused", async () => {
  const { start } = procStat(1);
  const reused = dir();
  writeFileSync(join(reused, "LOCK"), `1 ${BigInt(start) + 1n} ${BOOT}\n`);
  const log = await RecordLog.open(reused, silentLog);
  const [file] = lockFiles(reused);
  assert.equal(readFileSync(join(reused, file!), "utf8").split(" ")[0], String(process.pid), "the lock now names this process");
  await log.close();

  const held = dir();
  writeFileSync(join(held, "LOCK"), `1 ${start} ${BOOT}\n`);
  await assert.rejects(RecordLog.open(held, silentLog), /in use by process 1 /);
});

test("a lock naming a live pid of an earlier boot, or a live pid with another start time, is taken over", async () => {
  const parent = procStat(process.ppid);
  const otherBoot = dir();
  writeFileSync(join(otherBoot, "LOCK"), `${process.ppid} ${parent.start} 00000000-0000-4000-8000-000000000000\n`);
  await (await RecordLog.open(otherBoot, silentLog)).close();
  const otherStart = dir();
  writeFileSync(join(otherStart, "LOCK"), `${process.ppid} ${BigInt(parent.start) + 7n} ${BOOT}\n`);
  await (await RecordLog.open(otherStart, silentLog)).close();
  const alive = dir();
  writeFileSync(join(alive, "LOCK"), `${process.ppid} ${parent.start} ${BOOT}\n`);
  await assert.rejects(RecordLog.open(alive, silentLog), new RegExp(`in use by process ${process.ppid} `));
});

test("a lock held by a zombie (killed, not yet reaped by its parent) is taken over", { timeout: 30_000 }, async () => {
  // `sleep 30` becomes the parent of the short sleep and never reaps it: a zombie once it exits.
  const parent = spawn("sh", ["-c", "sleep 0.2 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const [line] = (await new Promise<string>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(d.toString())))).split("\n");
    const zombie = Number(line);
    const { start } = procStat(zombie);
    for (let i = 0; i < 100 && procStat(zombie).state !== "Z"; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(procStat(zombie).state, "Z", "the child is a zombie");
    const d = dir();
    writeFileSync(join(d, "LOCK"), `${zombie} ${start} ${BOOT}\n`);
    await (await RecordLog.open(d, silentLog)).close();
    const legacy = dir();
    writeFileSync(join(legacy, "LOCK"), `${zombie}\n`); // as an earlier version wrote it: the pid alone
    await (await RecordLog.open(legacy, silentLog)).close();
  } finally {
    parent.kill("SIGKILL");
  }
});

test("a directory opened and closed many times keeps one lock file; one process cannot hold a directory twice", async () => {
  const d = dir();
  writeFileSync(join(d, `LOCK.draft-${deadPid()}-0a1b`), "1 2 3\n"); // left by a process that died taking the lock
  for (let i = 0; i < 5; i++) await (await RecordLog.open(d, silentLog)).close();
  assert.deepEqual(lockFiles(d), ["LOCK.4"], "no lock below the last one, no draft of a dead process");
  const log = await RecordLog.open(d, silentLog);
  await assert.rejects(RecordLog.open(d, silentLog), new RegExp(`in use by process ${process.pid} `));
  await log.close();
});
