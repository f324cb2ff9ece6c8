/**
 * What a GrpcPeerServer refuses, and that a refused call never reaches the handler: a missing or wrong cluster
 * secret (UNAUTHENTICATED), a caller that is not a member (PERMISSION_DENIED), and a message that is not a
 * valid domain value or not even valid protobuf (INVALID_ARGUMENT). Also TLS, plain and mutual.
 *
 * The certificates in tls/ are test-only (tls/generate.sh makes them; the CA's key is discarded): a CA,
 * a certificate for 127.0.0.1 that serves and identifies a member as a client, and a client certificate that
 * names no host.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import * as grpc from "@grpc/grpc-js";
import type { ClientWrite } from "../../../src/core/ops.js";
import { makeDatum, type ServiceDatum } from "../../../src/core/service-datum.js";
import { identityOf } from "../../../src/core/instance.js";
import { callMetadata } from "../../../src/transport/grpc/metadata.js";
import { PeerIdentity } from "../../../src/transport/peer-identity.js";
import { MemberNames } from "../../../src/node/cluster/member-names.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { silentLog } from "../../../src/core/log.js";

import { makeClientConstructor, unary } from "../../../src/transport/grpc/service-adapter.js";
import { PeerError, type PeerErrorKind } from "../../../src/node/ports.js";
import {
  DistroService,
  ForwardRequestSchema,
  QueryRequestSchema,
  SyncRequestSchema,
  VerifyRequestSchema,
} from "../../../gen/nacos/cluster/v1/distro_pb.js";
import { MemberService, ReportRequestSchema } from "../../../gen/nacos/cluster/v1/member_pb.js";
import { encodeMember } from "../../../src/transport/grpc/codecs/member.js";
import {
  DETAIL,
  ORDERS,
  PEER,
  SECRET,
  SELF,
  SELF_INFO,
  SUMMARY,
  WRITES,
  instance,
  loopback,
  rejectsWith,
  type Loopback,
} from "./fixtures.js";

const isPeerError = (kind: PeerErrorKind, code: string) => (err: unknown) =>
  err instanceof PeerError && err.kind === kind && err.message.includes(code);

/** Every PeerTransport call, each expected to fail the same way. */
function everyCall(net: Loopback): Array<[string, () => Promise<unknown>]> {
  const t = net.transport;
  return [
    ["sync", () => t.sync(PEER, [ORDERS])],
    ["verify", () => t.verify(PEER, SUMMARY)],
    ["query", () => t.query(PEER, [ORDERS.key])],
    ["report", () => t.report(PEER, SELF_INFO)],
    ["forward", () => t.forward(PEER, WRITES[0]!)],
    [
      "snapshot",
      async () => {
        for await (const _ of t.snapshot(PEER, "")) assert.fail("no chunk expected");
      },
    ],
  ];
}

/** A datum of about `bytes` bytes. */
function bigDatum(bytes: number): ServiceDatum {
  const i = instance("192.0.2.1", 8080, { metadata: { blob: "x".repeat(bytes) } });
  return makeDatum(ORDERS.key, false, ORDERS.meta, ORDERS.metaVersion, [{ id: identityOf(i), version: ORDERS.version, instance: i }]);
}

/** How members named by host name are resolved again (their timings do not matter here). */
const NAMES = { refreshMs: 5000, minRetryMs: 1000 };

