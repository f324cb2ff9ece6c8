import assert from "node:assert/strict";
import { test } from "node:test";
import type { MemberInfo } from "../../../src/node/cluster/member.js";
import { MemberTable } from "../../../src/node/cluster/member-table.js";

const info = (address: string, grpcPort: number): MemberInfo => ({
  address,
  version: "x",
  grpcPort,
  abilities: { grpcPeer: true, httpPeer: false },
  ready: true,
  viewHash: "",
  clock: 0,
  confirmedThrough: 0,
});

test("a peer's gRPC address is its HTTP port + 1001 on the same host until it advertises another", () => {
  const table = new MemberTable("10.1.2.1:8848", ["10.1.2.3:8848", "[::1]:8848"], 0);
  assert.equal(table.grpcAddressOf("10.1.2.3:8848"), "10.1.2.3:9849");
  assert.equal(table.grpcAddressOf("[::1]:8848"), "[::1]:9849");
  table.get("10.1.2.3:8848")!.info = info("10.1.2.3:8848", 7000);
  assert.equal(table.grpcAddressOf("10.1.2.3:8848"), "10.1.2.3:7000", "the advertised port wins");
  table.get("[::1]:8848")!.info = info("[::1]:8848", 0);
  assert.equal(table.grpcAddressOf("[::1]:8848"), "[::1]:9849", "0 advertises nothing");
});

test("members start DOWN except this node; healthy and peers are sorted and leave out what they should", () => {
  const table = new MemberTable("127.0.0.2:8848", ["127.0.0.3:8848", "127.0.0.1:8848", "127.0.0.2:8848"], 5);
  assert.deepEqual(
    table.all().map((m) => [m.address, m.state]),
    [
      ["127.0.0.1:8848", "DOWN"],
      ["127.0.0.2:8848", "UP"],
      ["127.0.0.3:8848", "DOWN"],
    ],
  );
  assert.deepEqual(table.peers(), ["127.0.0.1:8848", "127.0.0.3:8848"]);
  table.get("127.0.0.3:8848")!.state = "SUSPICIOUS";
  assert.deepEqual(table.healthy(), ["127.0.0.2:8848", "127.0.0.3:8848"]);
  assert.equal(table.isMember("127.0.0.9:8848"), false);
  assert.equal(table.abilitiesOf("127.0.0.1:8848"), undefined, "not heard from yet");
});
