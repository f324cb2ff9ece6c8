/**
 * Domain values covering every shape the gRPC peer contract carries, a PeerHandler that records what it was
 * asked, and helpers to run a GrpcPeerServer and GrpcPeerTransport against each other on loopback.
 */
import { testInstance } from "../../support/fixtures.js";
import type { MemberInfo } from "../../../src/node/cluster/member.js";
import type { ClusterMap } from "../../../src/core/cluster-settings.js";
import { identityOf, type Instance } from "../../../src/core/instance.js";
import type { ClientWrite } from "../../../src/core/ops.js";
import { makeDatum, type ServiceDatum } from "../../../src/core/service-datum.js";
import { GrpcPeerServer, type GrpcPeerServerOptions } from "../../../src/transport/grpc/server.js";
import { GrpcPeerTransport, type GrpcPeerTransportOptions } from "../../../src/transport/grpc/client.js";
import { DEFAULTS } from "../../../src/runtime/options.js";
import {
  SYNC_ACCEPTED,
  type ForwardOutcome,
  type PeerHandler,
  type SnapshotChunk,
  type SyncOutcome,
  type VerifyDetail,
  type VerifyDigest,
  type VerifyReply,
  type VerifySummary,
} from "../../../src/node/ports.js";

export const SELF = "127.0.0.1:8848";
export const PEER = "127.0.0.1:8850";
export const SECRET = "s3cret";

export const instance = (ip: string, port: number, overrides: Partial<Instance> = {}): Instance =>
  testInstance(ip, port, "DEFAULT_GROUP@@orders", overrides);

const live = (i: Instance, counter: number, writer = SELF) => ({ id: identityOf(i), version: { counter, writer }, instance: i });

/** Every kind of cluster settings. */
export const CLUSTERS: ClusterMap = {
  DEFAULT: { healthChecker: { type: "TCP" }, checkPort: 80, useInstancePort4Check: true, metadata: {} },
  "EU-1": {
    healthChecker: { type: "HTTP", path: "/health?full=1", headers: "X-Probe:nacos|Authorization:Basic a:b", expectedResponseCode: 204 },
    checkPort: 8081,
    useInstancePort4Check: false,
    metadata: { owner: "ops" },
  },
  manual: { healthChecker: { type: "NONE" }, checkPort: 0, useInstancePort4Check: false, metadata: {} },
};

/**
 * A live service with metadata, a label selector, cluster settings, a persistent instance, an instance a 2.x client
 * registered over its connection and a tombstone.
 */
export const ORDERS: ServiceDatum = makeDatum(
  "public##DEFAULT_GROUP@@orders",
  false,
  {
    protectThreshold: 0.5,
    metadata: { team: "checkout", "zone.a": "1" },
    selector: { type: "label", expression: "CONSUMER.label.a = PROVIDER.label.a" },
    clusters: CLUSTERS,
  },
  { counter: 1_700_000_000_000, writer: SELF },
  [
    live(
      instance("192.0.2.1", 8080, { weight: 2.5, metadata: { version: "v1", "preserved.heart.beat.timeout": "20000" } }),
      1_700_000_000_001,
    ),
    live(
      instance("192.0.2.2", 0, {
        healthy: false,
        enabled: false,
        ephemeral: false,
        clusterName: "EU-1",
        marked: true,
        app: "shop",
        weight: 10_000,
      }),
      1_700_000_000_002,
      PEER,
    ),
    live(
      instance("192.0.2.4", 7000, { connection: { node: PEER, connectionId: "1700000000000_192.0.2.4_50123" } }),
      1_700_000_000_003,
      PEER,
    ),
    { id: "192.0.2.3:9090:unknown:DEFAULT:ephemeral", version: { counter: Number.MAX_SAFE_INTEGER, writer: PEER }, instance: undefined },
  ],
);

/** A deleted service: only its tombstones and meta remain. */
export const DELETED: ServiceDatum = makeDatum(
  "dev##G@@gone",
  true,
  { protectThreshold: -1, metadata: {}, selector: { type: "none" }, clusters: {} },
  { counter: 5, writer: PEER },
  [{ id: "192.0.2.9:1:unknown:DEFAULT:persist", version: { counter: 4, writer: SELF }, instance: undefined }],
);

/** The zero datum: zero version, empty writer, nothing in it. */
export const EMPTY: ServiceDatum = makeDatum(
  "public##DEFAULT_GROUP@@empty",
  false,
  { protectThreshold: 0, metadata: {}, selector: { type: "none" }, clusters: {} },
  { counter: 0, writer: "" },
  [],
);

