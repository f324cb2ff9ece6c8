/**
 * The data directory's lock: one node process per directory, since two would interleave appends and each
 * compact the other's records away.
 *
 * Node has no flock(), so the lock is a file, and the hard part is taking over a file whose holder is gone:
 * "see the holder is gone, remove its file, create ours" is three steps another starter can interleave with
 * (both see the same dead holder, and the slower one removes the faster one's fresh lock). Here no lock file is
 * ever replaced. Holders succeed one another through a chain of files, `LOCK`, `LOCK.1`, `LOCK.2`, …: the
 * holder is the one named in the highest-numbered file, and a starter that finds that holder gone creates the
 * next number with link() — atomic, exclusive, and the file appears with its whole content — so of any number
 * of starters that saw the same gone holder exactly one succeeds, and the others find it alive. Files below
 * the holder's are removed once it holds; the highest is never removed (a release rewrites it instead), so the
 * numbering never goes back and a starter that recreates a removed lower number sees it is not the highest.
 *
 * A holder is named by more than its pid, because pids are reused (pid 1 after every container restart): the
 * pid, its start time (/proc/<pid>/stat field 22, clock ticks since boot) and the boot id. A holder whose pid
 * is gone, runs something started at another time, or is a zombie (it exited; only its parent has not reaped
 * it yet) is gone. Without /proc (off Linux) only the pid is checked, with signal 0. The check sees the
 * processes of this pid namespace: nodes in different containers must not share a directory.
 */
import { randomBytes } from "node:crypto";
import { link, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The first lock file of the chain (the name earlier versions used for their only one). */
const LOCK_FILE = "LOCK";
const RELEASED = "released\n";
/** Starters that keep losing races to others give up after this many rounds. */
const MAX_ATTEMPTS = 50;

export class DirLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DirLockError";
  }
}

/** Who holds a lock: a process, told apart from a later one with the same pid. */
interface Holder {
  readonly pid: number;
  /** Clock ticks since boot when it started; undefined where /proc does not say (or an earlier version wrote the lock). */
  readonly start: string | undefined;
  readonly boot: string | undefined;
}

/** A lock file being written, named for its writer: `LOCK.draft-<pid>-<random>`. */
const DRAFT = /^LOCK\.draft-([1-9][0-9]{0,9})-[0-9a-f]+$/;
const draftIn = (dir: string): string => join(dir, `${LOCK_FILE}.draft-${process.pid}-${randomBytes(6).toString("hex")}`);

const lockFileOf = (n: number): string => (n === 0 ? LOCK_FILE : `${LOCK_FILE}.${n}`);

function numberOf(name: string): number | undefined {
  if (name === LOCK_FILE) return 0;
  const m = /^LOCK\.([1-9][0-9]{0,14})$/.exec(name);
  return m === null ? undefined : Number(m[1]);
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** `/proc/<pid>/stat`: the state (field 3) and start time (field 22); "none" if no such process; undefined without /proc. */
async function procStat(pid: number): Promise<{ state: string; start: string } | "none" | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && (await readOrUndefined("/proc/self/stat")) !== undefined) return "none";
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and parentheses itself.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const [state, start] = [fields[0], fields[19]];
  return state === undefined || start === undefined ? undefined : { state, start };
}

/** This process, as a lock names it. */
async function selfHolder(): Promise<Holder> {
  const stat = await procStat(process.pid);
  const boot = (await readOrUndefined("/proc/sys/kernel/random/boot_id"))?.trim();
  return { pid: process.pid, start: typeof stat === "object" ? stat.start : undefined, boot: boot === "" ? undefined : boot };
}

/** `pid start boot` on one line ("-" for what is unknown): an earlier version reads the pid from its start. */
const formatHolder = (h: Holder): string => `${h.pid} ${h.start ?? "-"} ${h.boot ?? "-"}\n`;

function parseHolder(text: string): Holder | undefined {
  const [pid, start, boot] = text.trim().split(" ");
  if (pid === undefined || !/^[1-9][0-9]{0,9}$/.test(pid)) return undefined;
  const known = (v: string | undefined): string | undefined => (v === undefined || v === "-" ? undefined : v);
  return { pid: Number(pid), start: known(start), boot: known(boot) };
}

/** Whether the process a lock names still runs (and is that process, not a later one with its pid). */
async function holderAlive(holder: Holder, self: Holder): Promise<boolean> {
  if (holder.boot !== undefined && self.boot !== undefined && holder.boot !== self.boot) return false; // a reboot since
  const stat = await procStat(holder.pid);
  if (stat === "none") return false;
  if (stat !== undefined) return stat.state !== "Z" && stat.state !== "X" && (holder.start === undefined || holder.start === stat.start);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The numbers of the lock files in `dir`, in ascending order. */
async function lockNumbers(dir: string): Promise<number[]> {
  const numbers: number[] = [];
  for (const name of await readdir(dir)) {
    const n = numberOf(name);
    if (n !== undefined) numbers.push(n);
  }
  return numbers.sort((a, b) => a - b);
}

/** Drafts left by processes that died while taking or giving up a lock (a live starter's draft is its own). */
async function removeDeadDrafts(dir: string, self: Holder): Promise<void> {
  for (const name of await readdir(dir)) {
    const pid = DRAFT.exec(name)?.[1];
    if (pid !== undefined && !(await holderAlive({ pid: Number(pid), start: undefined, boot: undefined }, self))) {
      await rm(join(dir, name), { force: true });
    }
  }
}

export class DirLock {
  private released = false;

  private constructor(
    private readonly dir: string,
    private readonly number: number,
  ) {}

  /** The lock file this process holds. */
  private get file(): string {
    return join(this.dir, lockFileOf(this.number));
  }

  /** Takes `dir` for this process, or throws DirLockError naming the process that holds it. */
  static async acquire(dir: string): Promise<DirLock> {
    const me = await selfHolder();
    // Written whole before it is linked in, so a lock file is never seen empty or half-written.
    const draft = draftIn(dir);
    await writeFile(draft, formatHolder(me), { mode: 0o600 });
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const top = (await lockNumbers(dir)).at(-1);
        if (top !== undefined) {
          const text = await readOrUndefined(join(dir, lockFileOf(top)));
          if (text === undefined) continue; // removed since the listing (a lower number): look again
          const holder = text === RELEASED ? undefined : parseHolder(text);
          if (holder !== undefined && (await holderAlive(holder, me))) {
            throw new DirLockError(
              `data directory ${dir} is in use by process ${holder.pid} (${lockFileOf(top)}); give every node its own --data-dir`,
            );
          }
        }
        const mine = top === undefined ? 0 : top + 1;
        try {
          await link(draft, join(dir, lockFileOf(mine)));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "EEXIST") continue; // another starter took that number first
          throw err;
        }
        const numbers = await lockNumbers(dir);
        if (numbers.at(-1) !== mine) {
          // A number below the holder's, removed and recreated by us because we listed before the holder won.
          await rm(join(dir, lockFileOf(mine)), { force: true });
          continue;
        }
        for (const n of numbers) if (n < mine) await rm(join(dir, lockFileOf(n)), { force: true });
        await removeDeadDrafts(dir, me);
        return new DirLock(dir, mine);
      }
      throw new DirLockError(`could not lock data directory ${dir}: ${MAX_ATTEMPTS} rounds lost to other starters`);
    } finally {
      await rm(draft, { force: true });
    }
  }

  /** Gives the directory up: the lock file stays (the chain's highest) and says so. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const draft = draftIn(this.dir);
    await writeFile(draft, RELEASED, { mode: 0o600 });
    await rename(draft, this.file);
  }
}
