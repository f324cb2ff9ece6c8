/**
 * The data directory's store: an append-only log of checksummed key → value records in one file, replayed
 * into memory at open (the last record of a key wins; a removal is a record without a value) and compacted by
 * rewriting the live records to a new file that replaces the old one atomically.
 *
 * Why a log and not an embedded database: what ts-nacos keeps durable is small (persistent instances, service
 * settings, switches) and always held in memory by the registry anyway, so a store only needs ordered,
 * checksummed appends and one fsync per batch. That is ~200 lines with no native module to build or ship,
 * and the file format is ours to version.
 *
 * File: 8 bytes of magic, a u32 format version, then records of [u32 payload length][u32 CRC-32 of the
 * payload][payload: UTF-8 JSON, `[key, value]` or `[key]` for a removal], little-endian.
 *
 * Durability is by group commit: every put or remove made while a batch is being written joins the next
 * batch, and each batch is one write and one fdatasync; `durable()` resolves once its batch is synced.
 *
 * Failures. A failed write (a full disk) is cut back to the last synced byte before anything else is appended,
 * and only its own waiters are refused. A failed fsync (or a failed cut) ends durability for the process: the
 * kernel may have dropped the unwritten pages, so every later `durable()` is refused and `failure` says why
 * until a restart re-reads what is really on disk. At open, unreadable bytes with an intact record somewhere
 * after them are damage, not a crash (only the last write can be torn, and a failed one is cut back): they
 * are skipped, every intact record is kept, the damaged file is kept beside the log and the log rewritten.
 * Unreadable bytes at the end are a write torn by a crash: cut off with a warning.
 *
 * Files are created readable by this user only (the tables hold password hashes): 0600, the directory 0700.
 */
import { chmod, type FileHandle, link, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { Log } from "../core/log.js";
import type { DurableStore } from "../node/ports.js";
import { DirLock } from "./dir-lock.js";

const MAGIC = Buffer.from("TSNACOS\n", "ascii");
export const FORMAT_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 4;
const RECORD_HEAD_BYTES = 8;
/** The largest record a log accepts or replays: a bound on what one corrupt length field can make us read. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
export const LOG_FILE = "naming.log";
const COMPACT_FILE = "naming.log.compact";
/** Compact once the file is this much larger than its live records (and at least COMPACT_MIN_BYTES). */
const COMPACT_RATIO = 2;
const COMPACT_MIN_BYTES = 1024 * 1024;

export class DataFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataFileError";
  }
}

function header(): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(b, 0);
  b.writeUInt32LE(FORMAT_VERSION, MAGIC.length);
  return b;
}

function encodeRecord(key: string, value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value === undefined ? [key] : [key, value]), "utf8");
  if (payload.length > MAX_RECORD_BYTES) throw new DataFileError(`a record of ${payload.length} bytes exceeds ${MAX_RECORD_BYTES}`);
  const record = Buffer.allocUnsafe(RECORD_HEAD_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt32LE(crc32(payload), 4);
  payload.copy(record, RECORD_HEAD_BYTES);
  return record;
}

interface LiveRecord {
  readonly value: unknown;
  readonly record: Buffer;
}

/** Where replay found records it could not read and skipped, because intact records follow them. */
interface Damage {
  readonly at: number;
  readonly end: number;
  readonly why: string;
}

interface Replay {
  readonly live: Map<string, LiveRecord>;
  /** Unreadable bytes with intact records after them: what a disk or memory error did, not a crash. */
  readonly damaged: readonly Damage[];
  /** Where the unreadable end of the file begins (a write cut by a crash), if it has one. */
  readonly tornAt: number | undefined;
  readonly tornWhy: string | undefined;
}

function checkHeader(file: Buffer, path: string): void {
  if (file.length < HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new DataFileError(`${path} is not a ts-nacos data file (bad magic in bytes 0-7); move it away or point --data-dir elsewhere`);
  }
  const version = file.readUInt32LE(MAGIC.length);
  if (version !== FORMAT_VERSION) {
    throw new DataFileError(`${path} has data format ${version} (bytes 8-11); this ts-nacos reads format ${FORMAT_VERSION}`);
  }
}

interface Decoded {
  readonly key: string;
  /** Undefined for a removal. */
  readonly value: unknown;
  readonly removal: boolean;
  readonly end: number;
}