describe("a secured server", () => {
  const open: Loopback[] = [];
  const secured = async (transport: Parameters<typeof loopback>[1]) => {
    const net = await loopback({ secret: SECRET }, transport);
    open.push(net);
    return net;
  };
  after(async () => {
    for (const net of open) await net.close();
  });

  test("answers members that present the secret", async () => {
    const net = await secured({ secret: SECRET });
    await net.transport.sync(PEER, [ORDERS]);
    assert.deepEqual(await net.transport.report(PEER, SELF_INFO), net.handler.reportAnswer);
    assert.deepEqual(
      net.handler.calls.map((c) => c.method),
      ["onSync", "onReport"],
    );
  });

  for (const [name, secret] of [
    ["no", undefined],
    ["a wrong", "guess"],
  ] as const) {
    test(`refuses every call with ${name} secret as UNAUTHENTICATED, without calling the handler`, async () => {
      const net = await secured({ secret });
      for (const [rpc, call] of everyCall(net)) await rejectsWith(call(), isPeerError("unauthenticated", "UNAUTHENTICATED"), rpc);
      assert.deepEqual(net.handler.calls, []);
    });
  }

  test("refuses every call from a non-member as PERMISSION_DENIED, without calling the handler", async () => {
    const net = await secured({ secret: SECRET, self: "127.0.0.1:9999" });
    for (const [rpc, call] of everyCall(net)) await rejectsWith(call(), isPeerError("rejected", "PERMISSION_DENIED"), rpc);
    assert.deepEqual(net.handler.calls, []);
  });

  test("refuses a member reporting on behalf of another member", async () => {
    const net = await secured({ secret: SECRET });
    await rejectsWith(net.transport.report(PEER, { ...SELF_INFO, address: PEER }), isPeerError("rejected", "PERMISSION_DENIED"), "report");
    assert.deepEqual(net.handler.calls, []);
  });

  test("authenticates before reading the message: an unauthenticated one over the size limit is UNAUTHENTICATED, never read", async () => {
    const net = await loopback(
      { secret: SECRET, connection: { maxMessageBytes: 1024 * 1024 } },
      { connection: { maxMessageBytes: 8 * 1024 * 1024 } },
    );
    open.push(net);
    const big = bigDatum(2 * 1024 * 1024);
    await rejectsWith(net.transport.sync(PEER, [big]), isPeerError("unauthenticated", "UNAUTHENTICATED"), "unauthenticated 2 MiB sync");
    assert.deepEqual(net.handler.calls, []);
  });

  test("a member may speak only for itself: a caller claiming a member at another address is PERMISSION_DENIED", async () => {
    // The caller connects from 127.0.0.1 but names member 127.0.0.3:8848, which exists and shares the secret.
    const net = await secured({ secret: SECRET, self: "127.0.0.3:8848" });
    net.handler.members.add("127.0.0.3:8848");
    for (const [rpc, call] of everyCall(net)) await rejectsWith(call(), isPeerError("rejected", "PERMISSION_DENIED"), rpc);
    assert.deepEqual(net.handler.calls, []);
  });

  test("a member named by host name is admitted from an address the name resolves to, and only from there", async () => {
    const resolver = async (host: string) => (host === "node-a.nacos" ? ["127.0.0.1"] : ["192.0.2.200"]);
    const names = new MemberNames(["node-a.nacos:8848", "node-b.nacos:8848"], resolver, new VirtualScheduler(), NAMES, silentLog);
    const identity = new PeerIdentity(names);
    for (const [self, admitted] of [
      ["node-a.nacos:8848", true],
      ["node-b.nacos:8848", false],
    ] as const) {
      const net = await loopback({ secret: SECRET, identity }, { secret: SECRET, self });
      open.push(net);
      net.handler.members.add(self);
      const sync = net.transport.sync(PEER, [ORDERS]);
      if (admitted) await sync;
      else await rejectsWith(sync, isPeerError("rejected", "PERMISSION_DENIED"), self);
      assert.equal(net.handler.calls.length, admitted ? 1 : 0);
    }
  });
});

describe("an open server (no secret)", () => {
  test("refuses every call from a non-member as PERMISSION_DENIED, without calling the handler", async () => {
    // The caller is at the address it names (127.0.0.1), but that address is not in the member list.
    const net = await loopback({}, { self: "127.0.0.1:9999" });
    try {
      for (const [rpc, call] of everyCall(net)) await rejectsWith(call(), isPeerError("rejected", "PERMISSION_DENIED"), rpc);
      assert.deepEqual(net.handler.calls, []);
    } finally {
      await net.close();
    }
  });

  test("refuses a report, or any call, that names no member as INVALID_ARGUMENT, without calling the handler", async () => {
    const net = await loopback();
    const member = new (makeClientConstructor(MemberService))(net.target, grpc.credentials.createInsecure());
    const distro = new (makeClientConstructor(DistroService))(net.target, grpc.credentials.createInsecure());
    try {
      const noSource = new grpc.Metadata();
      const invalid = (err: unknown) => (err as grpc.ServiceError).code === grpc.status.INVALID_ARGUMENT;
      const report = create(ReportRequestSchema, { member: encodeMember({ ...SELF_INFO, address: "127.0.0.5:8848" }) });
      await rejectsWith(unary(member.report, member, report, noSource, {}), invalid, "report");
      await rejectsWith(unary(distro.query, distro, create(QueryRequestSchema, { keys: ["k"] }), noSource, {}), invalid, "query");
      await rejectsWith(unary(distro.forward, distro, create(ForwardRequestSchema), noSource, {}), invalid, "forward");
      assert.deepEqual(net.handler.calls, []);
    } finally {
      member.close();
      distro.close();
      await net.close();
    }
  });

  test("still refuses a caller naming a member at another address", async () => {
    const net = await loopback({}, { self: "127.0.0.3:8848" });
    try {
      await rejectsWith(net.transport.sync(PEER, [ORDERS]), isPeerError("rejected", "PERMISSION_DENIED"), "spoofed sync");
      assert.deepEqual(net.handler.calls, []);
    } finally {
      await net.close();
    }
  });
});

