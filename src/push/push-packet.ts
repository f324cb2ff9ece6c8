/**
 * The bytes of a 1.x UDP push and of its ack, as the Nacos 1.x clients read and write them: JSON, gzipped
 * by the server once it reaches 1 KB (clients sniff the gzip magic bytes, so either form is always accepted).
 */
import { gunzipSync, gzipSync } from "node:zlib";

/** 1.4's `compressIfNecessary` threshold, applied to the UTF-8 JSON of the whole packet. */
export const GZIP_THRESHOLD_BYTES = 1024;

/**
 * The most an ack may take, on the wire and unpacked: a real one is well under 200 bytes. A gzip "bomb" of
 * 32 KB unpacks to tens of megabytes; it is cut off here after a few kilobytes.
 */
export const MAX_ACK_BYTES = 4096;

export interface PushPacket {
  readonly type: "dom";
  /** The `instance/list` answer as a JSON *string*: clients JSON.parse it a second time. */
  readonly data: string;
  /** Echoed back in the ack; must survive a JavaScript number round trip, so it stays below 2^53. */
  readonly lastRefTime: number;
}

export function encodePushPacket(packet: PushPacket): Uint8Array {
  const json = Buffer.from(JSON.stringify(packet), "utf8");
  return json.length >= GZIP_THRESHOLD_BYTES ? gzipSync(json) : json;
}

const isGzip = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

/** JSON text of a datagram, gzipped or not; throws when it is (or unpacks to) more than MAX_ACK_BYTES. */
function datagramText(bytes: Uint8Array): string {
  if (bytes.length > MAX_ACK_BYTES) throw new RangeError(`datagram of ${bytes.length} bytes is no ack`);
  const raw = isGzip(bytes)
    ? gunzipSync(bytes, { maxOutputLength: MAX_ACK_BYTES })
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return raw.toString("utf8");
}

/**
 * The stamp an ack echoes, or undefined for anything that is not an ack. The npm client echoes a number;
 * the Java client sends the same digits as a string. Any ack type counts, as in 1.4's receiver.
 */
export function parseAckStamp(bytes: Uint8Array): number | undefined {
  let ack: unknown;
  try {
    ack = JSON.parse(datagramText(bytes));
  } catch {
    return undefined;
  }
  if (typeof ack !== "object" || ack === null) return undefined;
  const stamp: unknown = (ack as { lastRefTime?: unknown }).lastRefTime;
  const value = typeof stamp === "string" && /^\d+$/.test(stamp) ? Number(stamp) : stamp;
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
