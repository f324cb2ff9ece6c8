import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { encodePushPacket, GZIP_THRESHOLD_BYTES, parseAckStamp } from "../../src/push/push-packet.js";
import { decodeLikeNacosClient, isGzip } from "./push-fixtures.js";

test("a packet is gzipped exactly when its UTF-8 JSON reaches 1024 bytes", () => {
  const overhead = Buffer.byteLength(JSON.stringify({ type: "dom", data: "", lastRefTime: 7 }));
  const packetOf = (jsonBytes: number) => ({ type: "dom" as const, data: "x".repeat(jsonBytes - overhead), lastRefTime: 7 });
  const below = encodePushPacket(packetOf(GZIP_THRESHOLD_BYTES - 1));
  assert.equal(isGzip(below), false);
  assert.equal(below.length, 1023);
  const at = encodePushPacket(packetOf(GZIP_THRESHOLD_BYTES));
  assert.equal(isGzip(at), true);
  assert.deepEqual(decodeLikeNacosClient(at), packetOf(GZIP_THRESHOLD_BYTES));
  // Multi-byte characters count in bytes: 545 characters, over 1 KB of UTF-8.
  const wide = { type: "dom" as const, data: "é".repeat(500), lastRefTime: 7 };
  assert.equal(isGzip(encodePushPacket(wide)), true);
  assert.deepEqual(decodeLikeNacosClient(encodePushPacket(wide)), wide);
});

test("acks: a number (npm client) or digit string (Java client), plain or gzipped", () => {
  const stamp = 1_700_000_000_000_123;
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  assert.equal(parseAckStamp(json({ type: "push-ack", lastRefTime: stamp, data: "" })), stamp);
  assert.equal(parseAckStamp(json({ type: "push-ack", lastRefTime: String(stamp), data: "" })), stamp);
  assert.equal(parseAckStamp(gzipSync(json({ type: "push-ack", lastRefTime: stamp }))), stamp);
  assert.equal(parseAckStamp(json({ type: "unknown-ack", lastRefTime: 5 })), 5);
});

test("anything else is not an ack, and never throws", () => {
  const cases: Uint8Array[] = [
    Buffer.from(""),
    Buffer.from("not json"),
    Buffer.from([0x1f, 0x8b, 1, 2, 3]),
    Buffer.from("null"),
    Buffer.from("42"),
    Buffer.from(JSON.stringify({ type: "push-ack" })),
    Buffer.from(JSON.stringify({ lastRefTime: "12a" })),
    Buffer.from(JSON.stringify({ lastRefTime: -1 })),
    Buffer.from(JSON.stringify({ lastRefTime: 1.5 })),
    Buffer.from(JSON.stringify({ lastRefTime: "9007199254740993" })),
    Buffer.from('{"lastRefTime": 9007199254740993}'),
  ];
  for (const bytes of cases) assert.equal(parseAckStamp(bytes), undefined, Buffer.from(bytes).toString("latin1"));
});
