/** MD5 checksums in the forms Nacos 1.4 computes them (lowercase hex over UTF-8). */
import { createHash } from "node:crypto";
import type { Instance } from "./instance.js";
import { RevisionCache } from "./revision-cache.js";
import type { ServiceDatum } from "./service-datum.js";
import type { ServiceState } from "./service-record.js";

export const md5Hex = (text: string): string => createHash("md5").update(text, "utf8").digest("hex");

/**
 * Java's `Double.toString` for the weights Nacos prints: the shortest digits that identify the value (as
 * JavaScript's), written plainly with at least one decimal (`1.0`, `0.001`) from 10^-3 up to 10^7 and as
 * `1.0E-4` / `1.5E7` outside it.
 */
export function javaDouble(n: number): string {
  const abs = Math.abs(n);
  if (abs === 0 || (abs >= 1e-3 && abs < 1e7)) return Number.isInteger(n) ? `${n}.0` : String(n);
  const [mantissa, exponent] = n.toExponential().split("e") as [string, string];
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${exponent.replace("+", "")}`;
}

/** 1.4's `Instance.getDatumKey`: `ip:port:unknown:cluster`, without the port when it is 0. */
const datumKeyOf = (i: Instance): string =>
  i.port > 0 ? `${i.ip}:${i.port}:unknown:${i.clusterName}` : `${i.ip}:unknown:${i.clusterName}`;

/** 1.4's `Instance.compareTo` order: by its `toString`, `datumKey_weight_healthy_marked_cluster`. */
export function sortedForChecksum(instances: readonly Instance[]): Instance[] {
  const keyed = instances.map((i) => ({ i, key: `${datumKeyOf(i)}_${javaDouble(i.weight)}_${i.healthy}_${i.marked}_${i.clusterName}` }));
  return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ i }) => i);
}

/**
 * The service checksum returned by `instance/list`: the grouped name followed by 1.4's per-instance string
 * `ip:port_weight_healthy_cluster,` in 1.4 order. Clients treat it as opaque; it changes whenever any listed
 * field does.
 */
export function serviceChecksum(groupedName: string, instances: readonly Instance[]): string {
  let text = groupedName;
  for (const i of sortedForChecksum(instances)) {
    text += `${i.ip}:${i.port}_${javaDouble(i.weight)}_${i.healthy}_${i.clusterName},`;
  }
  return md5Hex(text);
}

/** 1.4's `Instances.getChecksum`, the Distro datum checksum a 1.4 peer compares during verify. */
export function datumChecksum(instances: readonly Instance[]): string {
  let text = "";
  for (const i of sortedForChecksum(instances)) {
    const meta = Object.keys(i.metadata)
      .sort()
      .map((k) => `${k}:${i.metadata[k]},`)
      .join("");
    text += `${i.ip}:${i.port}_${javaDouble(i.weight)}_${i.healthy}_${i.enabled}_${i.clusterName}_${meta},`;
  }
  return md5Hex(text);
}

/** What a Nacos 1.4 node holds of a datum: its live ephemeral instances (a deleted service lists none). */
export const nacos14Instances = (d: ServiceDatum): Instance[] => (d.deleted ? [] : d.instances.filter((i) => i.ephemeral));

const nacos14Checksums = new RevisionCache<string>();
const listChecksums = new RevisionCache<string>();

/** 1.4's datum checksum of what a 1.4 node holds of this service, computed once per change, not per peer and period. */
export function nacos14Checksum(service: ServiceState): string {
  return nacos14Checksums.get(service, () => datumChecksum(service.deleted ? [] : [...service.instances()].filter((i) => i.ephemeral)));
}

/** `serviceChecksum` of a service held here, computed once per change. */
export function serviceChecksumOf(service: ServiceState, groupedName: string): string {
  return listChecksums.get(service, () => serviceChecksum(groupedName, [...service.instances()]));
}
