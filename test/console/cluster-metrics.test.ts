/**
 * The cluster view reads the node's Prometheus exposition (console/cluster.js parseMetrics): unlabelled samples,
 * and labelled families by one label's value, label escapes undone, as src/api/metrics.ts writes them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { prometheusText } from "../../src/api/metrics.js";
// @ts-expect-error: a console module, plain JavaScript without types.
import { parseMetrics } from "../../console/cluster.js";

const EXPOSITION = [
  "# HELP nacos_distro_sync_pending Replication tasks waiting",
  "# TYPE nacos_distro_sync_pending gauge",
  "nacos_distro_sync_pending 5",
  'nacos_distro_peer_sync_pending{peer="127.0.0.1:8848"} 3',
  'nacos_distro_peer_sync_pending{peer="a\\"b\\\\c"} 2',
  'nacos_distro_peer_sync_failures{peer="127.0.0.1:8848"} 1',
  'nacos_peer_transport{peer="127.0.0.1:8848",transport="grpc"} 1',
  "nacos_tombstone_purge_lag_ms 1.5e3",
].join("\n");

test("cluster metrics: unlabelled values, and a labelled family by one label", () => {
  const m = parseMetrics(EXPOSITION);
  assert.equal(m.get("nacos_distro_sync_pending"), 5);
  assert.equal(m.get("nacos_tombstone_purge_lag_ms"), 1500);
  assert.equal(m.get("nacos_distro_peer_sync_pending"), undefined, "a labelled family has no unlabelled value");
  assert.equal(m.has("nacos_distro_peer_sync_pending"), true);
  assert.equal(m.has("nacos_snapshot_keys_loaded"), false);
  assert.deepEqual(
    [...m.byLabel("nacos_distro_peer_sync_pending", "peer")],
    [
      ["127.0.0.1:8848", 3],
      ['a"b\\c', 2],
    ],
  );
  assert.deepEqual([...m.byLabel("nacos_distro_peer_sync_failures", "peer")], [["127.0.0.1:8848", 1]]);
  assert.deepEqual([...m.byLabel("nacos_peer_transport", "transport")], [["grpc", 1]]);
  assert.equal(m.byLabel("nacos_members", "state").size, 0);
});

test("cluster metrics: what the node writes, per-peer backlog included", () => {
  const byPeer = new Map([["127.0.0.1:9001", { pending: 4, failures: 2 }]]);
  const stats = {
    services: 1,
    instances: 2,
    ready: true,
    membersHealthy: 2,
    membersByState: { UP: 2 },
    heartbeatExpired: 0,
    probesStarted: { http: 0, tcp: 0 },
    distro: { syncPending: 4, syncByPeer: byPeer },
  };
  const m = parseMetrics(prometheusText(stats as never));
  assert.equal(m.get("nacos_node_ready"), 1);
  assert.equal(m.get("nacos_distro_sync_pending"), 4);
  assert.equal(m.byLabel("nacos_distro_peer_sync_pending", "peer").get("127.0.0.1:9001"), 4);
  assert.equal(m.byLabel("nacos_distro_peer_sync_failures", "peer").get("127.0.0.1:9001"), 2);
  assert.equal(m.byLabel("nacos_members", "state").get("UP"), 2);
});