/** The record at byte `at`, or why there is none there. */
function recordAt(file: Buffer, at: number): Decoded | string {
  if (file.length - at < RECORD_HEAD_BYTES) return "a truncated record header";
  const length = file.readUInt32LE(at);
  const end = at + RECORD_HEAD_BYTES + length;
  if (length > MAX_RECORD_BYTES || end > file.length) return "a truncated record";
  const payload = file.subarray(at + RECORD_HEAD_BYTES, end);
  if (crc32(payload) !== file.readUInt32LE(at + 4)) return "a record failing its checksum";
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString("utf8"));
  } catch {
    return "a record that is not JSON";
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== "string" || parsed.length > 2) return "a record of an unknown shape";
  return { key: parsed[0], value: parsed[1], removal: parsed.length === 1, end };
}

const OPEN_BRACKET = 0x5b;
const QUOTE = 0x22;
const CLOSE_BRACKET = 0x5d;

/**
 * The first offset from `from` on where an intact record starts, if any. Cheap tests come first (a length a
 * record can have, a payload shaped `["…]`), so the checksum is computed at almost no offset: a length read
 * out of JSON text is at least 0x20000000, far above MAX_RECORD_BYTES.
 */
function nextRecord(file: Buffer, from: number): number | undefined {
  for (let at = from; at + RECORD_HEAD_BYTES + 4 <= file.length; at++) {
    const length = file.readUInt32LE(at);
    if (length < 4 || length > MAX_RECORD_BYTES) continue;
    const end = at + RECORD_HEAD_BYTES + length;
    if (end > file.length || file[at + RECORD_HEAD_BYTES] !== OPEN_BRACKET || file[at + RECORD_HEAD_BYTES + 1] !== QUOTE) continue;
    if (file[end - 1] === CLOSE_BRACKET && typeof recordAt(file, at) !== "string") return at;
  }
  return undefined;
}

/**
 * Replays the records after the header. An unreadable record with an intact one somewhere after it is damage
 * (skipped: the records after it are kept); one with nothing intact after it is the torn end of the file.
 */
function replay(file: Buffer): Replay {
  const live = new Map<string, LiveRecord>();
  const damaged: Damage[] = [];
  let at = HEADER_BYTES;
  while (at < file.length) {
    const decoded = recordAt(file, at);
    if (typeof decoded === "string") {
      const next = nextRecord(file, at + 1);
      if (next === undefined) return { live, damaged, tornAt: at, tornWhy: decoded };
      damaged.push({ at, end: next, why: decoded });
      at = next;
      continue;
    }
    if (decoded.removal) live.delete(decoded.key);
    else live.set(decoded.key, { value: decoded.value, record: Buffer.from(file.subarray(at, decoded.end)) });
    at = decoded.end;
  }
  return { live, damaged, tornAt: undefined, tornWhy: undefined };
}

/** The directory readable by this user only (it holds password hashes); an existing looser one is tightened. */
async function privateDir(dir: string, log: Log): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await tighten(dir, 0o700, log);
}

async function tighten(path: string, mode: number, log: Log): Promise<void> {
  const was = (await stat(path)).mode & 0o777;
  if ((was & ~mode) === 0) return;
  const modes = { path, was: was.toString(8), now: (was & mode).toString(8) };
  try {
    await chmod(path, was & mode);
  } catch (err) {
    // Not ours to change (another owner): the operator has to, but the node can still run.
    log.warn("data directory: readable by other users and could not be tightened", { ...modes, error: String(err) });
    return;
  }
  log.warn("data directory: readable by other users, tightened", modes);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Keeps the damaged file beside the log under the first free `naming.log.damaged.<n>` (a second name, no copy). */
async function keepDamaged(path: string): Promise<string> {
  for (let n = 1; ; n++) {
    const copy = `${path}.damaged.${n}`;
    try {
      await link(path, copy);
      return copy;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || n >= 1000) throw err;
    }
  }
}

/** What a disk operation of the log is: what a test hook can hold back or fail. */
export type DiskOp = "write" | "sync" | "truncate";

export interface RecordLogOptions {
  /**
   * Runs before every write, sync and truncate of the log file: tests hold the disk back (return a promise
   * they settle later) or make it fail (throw). Nothing in production sets it.
   */
  readonly beforeDiskOp?: (op: DiskOp) => Promise<void>;
}

