/** Domain objects for tests: one builder each, so every test describes only what matters to it. */
import { simpleInstanceId, type Instance } from "../../src/core/instance.js";
import type { InstanceSpec } from "../../src/core/ops.js";

/** A healthy, enabled, ephemeral instance of `groupedName` in cluster DEFAULT (unless overridden). */
export function testInstance(ip: string, port: number, groupedName = "DEFAULT_GROUP@@orders", overrides: Partial<Instance> = {}): Instance {
  const clusterName = overrides.clusterName ?? "DEFAULT";
  return {
    instanceId: simpleInstanceId(ip, port, clusterName, groupedName),
    ip,
    port,
    weight: 1,
    healthy: true,
    enabled: true,
    ephemeral: true,
    clusterName,
    serviceName: groupedName,
    metadata: {},
    app: "DEFAULT",
    marked: false,
    ...overrides,
  };
}

/** What a client registers: the same defaults as a register request without optional parameters. */
export function testSpec(ip: string, port = 8080, overrides: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    ip,
    port,
    clusterName: "DEFAULT",
    weight: 1,
    healthy: true,
    enabled: true,
    ephemeral: true,
    metadata: {},
    app: "DEFAULT",
    ...overrides,
  };
}
