/**
 * A data log read as its format is documented (the README's "The data directory"), independently of RecordLog:
 * tests that damage a log compute from it what must come back.
 */

export interface LogRecord {
  /** Its first byte and the byte after it in the file. */
  readonly at: number;
  readonly end: number;
  readonly key: string;
  /** Undefined for a removal. */
  readonly value: unknown;
}

const HEADER_BYTES = 12;

/** The records of an intact log file. */
export function logRecords(bytes: Buffer): LogRecord[] {
  const records: LogRecord[] = [];
  for (let at = HEADER_BYTES; at < bytes.length; ) {
    const end = at + 8 + bytes.readUInt32LE(at);
    const [key, value] = JSON.parse(bytes.subarray(at + 8, end).toString("utf8")) as [string, unknown?];
    records.push({ at, end, key, value });
    at = end;
  }
  return records;
}

/** What replaying `records` holds: the last record of a key wins, a removal removes. */
export function replayRecords(records: readonly LogRecord[]): Map<string, unknown> {
  const live = new Map<string, unknown>();
  for (const r of records) {
    if (r.value === undefined) live.delete(r.key);
    else live.set(r.key, r.value);
  }
  return live;
}
