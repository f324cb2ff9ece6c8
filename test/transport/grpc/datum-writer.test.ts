/** The snapshot writer produces exactly the bytes the generated code produces for the same chunk. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { SnapshotResponseSchema } from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { DEFAULT_SERVICE_META, makeDatum, type ServiceDatum } from "../../../src/core/service-datum.js";
import { writeSnapshotChunk } from "../../../src/transport/grpc/codecs/datum-writer.js";
import { encodeChunk } from "../../../src/transport/grpc/codecs/distro.js";
import type { SnapshotChunk } from "../../../src/node/ports.js";
import { testDatum, testInstance } from "../../support/fixtures.js";
import { DATUMS } from "./fixtures.js";

const generated = (c: SnapshotChunk): Buffer =>
  Buffer.from(toBinary(SnapshotResponseSchema, create(SnapshotResponseSchema, encodeChunk(c))));

test("every datum shape, every total and token: the same bytes as toBinary", () => {
  const unusual: ServiceDatum[] = [
    // Large counters (more than 7 varint bytes), non-ASCII text, -0, negative and fractional numbers, a label selector.
    makeDatum(
      "ns-ü##G@@svc-ü",
      false,
      { protectThreshold: -0.5, metadata: { κλειδί: "τιμή", "": "" }, selector: { type: "label", expression: "a=b" } },
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
    makeDatum("public##DEFAULT_GROUP@@empty", true, DEFAULT_SERVICE_META, { counter: 0, writer: "" }, []),
  ];
  for (const chunk of [
    { datums: [...DATUMS, ...unusual], totalKeys: 7, totalInstances: 2 ** 40, resumeToken: "public##DEFAULT_GROUP@@ü" },
    { datums: [], totalKeys: 0, totalInstances: 0, resumeToken: "" },
  ]) {
    assert.deepEqual(Buffer.from(writeSnapshotChunk(chunk)), generated(chunk));
  }
});
