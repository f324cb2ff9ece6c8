import { testInstance } from "../../support/fixtures.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { ServiceDatumSchema } from "../../../gen/nacos/cluster/v1/datum_pb.js";
import { identityOf, type Instance } from "../../../src/core/instance.js";
import { DEFAULT_SERVICE_META, makeDatum, type InstanceEntry } from "../../../src/core/service-datum.js";
import type { ClusterMap } from "../../../src/core/cluster-settings.js";
import { estimateBytes } from "../../../src/core/datum-size.js";
import { encodeDatum } from "../../../src/transport/grpc/codecs/datum.js";
import { CLUSTERS } from "./fixtures.js";

/** Every fourth is a 2.x client's, bound to its connection (node names and ids up to the longest allowed). */
const instance = (n: number, metadata: Record<string, string>): Instance =>
  testInstance(`198.51.100.${n % 250}`, 8000 + n, "DEFAULT_GROUP@@budget", {
    weight: 1.5,
    healthy: n % 3 !== 0,
    ephemeral: n % 2 === 0,
    metadata,
    ...(n % 4 === 0
      ? { connection: { node: `${"n".repeat(240)}${n}.example:8848`, connectionId: `${n}_`.padEnd(n % 8 === 0 ? 128 : 30, "c") } }
      : {}),
  });

function datum(metadata: Record<string, string>, tombstones: number, clusters: ClusterMap = {}) {
  const writer = "127.0.0.1:8848";
  const entries: InstanceEntry[] = [];
  for (let n = 0; n < 200; n++) {
    const i = instance(n, metadata);
    entries.push({ id: identityOf(i), version: { counter: 1_700_000_000_000 + n, writer }, instance: n < tombstones ? undefined : i });
  }
  return makeDatum(
    "public##DEFAULT_GROUP@@budget",
    false,
    { ...DEFAULT_SERVICE_META, metadata, clusters },
    { counter: 1, writer },
    entries,
  );
}

/** Only 2.x clients' instances, each naming its node and connection at the longest a binding may. */
function allBound() {
  const writer = "127.0.0.1:8848";
  const entries: InstanceEntry[] = [];
  for (let n = 0; n < 200; n++) {
    const connection = { node: `${"n".repeat(250)}.ex:8848`.slice(-262), connectionId: `${n}_`.padEnd(128, "c") };
    const i = testInstance("192.0.2.1", n, "G@@b", { connection, instanceId: "" });
    entries.push({ id: identityOf(i), version: { counter: 1, writer }, instance: i });
  }
  return makeDatum("p##G@@b", false, DEFAULT_SERVICE_META, { counter: 1, writer }, entries);
}

test("the snapshot size estimate never falls below the real protobuf encoding", () => {
  const cases = [
    datum({}, 0),
    datum({ zone: "cn-hangzhou-a", version: "1.2.3" }, 0),
    datum({ 区域: "华东一区", 服务: "订单服务" }, 0),
    datum({}, 200),
    datum({ k: "v" }, 77),
    datum({}, 200, CLUSTERS),
    allBound(),
  ];
  for (const d of cases) {
    const real = toBinary(ServiceDatumSchema, create(ServiceDatumSchema, encodeDatum(d))).length;
    const estimate = estimateBytes(d);
    assert.ok(estimate >= real, `estimate ${estimate} >= encoded ${real}`);
    assert.ok(estimate <= real * 2, `estimate ${estimate} stays within 2x of ${real}`);
  }
});