describe("invalid messages", () => {
  let net: Loopback;
  let distro: InstanceType<ReturnType<typeof makeClientConstructor<typeof DistroService.method>>>;
  before(async () => {
    net = await loopback();
    distro = new (makeClientConstructor(DistroService))(net.target, grpc.credentials.createInsecure());
  });
  after(async () => {
    distro.close();
    await net.close();
  });

  const datumWith = (patch: Partial<ServiceDatum>): ServiceDatum => ({ ...ORDERS, ...patch });
  const orders = (i: Parameters<typeof instance>[2]) => {
    const bad = instance("192.0.2.1", 8080, i);
    const entry = { id: "192.0.2.1:8080:unknown:DEFAULT:ephemeral", version: ORDERS.version, instance: bad };
    return makeDatum(ORDERS.key, false, ORDERS.meta, ORDERS.metaVersion, [entry]);
  };
  const persistentOrders = (i: Parameters<typeof instance>[2]) => {
    const bad = instance("192.0.2.1", 8080, { ...i, ephemeral: false });
    const entry = { id: "192.0.2.1:8080:unknown:DEFAULT:persist", version: ORDERS.version, instance: bad };
    return makeDatum(ORDERS.key, false, ORDERS.meta, ORDERS.metaVersion, [entry]);
  };
  const write = (w: ClientWrite): ClientWrite => w;
  const service = { namespaceId: "public", groupedName: "DEFAULT_GROUP@@orders" };

  /** [what, where the server must say the problem is, how to send it] */
  const domainCases: Array<[string, string, (n: Loopback) => Promise<unknown>]> = [
    ["a datum without key", "datums[0].key", (n) => n.transport.sync(PEER, [datumWith({ key: "" })])],
    [
      "a key that is no service key",
      "datums[0].key",
      (n) => n.transport.sync(PEER, [makeDatum("no-namespace", false, ORDERS.meta, ORDERS.metaVersion, [])]),
    ],
    [
      "an instance of another service",
      "datums[0].entries[0].instance.serviceName",
      (n) => n.transport.sync(PEER, [orders({ serviceName: "DEFAULT_GROUP@@other" })]),
    ],
    [
      "an instance with a cluster name 1.4 refuses",
      "datums[0].entries[0].instance.clusterName",
      (n) =>
        n.transport.sync(PEER, [
          makeDatum(ORDERS.key, false, ORDERS.meta, ORDERS.metaVersion, [
            {
              id: "192.0.2.1:8080:unknown:a b:ephemeral",
              version: ORDERS.version,
              instance: instance("192.0.2.1", 8080, { clusterName: "a b" }),
            },
          ]),
        ]),
    ],
    [
      "a version counter above 2^53",
      "datums[0].metaVersion.counter",
      (n) => n.transport.sync(PEER, [datumWith({ metaVersion: { counter: 2 ** 60, writer: SELF } })]),
    ],
    ["a port above 65535", "datums[0].entries[0].instance.port", (n) => n.transport.sync(PEER, [orders({ port: 70_000 })])],
    [
      "a connection binding whose node is no member address",
      "datums[0].entries[0].instance.connection",
      (n) => n.transport.sync(PEER, [orders({ connection: { node: "evil host", connectionId: "c1" } })]),
    ],
    [
      "a connection binding without node",
      "datums[0].entries[0].instance.connection",
      (n) => n.transport.sync(PEER, [orders({ connection: { node: "", connectionId: "c1" } })]),
    ],
    [
      "a connection id of 129 characters",
      "datums[0].entries[0].instance.connection",
      (n) => n.transport.sync(PEER, [orders({ connection: { node: SELF, connectionId: "x".repeat(129) } })]),
    ],
    [
      "an empty connection id",
      "datums[0].entries[0].instance.connection",
      (n) => n.transport.sync(PEER, [orders({ connection: { node: SELF, connectionId: "" } })]),
    ],
    [
      "a connection id with a control character",
      "datums[0].entries[0].instance.connection",
      (n) => n.transport.sync(PEER, [orders({ connection: { node: SELF, connectionId: "c\n1" } })]),
    ],
    [
      "a connection binding on a persistent instance",
      "datums[0].entries[0].instance.connection",
      (n) => n.transport.sync(PEER, [persistentOrders({ connection: { node: SELF, connectionId: "c1" } })]),
    ],
    ["a weight above 10000", "datums[0].entries[0].instance.weight", (n) => n.transport.sync(PEER, [orders({ weight: 10_001 })])],
    ["a negative weight", "datums[0].entries[0].instance.weight", (n) => n.transport.sync(PEER, [orders({ weight: -1 })])],
    ["an instance without ip", "datums[0].entries[0].instance.ip", (n) => n.transport.sync(PEER, [orders({ ip: "" })])],
    [
      "an entry id that is not its instance's",
      "datums[0].entries[0].id",
      (n) => n.transport.sync(PEER, [orders({ clusterName: "OTHER" })]),
    ],
    ["the same key twice", "datums[1].key", (n) => n.transport.sync(PEER, [ORDERS, ORDERS])],
    [
      "a NaN protect threshold",
      "datums[0].meta.protectThreshold",
      (n) => n.transport.sync(PEER, [datumWith({ meta: { ...ORDERS.meta, protectThreshold: Number.NaN } })]),
    ],
    [
      "a summary with too few bucket hashes",
      "request.summary.bucketHashes",
      (n) => n.transport.verify(PEER, { ...SUMMARY, bucketHashes: ["00"] }),
    ],
    [
      "a detail asking for a bucket out of range",
      "request.detail.buckets[0]",
      (n) => n.transport.verify(PEER, { ...DETAIL, buckets: [4] }),
    ],
    ["zero buckets", "request.bucketCount", (n) => n.transport.verify(PEER, { ...SUMMARY, bucketCount: 0, bucketHashes: [] })],
    ["a reporter address without port", "member.address", (n) => n.transport.report(PEER, { ...SELF_INFO, address: "127.0.0.1" })],
    ["a grpc port above 65535", "member.grpcPort", (n) => n.transport.report(PEER, { ...SELF_INFO, grpcPort: 65_536 })],
    [
      "a write without namespace",
      "write.service.namespaceId",
      (n) => n.transport.forward(PEER, write({ type: "deleteService", service: { ...service, namespaceId: "" } })),
    ],
    [
      "a write with port 70000",
      "write.setHealth.address.port",
      (n) =>
        n.transport.forward(
          PEER,
          write({ type: "setHealth", service, address: { ip: "1.1.1.1", port: 70_000, clusterName: "DEFAULT" }, healthy: true }),
        ),
    ],
    [
      "a patch with an infinite weight",
      "write.patch.patch.weight",
      (n) =>
        n.transport.forward(
          PEER,
          write({ type: "patch", service, address: { ip: "1.1.1.1", port: 1, clusterName: "DEFAULT" }, patch: { weight: Infinity } }),
        ),
    ],
  ];

  for (const [what, where, send] of domainCases) {
    test(`${what} is refused as INVALID_ARGUMENT and changes nothing`, async () => {
      await rejectsWith(
        send(net),
        (err) => isPeerError("rejected", "INVALID_ARGUMENT")(err) && (err as Error).message.includes(`${where}:`),
        what,
      );
      assert.deepEqual(net.handler.calls, []);
    });
  }

  /** A selector kind, write type or round this build does not know arrives as an unknown field. */
  const unknownField = { no: 99, wireType: WireType.LengthDelimited, data: new Uint8Array([0]) };
  const rawCases: Array<[string, (metadata: grpc.Metadata) => Promise<unknown>]> = [
    [
      "a datum without meta",
      (md) => unary(distro.sync, distro, create(SyncRequestSchema, { datums: [{ key: "k", metaVersion: {} }] }), md, {}),
    ],
    [
      "a selector of an unknown kind",
      (md) => {
        const request = create(SyncRequestSchema, { datums: [{ key: "k", metaVersion: {}, meta: { selector: {} } }] });
        request.datums[0]!.meta!.selector!.$unknown = [unknownField];
        return unary(distro.sync, distro, request, md, {});
      },
    ],
    [
      "a write of an unknown type",
      (md) => {
        const request = create(ForwardRequestSchema, { write: { service } });
        request.write!.$unknown = [unknownField];
        return unary(distro.forward, distro, request, md, {});
      },
    ],
    [
      "a metadata write for an unspecified instance kind",
      (md) => {
        const targets = { case: "allOfKind", value: 0 } as const;
        const request = create(ForwardRequestSchema, { write: { service, op: { case: "updateMetadata", value: { targets } } } });
        return unary(distro.forward, distro, request, md, {});
      },
    ],
    ["a forward without write", (md) => unary(distro.forward, distro, create(ForwardRequestSchema), md, {})],
    [
      "a sync of more than 10,000 datums",
      (md) => {
        const selector = { kind: { case: "none" as const, value: {} } };
        const datums = Array.from({ length: 10_001 }, (_, n) => ({ key: `public##G@@s${n}`, meta: { selector }, metaVersion: {} }));
        return unary(distro.sync, distro, create(SyncRequestSchema, { datums }), md, {});
      },
    ],
    [
      "a query of more than 10,000 keys",
      (md) => unary(distro.query, distro, create(QueryRequestSchema, { keys: Array.from({ length: 10_001 }, (_, n) => `k${n}`) }), md, {}),
    ],
    ["a verify without round", (md) => unary(distro.verify, distro, create(VerifyRequestSchema, { bucketCount: 1 }), md, {})],
    ["a sync without x-nacos-source", () => unary(distro.sync, distro, create(SyncRequestSchema), new grpc.Metadata(), {})],
  ];

  for (const [what, send] of rawCases) {
    test(`${what} is refused as INVALID_ARGUMENT and changes nothing`, async () => {
      await rejectsWith(
        send(callMetadata(SELF, undefined)),
        (err) => (err as grpc.ServiceError).code === grpc.status.INVALID_ARGUMENT,
        what,
      );
      assert.deepEqual(net.handler.calls, []);
    });
  }

  test("bytes that are not protobuf at all are refused as INVALID_ARGUMENT, not INTERNAL", async () => {
    const path = "/nacos.cluster.v1.DistroService/Sync";
    const bytes = (b: Buffer): Buffer => b;
    const sync = {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    };
    const Raw = grpc.makeGenericClientConstructor({ sync }, "Raw");
    const raw = new Raw(net.target, grpc.credentials.createInsecure());
    try {
      const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]); // field 1, length far past the end
      const code = await new Promise<number | undefined>((resolve) =>
        raw.makeUnaryRequest(path, bytes, bytes, garbage, callMetadata(SELF, undefined), (err) => resolve(err?.code)),
      );
      assert.equal(code, grpc.status.INVALID_ARGUMENT);
      assert.deepEqual(net.handler.calls, []);
    } finally {
      raw.close();
    }
  });
});

