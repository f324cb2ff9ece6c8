import assert from "node:assert/strict";
import { test } from "node:test";
import { serviceChecksum } from "../../../../src/core/checksum.js";
import { silentLog } from "../../../../src/core/log.js";
import { Registry } from "../../../../src/core/registry.js";
import { VirtualScheduler } from "../../../../src/sim/virtual-scheduler.js";
import type { ServiceChecksums } from "../../../../src/node/ports.js";
import { StatusReporter } from "../../../../src/node/distro/compat14/status-reporter.js";
import { PeerError } from "../../../../src/node/ports.js";
import { instance } from "../../../transport/nacos14/support.js";
import { testDatum } from "../../../support/fixtures.js";

const orders = [instance("192.0.2.1", 80, "DEFAULT_GROUP@@orders"), instance("192.0.2.2", 80, "DEFAULT_GROUP@@orders", { healthy: false })];
const pay = [instance("198.51.100.1", 80, "g1@@pay")];
const registry = new Registry("127.0.0.1:8848", () => 1);
for (const d of [
  testDatum("public##DEFAULT_GROUP@@orders", orders),
  testDatum("public##DEFAULT_GROUP@@empty", []),
  testDatum("dev##g1@@pay", pay),
]) {
  registry.apply(d);
}

test("every 5 s, each legacy peer gets one ServiceChecksum per namespace of the non-empty services we own", async () => {
  const scheduler = new VirtualScheduler();
  const sent: Array<[string, ServiceChecksums]> = [];
  let peers = ["127.0.0.1:8849", "127.0.0.1:8850"];
  let ready = false;
  const reporter = new StatusReporter(
    {
      scheduler,
      owned: { ownedServices: () => registry.services() },
      ready: () => ready,
      peers: () => peers,
      send: async (peer, checksums) => {
        if (peer === "127.0.0.1:8850") throw new PeerError("refused", peer, "connection refused");
        sent.push([peer, checksums]);
      },
      log: silentLog,
    },
    5_000,
  );
  reporter.start();
  await scheduler.advance(5_000);
  assert.deepEqual(sent, [], "nothing while the registry is still loading");
  ready = true;
  await scheduler.advance(4_999);
  assert.deepEqual(sent, []);
  await scheduler.advance(1);
  assert.deepEqual(sent, [
    [
      "127.0.0.1:8849",
      {
        namespaceId: "public",
        serviceName2Checksum: { "DEFAULT_GROUP@@orders": serviceChecksum("DEFAULT_GROUP@@orders", orders) },
      },
    ],
    ["127.0.0.1:8849", { namespaceId: "dev", serviceName2Checksum: { "g1@@pay": serviceChecksum("g1@@pay", pay) } }],
  ]);
  await scheduler.advance(5_000);
  assert.equal(sent.length, 4, "a failing peer does not stop the others or the next period");
  peers = [];
  await scheduler.advance(5_000);
  assert.equal(sent.length, 4, "no legacy peers, nothing sent");
  reporter.close();
  peers = ["127.0.0.1:8849"];
  await scheduler.advance(20_000);
  assert.equal(sent.length, 4, "closed");
});
