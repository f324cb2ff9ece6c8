/**
 * Every peer RPC as a client we did not write sees it: the request in protobuf JSON (hand-written, not made
 * by our encoder), what the handler must receive as domain values, and the responses expected back, also in
 * protobuf JSON. Each interop test sends these through its own client and compares.
 */
import assert from "node:assert/strict";
import { equals, fromJson, type DescMessage, type JsonObject } from "@bufbuild/protobuf";
import { makeDatum, type ServiceDatum } from "../../src/core/service-datum.js";
import type { MemberInfo } from "../../src/node/cluster/member.js";
import { DistroService } from "../../gen/nacos/cluster/v1/distro_pb.js";
import { MemberService } from "../../gen/nacos/cluster/v1/member_pb.js";
import { PEER, PEER_INFO, SECRET, SELF, loopback, type Call, type Loopback } from "../transport/grpc/fixtures.js";

const KEY = "public##DEFAULT_GROUP@@interop";
const LIVE_ID = "192.0.2.7:8080:unknown:DEFAULT:ephemeral";
const GONE_ID = "192.0.2.8:8080:unknown:DEFAULT:ephemeral";

const DATUM_JSON = {
  key: KEY,
  meta: { protectThreshold: 0.25, metadata: { team: "a" }, selector: { label: { expression: "x = y" } } },
  metaVersion: { counter: "1700000000000", writer: SELF },
  entries: [
    {
      id: LIVE_ID,
      version: { counter: "1700000000001", writer: SELF },
      instance: {
        instanceId: "192.0.2.7#8080#DEFAULT#DEFAULT_GROUP@@interop",
        ip: "192.0.2.7",
        port: 8080,
        weight: 1.5,
        healthy: true,
        enabled: true,
        ephemeral: true,
        clusterName: "DEFAULT",
        serviceName: "DEFAULT_GROUP@@interop",
        metadata: { v: "1" },
        app: "shop",
      },
    },
    { id: GONE_ID, version: { counter: "1700000000002", writer: PEER } },
  ],
};

const DATUM: ServiceDatum = makeDatum(
  KEY,
  false,
  { protectThreshold: 0.25, metadata: { team: "a" }, selector: { type: "label", expression: "x = y" }, clusters: {} },
  { counter: 1_700_000_000_000, writer: SELF },
  [
    {
      id: LIVE_ID,
      version: { counter: 1_700_000_000_001, writer: SELF },
      instance: {
        instanceId: "192.0.2.7#8080#DEFAULT#DEFAULT_GROUP@@interop",
        ip: "192.0.2.7",
        port: 8080,
        weight: 1.5,
        healthy: true,
        enabled: true,
        ephemeral: true,
        clusterName: "DEFAULT",
        serviceName: "DEFAULT_GROUP@@interop",
        metadata: { v: "1" },
        app: "shop",
        marked: false,
      },
    },
    { id: GONE_ID, version: { counter: 1_700_000_000_002, writer: PEER }, instance: undefined },
  ],
);

const SELF_JSON = {
  address: SELF,
  version: "0.1.0",
  grpcPort: 9849,
  abilities: { grpcPeer: true },
  viewHash: "v1",
};
const SELF_MEMBER: MemberInfo = {
  address: SELF,
  version: "0.1.0",
  grpcPort: 9849,
  abilities: { grpcPeer: true, httpPeer: false },
  ready: false,
  viewHash: "v1",
  clock: 0,
  confirmedThrough: 0,
};

export interface RpcCase {
  readonly service: "nacos.cluster.v1.DistroService" | "nacos.cluster.v1.MemberService";
  readonly method: string;
  readonly request: JsonObject;
  /** What the handler must be called with. */
  readonly call: Call;
  /** Every response message, in order. */
  readonly responses: readonly JsonObject[];
}

