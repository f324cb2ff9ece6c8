/**
 * What a member report spreads — switch updates and cluster-table rows — read from both peer protocols: a
 * round trip keeps every field, and anything beyond the limits is refused before it is kept (gRPC
 * INVALID_ARGUMENT, 1.4 JSON 400), whoever sends it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { MemberInfoSchema } from "../../gen/nacos/cluster/v1/member_pb.js";
import { NacosError } from "../../src/core/errors.js";
import { SWITCH_LIMITS, TABLE_LIMITS, type MemberInfo } from "../../src/node/cluster/member.js";
import { decodeMember as decodeGrpc, encodeMember as encodeGrpc } from "../../src/transport/grpc/codecs/member.js";
import { InvalidMessageError } from "../../src/transport/grpc/codecs/invalid.js";
import { encodeMember as encodeListed, encodeReportedMember as encodeJson } from "../../src/transport/nacos14/codecs/member-json.js";
import { decodeMember as decodeJson } from "../../src/transport/nacos14/codecs/member.js";

const version = { counter: 1_700_000_000_000, writer: "127.0.0.1:8848" };
const INFO: MemberInfo = {
  address: "127.0.0.1:8848",
  version: "0.1.0",
  grpcPort: 9849,
  abilities: { grpcPeer: true, httpPeer: true },
  ready: true,
  viewHash: "abc",
  clock: 1_700_000_000_000,
  confirmedThrough: 0,
  switches: { version, updates: { clientBeatInterval: "7000" } },
  tables: [
    { table: "namespaces", key: "dev", value: '{"name":"Dev"}', version },
    { table: "users", key: "gone", value: undefined, version },
  ],
};

const viaGrpc = (info: MemberInfo): MemberInfo => decodeGrpc(create(MemberInfoSchema, encodeGrpc(info)), "member");
const viaJson = (info: MemberInfo): MemberInfo => decodeJson(JSON.parse(JSON.stringify(encodeJson(info, 0))));

const tooMany = Object.fromEntries(Array.from({ length: SWITCH_LIMITS.entries + 1 }, (_, i) => [`e${i}`, "1"]));
const BAD: Array<[string, MemberInfo]> = [
  ["too many switch updates", { ...INFO, switches: { version, updates: tooMany } }],
  ["a switch key too long", { ...INFO, switches: { version, updates: { ["k".repeat(SWITCH_LIMITS.keyChars + 1)]: "1" } } }],
  ["a switch value too long", { ...INFO, switches: { version, updates: { pushEnabled: "v".repeat(SWITCH_LIMITS.valueChars + 1) } } }],
  ["a table row key too long", { ...INFO, tables: [{ table: "users", key: "k".repeat(TABLE_LIMITS.keyChars + 1), value: "v", version }] }],
  [
    "a table row value too long",
    { ...INFO, tables: [{ table: "users", key: "k", value: "v".repeat(TABLE_LIMITS.valueChars + 1), version }] },
  ],
  ["an empty table name", { ...INFO, tables: [{ table: "", key: "k", value: "v", version }] }],
];

test("switch updates and table rows survive both protocols field for field", () => {
  assert.deepEqual(viaGrpc(INFO), INFO);
  assert.deepEqual(viaJson(INFO), INFO);
});

for (const [what, info] of BAD) {
  test(`refused from either protocol: ${what}`, () => {
    assert.throws(() => viaGrpc(info), InvalidMessageError);
    assert.throws(
      () => viaJson(info),
      (err: unknown) => err instanceof NacosError && err.status === 400,
    );
  });
}

test("a switch value that is not a string (1.4 JSON) is refused; a `__proto__` key stays a plain key", () => {
  const json = JSON.parse(JSON.stringify(encodeJson(INFO, 0)));
  json.extendInfo.tsNacos.switches.updates = { pushEnabled: 5 };
  assert.throws(
    () => decodeJson(json),
    (err: unknown) => err instanceof NacosError && err.status === 400,
  );
  json.extendInfo.tsNacos.switches.updates = JSON.parse('{"__proto__":"x"}');
  const read = decodeJson(json).switches!.updates;
  assert.deepEqual(Object.keys(read), ["__proto__"]);
  assert.equal(Object.getPrototypeOf(read), Object.prototype);
});

test("a switch or row version no peer may send (2^53 and beyond) is read, not refused with the whole report", () => {
  const far = { counter: 2 ** 60, writer: "127.0.0.1:8848" };
  const info: MemberInfo = {
    ...INFO,
    switches: { version: far, updates: {} },
    tables: [{ table: "users", key: "late", value: "v", version: far }],
  };
  for (const read of [viaGrpc(info), viaJson(info)]) {
    assert.equal(read.switches!.version.counter, 2 ** 60, "the node refuses it alone (versionProblem), and keeps the member");
    assert.equal(read.tables![0]!.version.counter, 2 ** 60);
  }
});

test("the member JSON the API lists carries neither switch state nor table rows: those (password hashes too) stay among members", () => {
  const listed = JSON.stringify(encodeListed(INFO, 0));
  assert.doesNotMatch(listed, /tables|switches|namespaces|clientBeatInterval/);
  assert.match(JSON.stringify(encodeJson(INFO, 0)), /"tables":/);
});
