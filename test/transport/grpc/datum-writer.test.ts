/**
 * The hand-written snapshot and sync codecs: the writers produce exactly the bytes the generated code produces,
 * the readers read what the generated code reads (unknown fields skipped, malformed bytes refused).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { SnapshotResponseSchema, SyncRequestSchema } from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { DEFAULT_SERVICE_META, makeDatum, type ServiceDatum } from "../../../src/core/service-datum.js";
import { readSnapshotChunk, readSyncRequest } from "../../../src/transport/grpc/codecs/datum-reader.js";
import { decodeDatums, encodeDatum } from "../../../src/transport/grpc/codecs/datum.js";
import { writeSnapshotChunk, writeSyncRequest } from "../../../src/transport/grpc/codecs/datum-writer.js";
import { InvalidMessageError } from "../../../src/transport/grpc/codecs/invalid.js";
import { decodeChunk } from "../../../src/transport/grpc/codecs/distro.js";
import { encodeChunk } from "../../../src/transport/grpc/codecs/distro.js";
import type { SnapshotChunk } from "../../../src/node/ports.js";
import { testDatum, testInstance } from "../../support/fixtures.js";
import { DATUMS } from "./fixtures.js";

const generated = (c: SnapshotChunk): Buffer =>
  Buffer.from(toBinary(SnapshotResponseSchema, create(SnapshotResponseSchema, encodeChunk(c))));

const unusual: ServiceDatum[] = [
  // Large counters (more than 7 varint bytes), non-ASCII text, -0, negative and fractional numbers, a label selector.
  makeDatum(
    "ns-ü##G@@svc-ü",
    false,
    {
      protectThreshold: -0.5,
      metadata: { κλειδί: "τιμή", "": "" },
      selector: { type: "label", expression: "a=b" },
      clusters: {
        "7": {
          healthChecker: { type: "HTTP", path: "", headers: "", expectedResponseCode: 0 },
          checkPort: 0,
          useInstancePort4Check: false,
          metadata: {},
        },
        "ü-1": {
          healthChecker: { type: "HTTP", path: "/é", headers: "A:ü", expectedResponseCode: 599 },
          checkPort: 65535,
          useInstancePort4Check: true,
          metadata: { "": "" },
        },
      },
    },
    { counter: 2 ** 53 - 1, writer: "[::1]:8848" },
    [],
  ),
  testDatum(
    "public##DEFAULT_GROUP@@w",
    [
      testInstance("192.0.2.1", 0, "DEFAULT_GROUP@@w", { weight: -0, metadata: { z: "1", a: "é" } }),
      testInstance("192.0.2.2", 65535, "DEFAULT_GROUP@@w", { weight: 0, healthy: false, enabled: false, ephemeral: false, marked: true }),
    ],
    { counter: 2 ** 49, writer: "" },
  ),
  makeDatum("public##DEFAULT_GROUP@@gone", true, DEFAULT_SERVICE_META, { counter: 0, writer: "" }, []),
];

test("every datum shape, every total and token: the same bytes as toBinary", () => {
  for (const chunk of [
    { datums: [...DATUMS, ...unusual], totalKeys: 7, totalInstances: 2 ** 40, resumeToken: "public##DEFAULT_GROUP@@ü" },
    { datums: [], totalKeys: 0, totalInstances: 0, resumeToken: "" },
  ]) {
    assert.deepEqual(Buffer.from(writeSnapshotChunk(chunk)), generated(chunk));
  }
});

test("sync requests: the same bytes as toBinary, and read back to the same datums as fromBinary reads", () => {
  const datums = [...DATUMS, ...unusual.slice(1)]; // the first has a name no decoder accepts
  const generated = toBinary(SyncRequestSchema, create(SyncRequestSchema, { datums: datums.map(encodeDatum) }));
  assert.deepEqual(Buffer.from(writeSyncRequest(datums)), Buffer.from(generated));
  assert.deepEqual(
    decodeDatums(readSyncRequest(generated).datums, "datums"),
    decodeDatums(fromBinary(SyncRequestSchema, generated).datums, "datums"),
  );
  const chunk = { datums, totalKeys: 3, totalInstances: 9, resumeToken: "k" };
  assert.deepEqual(
    decodeChunk(readSnapshotChunk(writeSnapshotChunk(chunk)), "chunk"),
    decodeChunk(fromBinary(SnapshotResponseSchema, writeSnapshotChunk(chunk)), "chunk"),
  );
});

test("the readers skip fields a newer schema adds, and refuse bytes that are no valid encoding", () => {
  const known = writeSyncRequest(DATUMS);
  const w = new BinaryWriter();
  w.tag(99, WireType.Varint).uint64(7);
  w.tag(98, WireType.LengthDelimited).string("from the future");
  w.tag(97, WireType.Bit64).double(1.5);
  w.tag(96, WireType.Bit32).fixed32(3);
  const withUnknown = Buffer.concat([Buffer.from(w.finish()), Buffer.from(known)]);
  assert.deepEqual(decodeDatums(readSyncRequest(withUnknown).datums, "datums"), decodeDatums(readSyncRequest(known).datums, "datums"));
  for (const bad of [known.subarray(0, known.length - 3), Buffer.from([0x0a, 0x80]), Buffer.from([0x0b]), Buffer.from([0x08, 0x01])]) {
    assert.throws(() => readSyncRequest(bad), InvalidMessageError);
  }
});

test("a counter beyond 2^53 - 1 is read exactly enough for the decoder to refuse it by name", () => {
  const huge = makeDatum("public##DEFAULT_GROUP@@x", false, DEFAULT_SERVICE_META, { counter: 1, writer: "w" }, []);
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(huge.key);
  w.tag(3, WireType.LengthDelimited)
    .fork()
    .tag(3, WireType.LengthDelimited)
    .fork()
    .tag(1, WireType.LengthDelimited)
    .fork()
    .join()
    .join()
    .join();
  w.tag(4, WireType.LengthDelimited)
    .fork()
    .tag(1, WireType.Varint)
    .uint64(2n ** 60n)
    .join();
  w.join();
  assert.throws(
    () => decodeDatums(readSyncRequest(w.finish()).datums, "datums"),
    /datums\[0\]\.metaVersion\.counter: 1152921504606846976 is outside/,
  );
});
