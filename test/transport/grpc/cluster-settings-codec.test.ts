/**
 * Cluster settings in a datum's meta, from a hostile peer: the hand-written reader and the generated code read
 * the same, the decoder refuses by path whatever no client write could have set, and an older node's datum
 * (without the field) reads as "no settings".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { SyncRequestSchema } from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { ClusterSettingsSchema } from "../../../gen/nacos/cluster/v1/datum_pb.js";
import { readSyncRequest } from "../../../src/transport/grpc/codecs/datum-reader.js";
import { decodeDatums, encodeDatum } from "../../../src/transport/grpc/codecs/datum.js";
import { writeSyncRequest } from "../../../src/transport/grpc/codecs/datum-writer.js";
import { InvalidMessageError } from "../../../src/transport/grpc/codecs/invalid.js";
import { ORDERS } from "./fixtures.js";

type ClusterInit = MessageInitShape<typeof ClusterSettingsSchema>;

const withClusters = (clusters: Record<string, ClusterInit>): Uint8Array => {
  const message = create(SyncRequestSchema, { datums: [encodeDatum(ORDERS)] });
  message.datums[0]!.meta!.clusters = Object.fromEntries(Object.entries(clusters).map(([k, v]) => [k, create(ClusterSettingsSchema, v)]));
  return toBinary(SyncRequestSchema, message);
};

const tcp: ClusterInit = { healthChecker: { kind: { case: "tcp", value: {} } }, checkPort: 80, useInstancePort: true };
const http = (value: { path?: string; headers?: string; expectedResponseCode?: number }): ClusterInit => ({
  healthChecker: { kind: { case: "http", value: { expectedResponseCode: 200, ...value } } },
});

test("settings read back as written, by the hand-written reader and the generated code alike", () => {
  const bytes = writeSyncRequest([ORDERS]);
  const [datum] = decodeDatums(readSyncRequest(bytes).datums, "datums");
  assert.deepEqual(datum!.meta.clusters, ORDERS.meta.clusters);
  assert.ok(Object.keys(ORDERS.meta.clusters).length === 3);
});

test("an older node's meta has no clusters field: no settings, every cluster checked by default", () => {
  const [datum] = decodeDatums(readSyncRequest(withClusters({})).datums, "datums");
  assert.deepEqual(datum!.meta.clusters, {});
});

test("settings no client could set are refused by path", () => {
  const cases: Array<[Record<string, ClusterInit>, RegExp]> = [
    [{ a_b: tcp }, /datums\[0\]\.meta\.clusters\[a_b\]: cluster name can only have/],
    [{ c: { checkPort: 80 } }, /datums\[0\]\.meta\.clusters\[c\]\.healthChecker: is required/],
    [{ c: { healthChecker: {} } }, /clusters\[c\]\.healthChecker\.kind: is not set, or is a kind this node does not know/],
    [{ c: { ...tcp, checkPort: 70_000 } }, /clusters\[c\]: checkPort must be an integer in \[0, 65535\], current: 70000/],
    [{ c: http({ path: "/a b" }) }, /clusters\[c\]: health checker path must be/],
    [{ c: http({ headers: "X:1\r\nY:2" }) }, /clusters\[c\]: health checker header/],
    [{ c: http({ expectedResponseCode: 0 }) }, /clusters\[c\]: health checker expectedResponseCode must be an HTTP status/],
  ];
  for (const [clusters, message] of cases) {
    assert.throws(
      () => decodeDatums(readSyncRequest(withClusters(clusters)).datums, "datums"),
      (err: unknown) => err instanceof InvalidMessageError && message.test(err.message),
      String(message),
    );
  }
});