describe("TLS", () => {
  const pem = (name: string) => readFileSync(new URL(`./tls/${name}`, import.meta.url));
  const serverTls = { cert: pem("server.pem"), key: pem("server.key") };
  const open: Loopback[] = [];
  after(async () => {
    for (const net of open) await net.close();
  });
  const start = async (...args: Parameters<typeof loopback>) => {
    const net = await loopback(...args);
    open.push(net);
    return net;
  };

  test("a TLS server answers a client that trusts its CA, and not a plaintext client", async () => {
    const net = await start({ tls: serverTls }, { tls: { ca: pem("ca.pem") }, timeoutMs: 2000 });
    await net.transport.sync(PEER, [ORDERS]);
    const plain = await start({ tls: serverTls }, { timeoutMs: 2000 });
    await rejectsWith(plain.transport.sync(PEER, [ORDERS]), (err) => err instanceof PeerError && err.kind !== "rejected", "plaintext");
    assert.equal(plain.handler.calls.length, 0);
  });

  test("with a client CA, only a certificate it signed that names the calling member gets in", async () => {
    const mutual = { tls: { ...serverTls, clientCa: pem("ca.pem") } };
    const anonymous = await start(mutual, { tls: { ca: pem("ca.pem") }, timeoutMs: 2000 });
    await rejectsWith(anonymous.transport.sync(PEER, [ORDERS]), (err) => err instanceof PeerError, "no client certificate");
    assert.equal(anonymous.handler.calls.length, 0);
    // Signed by the CA, but it names no host: it may not speak for member 127.0.0.1:8848.
    const nameless = await start(mutual, { tls: { ca: pem("ca.pem"), cert: pem("client.pem"), key: pem("client.key") }, timeoutMs: 2000 });
    await rejectsWith(
      nameless.transport.sync(PEER, [ORDERS]),
      isPeerError("rejected", "PERMISSION_DENIED"),
      "a certificate naming no member",
    );
    assert.equal(nameless.handler.calls.length, 0);
    // Each member presents its own certificate, which names its address.
    const member = await start(mutual, { tls: { ca: pem("ca.pem"), cert: pem("server.pem"), key: pem("server.key") }, timeoutMs: 2000 });
    await member.transport.sync(PEER, [ORDERS]);
    assert.equal(member.handler.calls.length, 1);
  });
});
