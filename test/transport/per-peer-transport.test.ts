import assert from "node:assert/strict";
import { test } from "node:test";
import type { Abilities, MemberInfo } from "../../src/node/cluster/member.js";
import type { ServiceDatum } from "../../src/core/service-datum.js";
import type { PeerTransportMode } from "../../src/node/ports.js";
import { PerPeerTransport } from "../../src/transport/per-peer-transport.js";
import { PeerError, SYNC_ACCEPTED, type PeerTransport, type SnapshotChunk, type SyncOutcome } from "../../src/node/ports.js";

const PEER = "127.0.0.1:8849";

const info = (abilities: Abilities): MemberInfo => ({
  address: PEER,
  version: "x",
  grpcPort: 9850,
  abilities,
  ready: true,
  viewHash: "",
  clock: 0,
  confirmedThrough: 0,
});

/** A PeerTransport that records what it carried and refuses everything while `down`. */
class FakeTransport implements PeerTransport {
  readonly calls: string[] = [];
  down = false;
  /** Resolves pending syncs when called. */
  private held: Array<() => void> = [];
  hold = false;

  constructor(private readonly answers: MemberInfo) {}

  private async carry(what: string, peer: string): Promise<void> {
    if (this.down) throw new PeerError("refused", peer, "connection refused");
    this.calls.push(what);
  }

  release(): void {
    for (const resume of this.held.splice(0)) resume();
  }

  async sync(peer: string, datums: readonly ServiceDatum[]): Promise<SyncOutcome> {
    if (this.hold) await new Promise<void>((resume) => this.held.push(resume));
    await this.carry(`sync:${datums.length}`, peer);
    return SYNC_ACCEPTED;
  }
  async verify(peer: string): Promise<{ mismatchedBuckets: number[] }> {
    await this.carry("verify", peer);
    return { mismatchedBuckets: [] };
  }
  async query(peer: string): Promise<ServiceDatum[]> {
    await this.carry("query", peer);
    return [];
  }
  // biome-ignore lint/correctness/useYield: only the call is recorded; the stream has no chunk
  async *snapshot(peer: string): AsyncIterable<SnapshotChunk> {
    await this.carry("snapshot", peer);
  }
  async report(peer: string): Promise<MemberInfo> {
    await this.carry("report", peer);
    return this.answers;
  }
  async forward(peer: string): Promise<{ ok: true; result: { type: "ok" } }> {
    await this.carry("forward", peer);
    return { ok: true, result: { type: "ok" } };
  }
}

function setup(mode: PeerTransportMode, known?: Abilities) {
  const grpc = new FakeTransport(info({ grpcPeer: true, httpPeer: true }));
  const http = new FakeTransport(info({ grpcPeer: false, httpPeer: true }));
  const member: { abilities: Abilities | undefined } = { abilities: known };
  const transport = new PerPeerTransport(mode, grpc, http, { abilitiesOf: () => member.abilities });
  /** Reports as the MemberManager does: what the answer says becomes the peer's advertised abilities. */
  const report = async (): Promise<void> => {
    member.abilities = (await transport.report(PEER, info({ grpcPeer: true, httpPeer: true }))).abilities;
  };
  return { grpc, http, member, transport, report };
}

async function everyCall(t: PeerTransport): Promise<void> {
  await t.sync(PEER, []);
  await t.verify(PEER, { kind: "summary", source: "me", viewHash: "", purgeHorizon: 0, bucketCount: 1, bucketHashes: [""] });
  await t.query(PEER, []);
  for await (const _ of t.snapshot(PEER, "")) void _;
  await t.forward(PEER, { type: "deleteService", service: { namespaceId: "public", groupedName: "g@@s" } });
}

const DATA_CALLS = ["sync:0", "verify", "query", "snapshot", "forward"];

test("grpc and http modes use one transport for everything", async () => {
  for (const mode of ["grpc", "http"] as const) {
    const { grpc, http, transport, report } = setup(mode, { grpcPeer: mode === "grpc", httpPeer: true });
    await report();
    await everyCall(transport);
    const [used, unused] = mode === "grpc" ? [grpc, http] : [http, grpc];
    assert.deepEqual(used.calls, ["report", ...DATA_CALLS]);
    assert.deepEqual(unused.calls, []);
    assert.equal(transport.transportOf(PEER), mode);
  }
});

