/**
 * `wire-bytes` (in-process): the bytes that replicate one change of one instance — a health flip in a service
 * of 10, and of 100, instances — as a ts-nacos member sends it (the delta in a SyncRequest on the Pipe) vs as
 * Nacos 1.4 sends the same change (the service's whole datum map as JSON, PUT /v1/ns/distro/datum).
 */
import { identityOf } from "../../src/core/instance.js";
import { Registry } from "../../src/core/registry.js";
import { makeDelta } from "../../src/core/service-datum.js";
import { writeSyncRequest } from "../../src/transport/grpc/codecs/datum-writer.js";
import { encodeDatumMap } from "../../src/transport/nacos14/codecs/datum.js";
import { row, type Figure, type Row } from "../lib/figure.js";
import { instanceAddress } from "../lib/http.js";

/** The envelope a Pipe adds around a SyncRequest: id, field tag, length (generous). */
const PIPE_ENVELOPE = 12;

function change(instances: number): { ours: number; nacos14: number } {
  const registry = new Registry("127.0.0.1:8848", () => 1_700_000_000_000);
  const key = "public##DEFAULT_GROUP@@orders";
  const put = Array.from({ length: instances }, (_, n) => {
    const { ip } = instanceAddress(n);
    return {
      instanceId: `${ip}#8080#DEFAULT#DEFAULT_GROUP@@orders`,
      ip,
      port: 8080,
      weight: 1,
      healthy: true,
      enabled: true,
      ephemeral: true,
      clusterName: "DEFAULT",
      serviceName: "DEFAULT_GROUP@@orders",
      metadata: { version: "1.0.0", zone: `zone-${n % 3}` },
      app: "DEFAULT",
      marked: false,
    };
  });
  registry.update(key, { put });
  const flipped = { ...put[0]!, healthy: false };
  registry.update(key, { put: [flipped] });
  const service = registry.service(key)!;
  const delta = makeDelta(key, service.deleted, service.meta, service.metaVersion, [service.entry(identityOf(flipped))!]);
  const ours = writeSyncRequest([delta]).length + PIPE_ENVELOPE;
  const nacos14 = Buffer.byteLength(JSON.stringify(encodeDatumMap([service.snapshot()], 1_700_000_000_000)));
  return { ours, nacos14 };
}

export const figure: Figure = {
  name: "wire-bytes",
  title: "bytes per replicated change: ts-nacos delta vs the same change as Nacos 1.4 JSON",
  inProcess: true,
  async run() {
    const rows: Row[] = [];
    const raw: Record<string, unknown> = {};
    for (const instances of [10, 100]) {
      const c = change(instances);
      raw[`service of ${instances}`] = c;
      rows.push(
        row(
          `health flip, service of ${instances}`,
          c.ours,
          c.nacos14,
          "B",
          "≤ 0.4×",
          "delta in a SyncRequest on the Pipe vs 1.4's whole-service datum map",
        ),
      );
    }
    return { rows, raw };
  },
};