export const RPC_CASES: readonly RpcCase[] = [
  {
    service: "nacos.cluster.v1.DistroService",
    method: "Sync",
    request: { datums: [DATUM_JSON] },
    call: { method: "onSync", source: SELF, datums: [DATUM] },
    responses: [{}],
  },
  {
    service: "nacos.cluster.v1.DistroService",
    method: "Verify",
    request: { viewHash: "v1", purgeHorizon: "-5", bucketCount: 2, summary: { bucketHashes: ["aa", "bb"] } },
    call: {
      method: "onVerify",
      digest: { kind: "summary", source: SELF, viewHash: "v1", purgeHorizon: -5, bucketCount: 2, bucketHashes: ["aa", "bb"] },
    },
    responses: [{ mismatchedBuckets: [0, 2] }],
  },
  {
    service: "nacos.cluster.v1.DistroService",
    method: "Verify",
    request: { viewHash: "v1", purgeHorizon: "7", bucketCount: 2, detail: { buckets: [1], entries: [{ key: KEY, digest: "d" }] } },
    call: {
      method: "onVerify",
      digest: {
        kind: "detail",
        source: SELF,
        viewHash: "v1",
        purgeHorizon: 7,
        bucketCount: 2,
        buckets: [1],
        entries: [{ key: KEY, digest: "d" }],
      },
    },
    responses: [{ mismatchedBuckets: [0, 2] }],
  },
  {
    service: "nacos.cluster.v1.DistroService",
    method: "Query",
    request: { keys: [KEY, "public##G@@missing"] },
    call: { method: "onQuery", keys: [KEY, "public##G@@missing"] },
    responses: [{ datums: [DATUM_JSON] }],
  },
  {
    service: "nacos.cluster.v1.DistroService",
    method: "Snapshot",
    request: { resumeAfter: "public##A@@before" },
    call: { method: "onSnapshot", resumeAfter: "public##A@@before" },
    responses: [
      { datums: [DATUM_JSON], totalKeys: "1", totalInstances: "1", resumeToken: KEY },
      { totalKeys: "1", totalInstances: "1", resumeToken: KEY },
    ],
  },
  {
    service: "nacos.cluster.v1.DistroService",
    method: "Forward",
    request: {
      write: {
        service: { namespaceId: "public", groupedName: "DEFAULT_GROUP@@interop" },
        updateMetadata: { metadata: { k: "v" }, allOfKind: "INSTANCE_KIND_PERSISTENT" },
      },
    },
    call: {
      method: "onForward",
      write: {
        type: "updateMetadata",
        service: { namespaceId: "public", groupedName: "DEFAULT_GROUP@@interop" },
        remove: false,
        metadata: { k: "v" },
        targets: "persist",
      },
    },
    responses: [{ result: { beat: { code: 10200, clientBeatInterval: "5000", lightBeatEnabled: true } } }],
  },
  {
    service: "nacos.cluster.v1.MemberService",
    method: "Report",
    request: { member: SELF_JSON },
    call: { method: "onReport", reporter: SELF_MEMBER },
    responses: [
      {
        member: {
          address: PEER_INFO.address,
          version: PEER_INFO.version,
          grpcPort: PEER_INFO.grpcPort,
          abilities: { grpcPeer: true, httpPeer: true },
          ready: true,
          viewHash: PEER_INFO.viewHash,
          // int64 travels as a string in JSON; a zero confirmed-through is the default and omitted.
          clockMillis: String(PEER_INFO.clock),
        },
      },
    ],
  },
];

/** A forward the server must refuse as INVALID_ARGUMENT (port out of range). */
export const INVALID_FORWARD: JsonObject = {
  write: {
    service: { namespaceId: "public", groupedName: "DEFAULT_GROUP@@interop" },
    register: { instance: { ip: "192.0.2.7", port: 70000, clusterName: "DEFAULT", weight: 1 } },
  },
};

/** A secured server on loopback whose handler answers what RPC_CASES expect. */
export async function interopServer(): Promise<Loopback> {
  const net = await loopback({ secret: SECRET });
  net.handler.queryAnswer = [DATUM];
  net.handler.forwardAnswer = async () => ({
    ok: true,
    result: { type: "beat", code: 10200, clientBeatInterval: 5000, lightBeatEnabled: true },
  });
  net.handler.snapshotChunks = async function* () {
    yield { datums: [DATUM], totalKeys: 1, totalInstances: 1, resumeToken: KEY };
    yield { datums: [], totalKeys: 1, totalInstances: 1, resumeToken: KEY };
  };
  return net;
}

function outputSchema(c: Pick<RpcCase, "service" | "method">): DescMessage {
  const service = c.service === DistroService.typeName ? DistroService : MemberService;
  const method = service.methods.find((m) => m.name === c.method);
  assert.ok(method !== undefined, `${c.service}/${c.method}`);
  return method.output;
}

/** Asserts each received message (protobuf JSON, or a JSON-like object a client produced) equals the expected. */
export function assertResponses(c: RpcCase, received: readonly unknown[]): void {
  const schema = outputSchema(c);
  assert.equal(received.length, c.responses.length, `${c.method}: number of responses`);
  c.responses.forEach((expected, n) => {
    const got = fromJson(schema, received[n] as JsonObject);
    assert.ok(equals(schema, got, fromJson(schema, expected)), `${c.method} response ${n}: ${JSON.stringify(received[n])}`);
  });
}

export const label = (c: RpcCase): string =>
  `${c.method}${c.method === "Verify" ? ` (${"summary" in c.request ? "summary" : "detail"})` : ""}`;