export const DATUMS: readonly ServiceDatum[] = [ORDERS, DELETED, EMPTY];

const service = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@orders" };
const address = { ip: "192.0.2.1", port: 8080, clusterName: "DEFAULT" };
const spec = {
  ip: "192.0.2.1",
  port: 8080,
  clusterName: "DEFAULT",
  weight: 0.5,
  healthy: true,
  enabled: false,
  ephemeral: true,
  metadata: { k: "v" },
  app: "shop",
};

/** One of every ClientWrite variant (and of every optional shape inside them). */
export const WRITES: readonly ClientWrite[] = [
  { type: "register", service, instance: spec },
  { type: "update", service, instance: { ...spec, ephemeral: false, metadata: {} }, mustExist: true },
  { type: "update", service, instance: spec, mustExist: false },
  { type: "patch", service, address, patch: { metadata: { a: "b" }, app: "x", weight: 3, healthy: false, enabled: true } },
  { type: "patch", service, address, patch: {} },
  { type: "patch", service, address, patch: { metadata: {} } },
  { type: "deregister", service, address, ephemeral: false },
  { type: "beat", service, address, beat: undefined },
  { type: "beat", service, address, beat: { ...address, weight: 1, ephemeral: true, metadata: { m: "1" } } },
  { type: "setHealth", service, address, healthy: false },
  {
    type: "updateMetadata",
    service,
    remove: false,
    metadata: { a: "1" },
    targets: [
      { ...address, ephemeral: true },
      { ip: "192.0.2.2", port: 0, clusterName: "EU-1", ephemeral: false },
    ],
  },
  { type: "updateMetadata", service, remove: true, metadata: { a: "" }, targets: [] },
  { type: "updateMetadata", service, remove: false, metadata: {}, targets: "ephemeral" },
  { type: "updateMetadata", service, remove: true, metadata: { z: "9" }, targets: "persist" },
  { type: "createService", service, spec: { protectThreshold: 0.3, metadata: { o: "p" }, selector: { type: "label", expression: "x" } } },
  { type: "updateService", service, spec: { protectThreshold: -0.5, metadata: {}, selector: { type: "none" } } },
  { type: "deleteService", service: { namespaceId: "dev", groupedName: "G@@gone" } },
  ...Object.entries(CLUSTERS).map(([clusterName, settings]): ClientWrite => ({ type: "updateCluster", service, clusterName, settings })),
];

/** One of every ForwardOutcome shape. */
export const OUTCOMES: readonly ForwardOutcome[] = [
  { ok: true, result: { type: "ok" } },
  { ok: true, result: { type: "beat", code: 10200, clientBeatInterval: 5000, lightBeatEnabled: true } },
  { ok: true, result: { type: "beat", code: 10200, clientBeatInterval: 5000, lightBeatEnabled: false } },
  { ok: true, result: { type: "beat", code: 20404, clientBeatInterval: 5000 } },
  { ok: true, result: { type: "updated", updated: ["192.0.2.1:8080:unknown:DEFAULT:ephemeral"] } },
  { ok: true, result: { type: "updated", updated: [] } },
  { ok: false, status: 400, message: "instance format invalid" },
  { ok: false, status: 404, message: "service not found: orders@public" },
];

export const SELF_INFO: MemberInfo = {
  address: SELF,
  version: "0.1.0",
  grpcPort: 9849,
  abilities: { grpcPeer: true, httpPeer: false },
  ready: false,
  viewHash: "abc123",
  clock: 1_700_000_000_000,
  confirmedThrough: 1_699_999_990_000,
  connectionCount: 3,
  switches: { version: { counter: 1_699_999_000_000, writer: SELF }, updates: { clientBeatInterval: "7000", pushEnabled: "false" } },
  tables: [
    { table: "namespaces", key: "dev", value: '{"name":"Dev"}', version: { counter: 1_699_999_000_001, writer: SELF } },
    { table: "namespaces", key: "old", value: undefined, version: { counter: 1_699_999_000_002, writer: PEER } },
  ],
};

export const PEER_INFO: MemberInfo = {
  address: PEER,
  version: "0.1.0",
  grpcPort: 9851,
  abilities: { grpcPeer: true, httpPeer: true },
  ready: true,
  viewHash: "def456",
  clock: 1_700_000_000_123,
  confirmedThrough: 0,
};

export const SUMMARY: VerifySummary = {
  kind: "summary",
  source: SELF,
  viewHash: "abc123",
  purgeHorizon: -600_000,
  bucketCount: 4,
  bucketHashes: ["0000000000000000", "1111111111111111", "2222222222222222", "3333333333333333"],
};