export class RecordLog implements DurableStore {
  private pending: Buffer[] = [];
  /** A batch whose write failed and was cut back: written again ahead of the next batch. */
  private unwritten: Buffer | undefined;
  private changeCount = 0;
  private synced = 0;
  private waiters: Array<{ upTo: number; resolve: () => void; reject: (err: Error) => void }> = [];
  /** The running flush loop, if any: appends while it runs join its next batch. */
  private flushing: Promise<void> | undefined;
  private liveBytes = 0;
  private closed = false;
  private failed: DataFileError | undefined;

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    private fileBytes: number,
    private readonly live: Map<string, LiveRecord>,
    private readonly lock: DirLock,
    private readonly log: Log,
    private readonly options: RecordLogOptions,
  ) {
    for (const { record } of live.values()) this.liveBytes += record.length;
  }

  /**
   * Opens (creating) the log in `dir`, replaying what it holds. A torn end is cut off with a warning; damaged
   * records with intact ones after them are skipped with an error, the damaged file kept beside the log and
   * the log rewritten from what was read.
   */
  static async open(dir: string, log: Log, options: RecordLogOptions = {}): Promise<RecordLog> {
    await privateDir(dir, log);
    const lock = await DirLock.acquire(dir);
    try {
      const path = join(dir, LOG_FILE);
      await rm(join(dir, COMPACT_FILE), { force: true }); // a compaction the last process did not finish
      const file = await readFile(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      });
      if (file === undefined) {
        await writeFile(path, header(), { flag: "wx", flush: true, mode: 0o600 });
        await syncDir(dir);
        return new RecordLog(dir, await open(path, "a"), HEADER_BYTES, new Map(), lock, log, options);
      }
      await tighten(path, 0o600, log);
      checkHeader(file, path);
      const { live, damaged, tornAt, tornWhy } = replay(file);
      if (tornAt !== undefined) {
        log.warn("data log: dropped a torn or corrupt tail (a crash during a write leaves one)", {
          file: path,
          reason: `${tornWhy} at byte ${tornAt} (${file.length - tornAt} bytes dropped)`,
        });
        const handle = await open(path, "r+");
        await handle.truncate(tornAt);
        await handle.sync();
        await handle.close();
      }
      const store = new RecordLog(dir, await open(path, "a"), tornAt ?? file.length, live, lock, log, options);
      if (damaged.length > 0) {
        const copy = await keepDamaged(path);
        log.error("data log: damaged records skipped (a disk or memory error, not a crash); every intact record is kept", {
          file: path,
          damaged: damaged.map((d) => `${d.why} at byte ${d.at} (${d.end - d.at} bytes skipped)`),
          keptAs: copy,
        });
        await store.compact();
      }
      log.info("data log opened", { file: path, records: live.size, bytes: store.fileBytes });
      return store;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  *entries(): IterableIterator<readonly [string, unknown]> {
    for (const [key, { value }] of this.live) yield [key, value];
  }

  get size(): number {
    return this.live.size;
  }

  get changes(): number {
    return this.changeCount;
  }

  /** Why nothing more can be made durable, once a sync (or cutting back a failed write) failed. */
  get failure(): string | undefined {
    return this.failed?.message;
  }

  put(key: string, value: unknown): void {
    const record = encodeRecord(key, value);
    this.liveBytes += record.length - (this.live.get(key)?.record.length ?? 0);
    this.live.set(key, { value, record });
    this.append(record);
  }

  remove(key: string): void {
    const old = this.live.get(key);
    if (old === undefined) return;
    this.liveBytes -= old.record.length;
    this.live.delete(key);
    this.append(encodeRecord(key, undefined));
  }

  durable(): Promise<void> {
    if (this.synced >= this.changeCount) return Promise.resolve();
    if (this.failed !== undefined) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => this.waiters.push({ upTo: this.changeCount, resolve, reject }));
  }

  /** Writes what is pending, then closes the file and frees the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing !== undefined) await this.flushing;
    this.closed = true;
    await this.handle.close();
    await this.lock.release();
  }

  private get path(): string {
    return join(this.dir, LOG_FILE);
  }

  private append(record: Buffer): void {
    if (this.closed) throw new DataFileError("the data log is closed");
    this.changeCount++;
    if (this.failed !== undefined) return; // durable() refuses it
    this.pending.push(record);
    this.flushing ??= this.flushLoop();
  }

  private async disk(op: DiskOp): Promise<void> {
    await this.options.beforeDiskOp?.(op);
  }

  /** One write and one fdatasync per batch; whatever arrives meanwhile forms the next batch. */
  private async flushLoop(): Promise<void> {
    await Promise.resolve(); // let the rest of this turn's writes join the batch
    for (;;) {
      if (this.pending.length === 0 || this.failed !== undefined) {
        // Decided in the same synchronous step as the check: an append after it starts a new loop.
        this.flushing = undefined;
        return;
      }
      const batch = Buffer.concat(this.unwritten === undefined ? this.pending : [this.unwritten, ...this.pending]);
      this.pending = [];
      this.unwritten = undefined;
      const upTo = this.changeCount;
      try {
        await this.disk("write");
        await this.writeAll(batch);
      } catch (err) {
        await this.cutBack(batch, upTo, err);
        continue;
      }
      try {
        await this.disk("sync");
        await this.handle.datasync();
      } catch (err) {
        // After a failed fsync the kernel may have dropped the pages it could not write and marked them clean:
        // a second fsync would succeed without them ("fsyncgate"). Nothing can be promised any more.
        this.fail(`syncing ${this.path} failed (${String(err)})`);
        continue;
      }
      this.fileBytes += batch.length;
      this.synced = upTo;
      this.settle((w) => w.upTo <= upTo, undefined);
      if (this.fileBytes > Math.max(COMPACT_MIN_BYTES, COMPACT_RATIO * this.liveBytes)) await this.compact();
    }
  }

  private async writeAll(bytes: Buffer): Promise<void> {
    let done = 0;
    while (done < bytes.length) done += (await this.handle.write(bytes, done, bytes.length - done)).bytesWritten;
  }

  /**
   * A write that failed (a full disk: ENOSPC, EFBIG) may have left part of the batch in the file: cut the file
   * back to its last synced byte before anything else is appended, or later acknowledged records would follow
   * a broken one. The batch's waiters are refused; its records are written again ahead of the next batch.
   */
  private async cutBack(batch: Buffer, upTo: number, err: unknown): Promise<void> {
    try {
      await this.disk("truncate");
      await this.handle.truncate(this.fileBytes);
      await this.handle.datasync();
    } catch (cutErr) {
      this.fail(`writing ${this.path} failed (${String(err)}) and cutting it back failed too (${String(cutErr)})`);
      return;
    }
    this.unwritten = batch;
    this.log.error("data log write failed: cut back to the last synced record; the writes waiting for it are refused", {
      file: this.path,
      error: String(err),
    });
    this.settle((w) => w.upTo <= upTo, new DataFileError(`the data directory refused the write: ${String(err)}`));
  }

  /** From now on nothing is acknowledged as durable: every waiter and every later durable() is refused. */
  private fail(reason: string): void {
    this.failed = new DataFileError(
      `${reason}: the data directory takes no more writes; restart the node once the disk is fixed (it re-reads what the disk holds)`,
    );
    this.log.error("data log failed: writes that need the disk are refused until the node restarts", { reason });
    this.settle(() => true, this.failed);
  }

  private settle(which: (w: { upTo: number }) => boolean, err: Error | undefined): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (!which(w)) still.push(w);
      else if (err === undefined) w.resolve();
      else w.reject(err);
    }
    this.waiters = still;
  }

  /**
   * Rewrites the live records to a new file, synced, then renames it over the log (atomic on POSIX). A failure
   * before the rename leaves the log as it was; one after it leaves appends with no file known to hold them.
   */
  private async compact(): Promise<void> {
    const temp = join(this.dir, COMPACT_FILE);
    const parts = [header()];
    for (const { record } of this.live.values()) parts.push(record);
    const bytes = Buffer.concat(parts);
    try {
      await writeFile(temp, bytes, { flush: true, mode: 0o600 });
    } catch (err) {
      await rm(temp, { force: true }).catch(() => undefined);
      this.log.warn("data log: compaction failed; the log stays as it is", { error: String(err) });
      return;
    }
    try {
      await rename(temp, this.path);
      await syncDir(this.dir);
      const handle = await open(this.path, "a");
      await this.handle.close();
      this.handle = handle;
    } catch (err) {
      this.fail(`compacting ${this.path} failed after its rename (${String(err)})`);
      return;
    }
    this.log.info("data log compacted", { before: this.fileBytes, after: bytes.length, records: this.live.size });
    this.fileBytes = bytes.length;
  }
}