test("auto: a peer that answers over gRPC is reached over gRPC", async () => {
  const { grpc, http, transport, report } = setup("auto");
  assert.equal(transport.transportOf(PEER), "grpc", "unknown peers are tried over gRPC");
  await report();
  await everyCall(transport);
  assert.deepEqual(grpc.calls, ["report", ...DATA_CALLS]);
  assert.deepEqual(http.calls, []);
});

test("auto: a peer without gRPC (a 1.4 node) is found by the report's fallback and then reached over HTTP only", async () => {
  const { grpc, http, transport, report } = setup("auto");
  grpc.down = true;
  await report();
  assert.equal(transport.transportOf(PEER), "http");
  await report();
  await everyCall(transport);
  assert.deepEqual(http.calls, ["report", "report", ...DATA_CALLS]);
  assert.deepEqual(grpc.calls, [], "once it advertises no gRPC, gRPC is not even tried");
});

test("auto: an upgraded peer moves to gRPC, a downgraded one back to HTTP", async () => {
  const { grpc, http, member, transport, report } = setup("auto", { grpcPeer: false, httpPeer: true });
  await report();
  assert.equal(transport.transportOf(PEER), "http");

  // The peer restarts as a ts-nacos node with gRPC: its HTTP answer says so, and the next report uses gRPC.
  member.abilities = { grpcPeer: true, httpPeer: true };
  assert.equal(transport.transportOf(PEER), "http", "until a report went through gRPC");
  await report();
  assert.equal(transport.transportOf(PEER), "grpc");
  assert.deepEqual(grpc.calls, ["report"]);

  // It restarts as a 1.4 node: gRPC is refused, HTTP answers, and everything moves back.
  grpc.down = true;
  await report();
  assert.equal(transport.transportOf(PEER), "http");
  assert.deepEqual(member.abilities, { grpcPeer: false, httpPeer: true });
  await everyCall(transport);
  assert.deepEqual(http.calls.slice(-DATA_CALLS.length), DATA_CALLS);
});

test("auto: a gRPC peer whose gRPC port fails but HTTP answers is reached over HTTP until gRPC works again", async () => {
  const { grpc } = setup("auto", { grpcPeer: true, httpPeer: true });
  const grpcInfo = info({ grpcPeer: true, httpPeer: true });
  // Its HTTP answer still advertises gRPC (a ts-nacos node whose gRPC listener is broken).
  const http = new FakeTransport(grpcInfo);
  const t = new PerPeerTransport("auto", grpc, http, { abilitiesOf: () => grpcInfo.abilities });
  grpc.down = true;
  await t.report(PEER, grpcInfo);
  assert.equal(t.transportOf(PEER), "http");
  grpc.down = false;
  await t.report(PEER, grpcInfo);
  assert.equal(t.transportOf(PEER), "grpc");
});

test("auto: when neither answers, the report fails with HTTP's error (refused: the node is down)", async () => {
  const { grpc, http, transport } = setup("auto");
  grpc.down = true;
  http.down = true;
  await assert.rejects(
    transport.report(PEER, info({ grpcPeer: true, httpPeer: true })),
    (err: unknown) => err instanceof PeerError && err.kind === "refused",
  );
});

test("a switch leaves calls in flight on their transport: each change is carried exactly once", async () => {
  const { grpc, http, member, transport, report } = setup("auto", { grpcPeer: false, httpPeer: true });
  await report();
  http.hold = true;
  const inFlight = transport.sync(PEER, [{} as ServiceDatum]);
  member.abilities = { grpcPeer: true, httpPeer: true };
  http.hold = false;
  await report(); // goes through gRPC now
  await transport.sync(PEER, [{} as ServiceDatum, {} as ServiceDatum]);
  http.release();
  await inFlight;
  assert.deepEqual(http.calls, ["report", "sync:1"]);
  assert.deepEqual(grpc.calls, ["report", "sync:2"]);
});

test("before a first report, auto reaches a peer by what it advertised, and gRPC when it advertised nothing", () => {
  const abilitiesOf = (peer: string): Abilities | undefined => (peer === PEER ? { grpcPeer: false, httpPeer: true } : undefined);
  const transport = new PerPeerTransport(
    "auto",
    new FakeTransport(info({ grpcPeer: true, httpPeer: true })),
    new FakeTransport(info({ grpcPeer: false, httpPeer: true })),
    { abilitiesOf },
  );
  assert.equal(transport.transportOf(PEER), "http");
  assert.equal(transport.transportOf("127.0.0.1:8850"), "grpc");
});
