/** Domain objects for tests: one builder each, so every test describes only what matters to it. */
import { identityOf, simpleInstanceId, type Instance } from "../../src/core/instance.js";
import { DEFAULT_SERVICE_META, makeDatum, type ServiceDatum } from "../../src/core/service-datum.js";
import type { Version } from "../../src/core/version.js";
import type { InstanceSpec } from "../../src/core/ops.js";
import type { ClientConnectionInfo } from "../../src/node/clients/client-connections.js";
import type { MemberInfo } from "../../src/node/cluster/member.js";
import type { MembershipConfig } from "../../src/node/cluster/member-manager.js";
import type { PeerTransport } from "../../src/node/ports.js";

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

/** A PeerTransport whose every call fails with "unused" except those the test gives. */
export function stubTransport(calls: Partial<PeerTransport>): PeerTransport {
  const unused = (): Promise<never> => Promise.reject(new Error("unused"));
  return {
    sync: unused,
    verify: unused,
    query: unused,
    report: unused,
    forward: unused,
    snapshot: () => {
      throw new Error("unused");
    },
    ...calls,
  };
}

/** A live datum holding `instances`, every entry at `version`. */
export function testDatum(
  key: string,
  instances: readonly Instance[],
  version: Version = { counter: 5, writer: "127.0.0.1:8848" },
): ServiceDatum {
  const entries = instances.map((i) => ({ id: identityOf(i), version, instance: i }));
  return makeDatum(key, false, DEFAULT_SERVICE_META, version, entries);
}

/** A 2.x client connection as the transport opens it: a Rust client on loopback (unless overridden). */
export function testConnection(id: string, connectedAt: number, overrides: Partial<ClientConnectionInfo> = {}): ClientConnectionInfo {
  return {
    id,
    clientIp: "127.0.0.1",
    clientPort: 50001,
    clientVersion: "Nacos-Rust-Client:v0.4.0",
    namespace: "",
    appName: "shop",
    labels: {},
    connectedAt,
    ...overrides,
  };
}

/** A ready member's self-description speaking both peer protocols. */
export function testMemberInfo(address: string, overrides: Partial<MemberInfo> = {}): MemberInfo {
  return {
    address,
    version: "x",
    grpcPort: 9849,
    abilities: { grpcPeer: true, httpPeer: true },
    ready: true,
    viewHash: "",
    clock: undefined,
    confirmedThrough: undefined,
    ...overrides,
  };
}

/** Membership at Nacos's timings (2 s reports, DOWN after 3 more failures or 8 s). */
export const TEST_MEMBERSHIP: MembershipConfig = {
  reportIntervalMs: 2000,
  failThreshold: 3,
  suspicionTimeoutMs: 8000,
  maxClockSkewMs: 60_000,
};
