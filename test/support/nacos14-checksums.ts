/**
 * Distro datum checksums (`Instances.getChecksum`, what 1.4's verify compares) as a real Nacos 1.4 computes
 * them, for instance lists chosen to reach every corner of the computation: the sort by `Instance.toString`
 * (`192.0.2.10` before `192.0.2.9`, cluster `c-1` before `c`, a port-0 instance whose datum key has no port),
 * weights as Java's `Double.toString` prints them (`10000.0`, `0.001`, `1.0E-4`, `0.0`), health, enabled,
 * `marked`, and metadata sorted by key with non-ASCII values (UTF-8 into MD5).
 *
 * Printed by a JVM (OpenJDK 17.0.15), not by our code: a standalone program whose checksum logic is copied
 * from alibaba/nacos tag 1.4.6 (naming/core/Instances.java `recalculateChecksum` and `convertMap2String`,
 * naming/core/Instance.java `getDatumKey`, `toString` and `compareTo`, common/utils/MD5Utils.java `md5Hex`,
 * `UtilsAndCommons.LOCALHOST_SITE` = "unknown", `Constants.ENCODE` = "UTF-8"), building each list below with
 * `new Instance(ip, port, weight, healthy, enabled, clusterName, marked, metadata...)` and printing
 * `recalculateChecksum(list)`; `javac Nacos14Checksums.java && java Nacos14Checksums` printed:
 *
 *   empty d41d8cd98f00b204e9800998ecf8427e
 *   orders eb62a0b731ae793b90789e0677e5b814
 *   payments 93d1c3e446f424b231750f0c22ad1a81
 *   edges 77ab22638db2843473dce434b1c0d11d
 *
 * (`edges` hashes `192.0.2.10:443_0.001_false_false_DEFAULT_,192.0.2.10:444_1.0E-4_true_true_DEFAULT_,…,
 * 203.0.113.5:8080_1.0_true_true_DEFAULT_,203.0.113.5:0_3.0_true_true_DEFAULT_Z:é,a:1,zone:cn-北京,,`.)
 * A 1.4 datum holds the service's ephemeral instances only: the persistent ones below are not in the lists
 * the JVM hashed, so they must not change the checksum either.
 */
import type { Instance } from "../../src/core/instance.js";
import { testInstance } from "./fixtures.js";

export interface PinnedChecksum {
  /** The service's name in the JVM's output (any grouped name may carry the list: the name is not hashed). */
  readonly name: string;
  readonly checksum: string;
  /** The instances, for a service named `groupedName`. */
  instances(groupedName: string): Instance[];
}

type Fields = Pick<Instance, "weight" | "healthy" | "enabled" | "clusterName" | "marked" | "metadata">;

const at =
  (ip: string, port: number, fields: Partial<Fields & Pick<Instance, "ephemeral">> = {}) =>
  (groupedName: string) =>
    testInstance(ip, port, groupedName, fields);

const list =
  (...builders: Array<(groupedName: string) => Instance>) =>
  (groupedName: string): Instance[] =>
    builders.map((b) => b(groupedName));

export const PINNED_CHECKSUMS: readonly PinnedChecksum[] = [
  {
    name: "empty",
    checksum: "d41d8cd98f00b204e9800998ecf8427e",
    instances: list(at("192.0.2.60", 3306, { ephemeral: false })),
  },
  {
    name: "orders",
    checksum: "eb62a0b731ae793b90789e0677e5b814",
    instances: list(
      at("192.0.2.10", 8080, { metadata: { zone: "a" } }),
      at("192.0.2.11", 8081, { weight: 2.5, healthy: false, clusterName: "c1" }),
    ),
  },
  {
    name: "payments",
    checksum: "93d1c3e446f424b231750f0c22ad1a81",
    instances: list(
      at("198.51.100.7", 9090, { metadata: { "preserved.heart.beat.interval": "3000", version: "2" } }),
      at("198.51.100.8", 9090, { ephemeral: false }),
    ),
  },
  {
    name: "edges",
    checksum: "77ab22638db2843473dce434b1c0d11d",
    instances: list(
      at("192.0.2.9", 80, { weight: 0.5 }),
      at("192.0.2.10", 80, { weight: 10000 }),
      at("192.0.2.9", 80, { clusterName: "c-1" }),
      at("192.0.2.9", 80, { clusterName: "c" }),
      at("192.0.2.10", 443, { weight: 0.001, healthy: false, enabled: false }),
      at("192.0.2.10", 444, { weight: 0.0001, marked: true }),
      at("192.0.2.10", 445, { weight: 0 }),
      at("203.0.113.5", 0, { weight: 3, metadata: { zone: "cn-北京", a: "1", Z: "é" } }),
      at("203.0.113.5", 8080),
    ),
  },
];
