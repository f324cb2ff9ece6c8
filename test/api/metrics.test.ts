import assert from "node:assert/strict";
import { test } from "node:test";
import { prometheusText } from "../../src/api/metrics.js";
import type { NodeStats } from "../../src/node/naming-node.js";

const STANDALONE: NodeStats = {
  ready: true,
  services: 2,
  instances: 5,
  membersHealthy: 1,
  heartbeatExpired: 0,
  probesStarted: { tcp: 7, http: 3 },
};

test("a standalone node's numbers: one gauge each, no cluster or process gauges", () => {
  const text = prometheusText(STANDALONE);
  assert.match(text, /^# HELP nacos_naming_service_count .+\n# TYPE nacos_naming_service_count gauge\nnacos_naming_service_count 2\n/);
  assert.match(text, /\nnacos_naming_instance_count 5\n/);
  assert.match(text, /\nnacos_node_ready 1\n/);
  assert.doesNotMatch(text, /nacos_distro_|nacos_peer_transport|nacos_push_/);
});

test("the transport of each peer is a labelled gauge, 1 for the one in use; push counters are snake_case", () => {
  const text = prometheusText(STANDALONE, {
    push: { sentPackets: 3 },
    eventLoop: { maxMs: 42.5, p99Ms: 11 },
    peerTransports: new Map([
      ["127.0.0.1:8849", "http"],
      ["127.0.0.1:8850", "grpc"],
    ]),
  });
  assert.ok(
    text.endsWith(
      `${[
        "# HELP nacos_peer_transport Transport used to reach each peer (1 = in use)",
        "# TYPE nacos_peer_transport gauge",
        'nacos_peer_transport{peer="127.0.0.1:8849",transport="grpc"} 0',
        'nacos_peer_transport{peer="127.0.0.1:8849",transport="http"} 1',
        'nacos_peer_transport{peer="127.0.0.1:8850",transport="grpc"} 1',
        'nacos_peer_transport{peer="127.0.0.1:8850",transport="http"} 0',
      ].join("\n")}\n`,
    ),
  );
  assert.match(text, /\nnacos_push_sent_packets 3\n/);
  assert.match(text, /\nnacos_event_loop_delay_max_ms 42.5\n/);
});

test("Nacos 1.4's nacos_monitor gauges: real numbers where this node has them, 1.4's values where it has none", () => {
  const text = prometheusText(STANDALONE, {
    push: { subscribers: 4, sent: 9, failed: 1, awaitingAck: 2, maxPushCostMs: 30, avgPushCostMs: 12 },
  });
  const monitor = (name: string) => new RegExp(`\\nnacos_monitor\\{module="naming",name="${name}"\\} (-?\\d+)\\n`).exec(text)?.[1];
  const expected: Record<string, string> = {
    serviceCount: "2",
    ipCount: "5",
    subscriberCount: "4",
    maxPushCost: "30",
    avgPushCost: "12",
    leaderStatus: "0",
    totalPush: "9",
    failedPush: "3",
    mysqlhealthCheck: "0",
    httpHealthCheck: "3",
    tcpHealthCheck: "7",
  };
  for (const [name, value] of Object.entries(expected)) assert.equal(monitor(name), value, name);
  assert.equal(text.match(/# TYPE nacos_monitor gauge/g)?.length, 1, "one metric family");
  assert.equal(/name="maxPushCost"\} -1\n/.test(prometheusText(STANDALONE)), true, "no push service: 1.4's -1");
});