export const DETAIL: VerifyDetail = {
  kind: "detail",
  source: SELF,
  viewHash: "abc123",
  purgeHorizon: 1_700_000_000_000,
  bucketCount: 4,
  buckets: [1, 3],
  entries: [
    { key: ORDERS.key, digest: ORDERS.digest },
    { key: EMPTY.key, digest: EMPTY.digest },
  ],
};

export type Call =
  | { readonly method: "onSync"; readonly source: string; readonly datums: readonly ServiceDatum[] }
  | { readonly method: "onVerify"; readonly digest: VerifyDigest }
  | { readonly method: "onQuery"; readonly keys: readonly string[] }
  | { readonly method: "onSnapshot"; readonly resumeAfter: string }
  | { readonly method: "onReport"; readonly reporter: MemberInfo }
  | { readonly method: "onForward"; readonly write: ClientWrite };

/** The message limit loopback servers and transports get unless a test sets its own: the CLI default, 4 MiB. */
export const LIMITS = { maxMessageBytes: DEFAULTS.maxMessageBytes };

/** A member directory where every peer's gRPC server is at `target()`. */
export const directoryAt = (target: () => string) => ({ grpcAddressOf: target });

/** A PeerHandler that records every call; tests set what it answers. */
export class RecordingHandler implements PeerHandler {
  readonly calls: Call[] = [];
  members = new Set([SELF, PEER]);
  verifyReply: VerifyReply = { mismatchedBuckets: [0, 2] };
  queryAnswer: ServiceDatum[] = [...DATUMS];
  reportAnswer: MemberInfo = PEER_INFO;
  forwardAnswer: (write: ClientWrite) => Promise<ForwardOutcome> = async () => ({ ok: true, result: { type: "ok" } });
  snapshotChunks: (resumeAfter: string) => AsyncIterable<SnapshotChunk> = async function* () {};
  syncFails: Error | undefined;

  syncOutcome: SyncOutcome = SYNC_ACCEPTED;

  onSync(source: string, datums: readonly ServiceDatum[]): SyncOutcome {
    this.calls.push({ method: "onSync", source, datums });
    if (this.syncFails !== undefined) throw this.syncFails;
    return this.syncOutcome;
  }

  onVerify(digest: VerifyDigest): VerifyReply {
    this.calls.push({ method: "onVerify", digest });
    return this.verifyReply;
  }

  onQuery(keys: readonly string[]): ServiceDatum[] {
    this.calls.push({ method: "onQuery", keys });
    return this.queryAnswer.filter((d) => keys.includes(d.key));
  }

  onSnapshot(resumeAfter: string): AsyncIterable<SnapshotChunk> {
    this.calls.push({ method: "onSnapshot", resumeAfter });
    return this.snapshotChunks(resumeAfter);
  }

  onReport(reporter: MemberInfo): MemberInfo {
    this.calls.push({ method: "onReport", reporter });
    return this.reportAnswer;
  }

  onForward(write: ClientWrite): Promise<ForwardOutcome> {
    this.calls.push({ method: "onForward", write });
    return this.forwardAnswer(write);
  }

  isMember(address: string): boolean {
    return this.members.has(address);
  }
}

export interface Loopback {
  readonly handler: RecordingHandler;
  readonly server: GrpcPeerServer;
  readonly transport: GrpcPeerTransport;
  /** `host:port` of the server. */
  readonly target: string;
  close(): Promise<void>;
}

/** A server on 127.0.0.1 (ephemeral port) and a transport from SELF whose every peer address resolves to it. */
export async function loopback(
  server: Partial<GrpcPeerServerOptions> = {},
  transport: Partial<GrpcPeerTransportOptions> = {},
  handler = new RecordingHandler(),
): Promise<Loopback> {
  const peerServer = await GrpcPeerServer.start(handler, { host: "127.0.0.1", port: 0, connection: LIMITS, ...server });
  const target = `127.0.0.1:${peerServer.port}`;
  const peerTransport = new GrpcPeerTransport({ self: SELF, directory: directoryAt(() => target), connection: LIMITS, ...transport });
  return {
    handler,
    server: peerServer,
    transport: peerTransport,
    target,
    async close() {
      peerTransport.close();
      await peerServer.close(200);
    },
  };
}

export async function rejectsWith(promise: Promise<unknown>, check: (err: unknown) => boolean, what: string): Promise<void> {
  try {
    await promise;
  } catch (err) {
    if (check(err)) return;
    throw new Error(`${what}: unexpected error ${String(err)}`, { cause: err });
  }
  throw new Error(`${what}: resolved, expected a rejection`);
}
