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
 * payload][payload: UTF-8 JSON, `[key, value]` or `[key]` for a removal], little-endian. A record that runs
 * past the end of the file or fails its checksum is where a crash tore the last write: it and anything after
 * it are dropped with a warning, and the file is cut back to the last good record.
 *
 * Durability is by group commit: every put or remove made while a batch is being written joins the next
 * batch, and each batch is one write and one fdatasync; `durable()` resolves once its batch is synced.
 */
import { type FileHandle, mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { Log } from "../core/log.js";
import type { DurableStore } from "../node/ports.js";

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

interface Replay {
  readonly live: Map<string, { value: unknown; record: Buffer }>;
  /** Where the last good record ends. */
  readonly goodBytes: number;
  /** Why the rest was dropped, if anything was. */
  readonly torn: string | undefined;
}

function checkHeader(file: Buffer, path: string): void {
  if (file.length < HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new DataFileError(`${path} is not a ts-nacos data file (bad magic); move it away or point --data-dir elsewhere`);
  }
  const version = file.readUInt32LE(MAGIC.length);
  if (version !== FORMAT_VERSION) {
    throw new DataFileError(`${path} has data format ${version}; this ts-nacos reads format ${FORMAT_VERSION}`);
  }
}

function replay(file: Buffer): Replay {
  const live = new Map<string, { value: unknown; record: Buffer }>();
  let at = HEADER_BYTES;
  const tornAt = (why: string): Replay => ({ live, goodBytes: at, torn: `${why} at byte ${at} (${file.length - at} bytes dropped)` });
  while (at < file.length) {
    if (file.length - at < RECORD_HEAD_BYTES) return tornAt("a truncated record header");
    const length = file.readUInt32LE(at);
    if (length > MAX_RECORD_BYTES || at + RECORD_HEAD_BYTES + length > file.length) return tornAt("a truncated record");
    const payload = file.subarray(at + RECORD_HEAD_BYTES, at + RECORD_HEAD_BYTES + length);
    if (crc32(payload) !== file.readUInt32LE(at + 4)) return tornAt("a record failing its checksum");
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString("utf8"));
    } catch {
      return tornAt("a record that is not JSON");
    }
    if (!Array.isArray(parsed) || typeof parsed[0] !== "string" || parsed.length > 2) return tornAt("a record of an unknown shape");
    const record = Buffer.from(file.subarray(at, at + RECORD_HEAD_BYTES + length));
    if (parsed.length === 1) live.delete(parsed[0]);
    else live.set(parsed[0], { value: parsed[1], record });
    at += RECORD_HEAD_BYTES + length;
  }
  return { live, goodBytes: at, torn: undefined };
}

/** Takes the directory for this process: a second node on the same data directory would corrupt it. */
async function lock(dir: string): Promise<string> {
  const path = join(dir, "LOCK");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: "wx" });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new DataFileError(`data directory ${dir} is in use by process ${holder}; give every node its own --data-dir`);
      }
      await rm(path, { force: true }); // left by a process that is gone
    }
  }
  throw new DataFileError(`could not lock data directory ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class RecordLog implements DurableStore {
  private pending: Buffer[] = [];
  private changeCount = 0;
  private synced = 0;
  private waiters: Array<{ upTo: number; resolve: () => void; reject: (err: Error) => void }> = [];
  /** The running flush loop, if any: appends while it runs join its next batch. */
  private flushing: Promise<void> | undefined;
  private liveBytes = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    private fileBytes: number,
    private readonly live: Map<string, { value: unknown; record: Buffer }>,
    private readonly lockPath: string,
    private readonly log: Log,
  ) {
    for (const { record } of live.values()) this.liveBytes += record.length;
  }

  /** Opens (creating) the log in `dir`, replaying what it holds; a torn tail is cut off with a warning. */
  static async open(dir: string, log: Log): Promise<RecordLog> {
    await mkdir(dir, { recursive: true });
    const lockPath = await lock(dir);
    try {
      const path = join(dir, LOG_FILE);
      await rm(join(dir, COMPACT_FILE), { force: true }); // a compaction the last process did not finish
      const file = await readFile(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw err;
      });
      if (file === undefined) {
        await writeFile(path, header(), { flag: "wx", flush: true });
        await syncDir(dir);
        return new RecordLog(dir, await open(path, "a"), HEADER_BYTES, new Map(), lockPath, log);
      }
      checkHeader(file, path);
      const { live, goodBytes, torn } = replay(file);
      const handle = await open(path, "r+");
      if (torn !== undefined) {
        log.warn("data log: dropped a torn or corrupt tail (a crash during a write leaves one)", { file: path, reason: torn });
        await handle.truncate(goodBytes);
        await handle.sync();
      }
      await handle.close();
      log.info("data log opened", { file: path, records: live.size, bytes: goodBytes });
      return new RecordLog(dir, await open(path, "a"), goodBytes, live, lockPath, log);
    } catch (err) {
      await rm(lockPath, { force: true });
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
    return new Promise((resolve, reject) => this.waiters.push({ upTo: this.changeCount, resolve, reject }));
  }

  /** Writes what is pending, then closes the file and frees the directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing !== undefined) await this.flushing;
    this.closed = true;
    await this.handle.close();
    await rm(this.lockPath, { force: true });
  }

  private append(record: Buffer): void {
    if (this.closed) throw new DataFileError("the data log is closed");
    this.pending.push(record);
    this.changeCount++;
    this.flushing ??= this.flushLoop();
  }

  /** One write and one fdatasync per batch; whatever arrives meanwhile forms the next batch. */
  private async flushLoop(): Promise<void> {
    await Promise.resolve(); // let the rest of this turn's writes join the batch
    for (;;) {
      if (this.pending.length === 0) {
        // Decided in the same synchronous step as the check: an append after it starts a new loop.
        this.flushing = undefined;
        return;
      }
      const batch = Buffer.concat(this.pending);
      this.pending = [];
      const upTo = this.changeCount;
      try {
        await this.writeAll(batch);
        await this.handle.datasync();
        this.fileBytes += batch.length;
        this.synced = upTo;
        this.settle((w) => w.upTo <= upTo, undefined);
        if (this.fileBytes > Math.max(COMPACT_MIN_BYTES, COMPACT_RATIO * this.liveBytes)) await this.compact();
      } catch (err) {
        this.log.error("data log write failed: writes waiting for it are refused", { error: String(err) });
        this.settle(() => true, err as Error);
      }
    }
  }

  private async writeAll(bytes: Buffer): Promise<void> {
    let done = 0;
    while (done < bytes.length) done += (await this.handle.write(bytes, done, bytes.length - done)).bytesWritten;
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

  /** Rewrites the live records to a new file, synced, then renames it over the log (atomic on POSIX). */
  private async compact(): Promise<void> {
    const path = join(this.dir, LOG_FILE);
    const temp = join(this.dir, COMPACT_FILE);
    const parts = [header()];
    for (const { record } of this.live.values()) parts.push(record);
    const bytes = Buffer.concat(parts);
    await writeFile(temp, bytes, { flush: true });
    await rename(temp, path);
    await syncDir(this.dir);
    await this.handle.close();
    this.handle = await open(path, "a");
    this.log.info("data log compacted", { before: this.fileBytes, after: bytes.length, records: this.live.size });
    this.fileBytes = bytes.length;
  }
}
