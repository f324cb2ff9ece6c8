import assert from "node:assert/strict";
import { test } from "node:test";
import type { PushFigures } from "../../src/api/context.js";
import { prometheusText } from "../../src/api/metrics.js";
import type { NodeStats } from "../../src/node/naming-node.js";
import type { ClientPortStats } from "../../src/transport/nacos2/client-port.js";
import { parseExposition, sampleLines } from "../support/prometheus-text.js";
import { ADMIN, authApp, call, testApp } from "./support.js";

const STANDALONE: NodeStats = {
  ready: true,
  services: 2,
  instances: 5,
  membersHealthy: 1,
  membersByState: { STARTING: 0, UP: 1, SUSPICIOUS: 0, DOWN: 0 },
  heartbeatExpired: 0,
  probesStarted: { tcp: 7, http: 3 },
};

const IN_A_CLUSTER: NodeStats = {
  ...STANDALONE,
  membersHealthy: 2,
  membersByState: { STARTING: 0, UP: 2, SUSPICIOUS: 0, DOWN: 1 },
  distro: {
    snapshotKeysLoaded: 1,
    snapshotKeysTotal: 1,
    snapshotInstancesLoaded: 4,
    snapshotInstancesTotal: 4,
    snapshotResumes: 0,
    syncPending: 3,
    syncByPeer: new Map([
      ["127.0.0.1:8850", { pending: 0, failures: 0 }],
      ["127.0.0.1:8852", { pending: 3, failures: 4 }],
    ]),
    datumsSent: 10,
    syncFailedBatches: 4,
    datumsReceived: 6,
    verifyFetched: 1,
    verifyRemoved: 0,
    refusedAhead: 2,
    refusedByPeers: 0,
    tombstonePurgeLagMs: 600_000,
  },
};

/** Every push number, distinct values so a swapped field shows. */
const PUSH: PushFigures = {
  subscribers: 4,
  sent: 9,
  acked: 8,
  retried: 2,
  failed: 1,
  superseded: 0,
  sendErrors: 0,
  awaitingAck: 2,
  refusedSubscriptions: 0,
  mutedTargets: 0,
  maxPushCostMs: 30,
  avgPushCostMs: 12,
  streamSubscribers: 3,
  streamSent: 7,
  streamAcked: 6,
  streamRetried: 1,
  streamFailed: 1,
  maxStreamPushCostMs: 5,
  avgStreamPushCostMs: 2,
  unsolicitedDatagrams: 1,
};

const CLIENT_PORT: ClientPortStats = {
  connections: 3,
  setUp: 2,
  refusedConnections: 1,
  detectionDrops: 0,
  requests: new Map([["InstanceRequest", new Map([[0, 5]])]]),
  requestSeconds: new Map([
    [
      "InstanceRequest",
      {
        buckets: [
          [0.001, 3],
          [0.01, 5],
        ],
        sumSeconds: 0.012,
        count: 5,
      },
    ],
  ]),
};

const EVERYTHING = (): string =>
  prometheusText(IN_A_CLUSTER, {
    push: PUSH,
    clientPort: CLIENT_PORT,
    eventLoop: { maxMs: 3, p99Ms: 1 },
    peerTransports: new Map([["127.0.0.1:8850", "grpc"]]),
  });

test("a standalone node's numbers: one family each, no cluster or process families", () => {
  const text = prometheusText(STANDALONE);
  assert.match(text, /^# HELP nacos_naming_service_count .+\n# TYPE nacos_naming_service_count gauge\nnacos_naming_service_count 2\n/);
  assert.match(text, /\nnacos_naming_instance_count 5\n/);
  assert.match(text, /\nnacos_node_ready 1\n/);
  assert.doesNotMatch(text, /nacos_distro_|nacos_peer_transport|nacos_push_/);
});

test("counters are typed counter and end in _total, gauges neither; what only grows is a counter", () => {
  const families = parseExposition(EVERYTHING());
  for (const [name, { type }] of families) {
    assert.equal(type === "counter", name.endsWith("_total"), `${name} is a ${type}`);
  }
  const counters = [
    "nacos_push_sent_total",
    "nacos_push_failed_total",
    "nacos_push_stream_sent_total",
    "nacos_push_stream_failed_total",
    "nacos_distro_datums_sent_total",
    "nacos_distro_sync_failed_batches_total",
    "nacos_distro_refused_ahead_total",
    "nacos_distro_refused_by_peers_total",
    "nacos_heartbeat_expired_total",
    "nacos_client_requests_total",
    "nacos_client_connections_refused_total",
  ];
  for (const name of counters) assert.equal(families.get(name)?.type, "counter", name);
  for (const name of ["nacos_push_subscribers", "nacos_distro_sync_pending", "nacos_client_connections", "nacos_monitor"]) {
    assert.equal(families.get(name)?.type, "gauge", name);
  }
  assert.equal(families.get("nacos_push_sent_total")?.samples.get(""), 9);
  assert.equal(families.get("nacos_push_stream_failed_total")?.samples.get(""), 1);
  assert.equal(families.get("nacos_client_requests_total")?.samples.get('{type="InstanceRequest",result="ok"}'), 5);
});

test("2.x client requests: a duration histogram by request type, cumulative buckets then +Inf, sum and count", () => {
  const durations = parseExposition(EVERYTHING()).get("nacos_client_request_duration_seconds");
  assert.equal(durations?.type, "histogram");
  assert.deepEqual(Object.fromEntries(durations.samples), {
    '_bucket{type="InstanceRequest",le="0.001"}': 3,
    '_bucket{type="InstanceRequest",le="0.01"}': 5,
    '_bucket{type="InstanceRequest",le="+Inf"}': 5,
    '_sum{type="InstanceRequest"}': 0.012,
    '_count{type="InstanceRequest"}': 5,
  });
});

test("replication lag per peer, members by state", () => {
  const families = parseExposition(EVERYTHING());
  const pending = families.get("nacos_distro_peer_sync_pending")?.samples;
  assert.deepEqual(
    [...(pending ?? [])],
    [
      ['{peer="127.0.0.1:8850"}', 0],
      ['{peer="127.0.0.1:8852"}', 3],
    ],
  );
  assert.equal(families.get("nacos_distro_peer_sync_failures")?.samples.get('{peer="127.0.0.1:8852"}'), 4);
  const members = families.get("nacos_members")?.samples;
  assert.equal(members?.get('{state="UP"}'), 2);
  assert.equal(members?.get('{state="DOWN"}'), 1);
  assert.equal(members?.get('{state="STARTING"}'), 0);
});

test("the transport of each peer is a labelled gauge, 1 for the one in use", () => {
  const text = prometheusText(STANDALONE, {
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
  assert.match(text, /\nnacos_event_loop_delay_max_ms 42.5\n/);
});

test("Nacos's nacos_monitor gauges: real numbers where this node has them, Nacos's values where it has none", () => {
  const text = prometheusText(STANDALONE, {
    push: { subscribers: 4, sent: 9, failed: 1, awaitingAck: 2, maxPushCostMs: 30, avgPushCostMs: 12 },
    clientPort: CLIENT_PORT,
  });
  const monitor = (module: string, name: string) =>
    new RegExp(`\\nnacos_monitor\\{module="${module}",name="${name}"\\} (-?\\d+)\\n`).exec(text)?.[1];
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
  for (const [name, value] of Object.entries(expected)) assert.equal(monitor("naming", name), value, name);
  assert.equal(monitor("core", "longConnection"), "3", "2.x connections");
  assert.equal(text.match(/# TYPE nacos_monitor gauge/g)?.length, 1, "one metric family");
  assert.equal(/name="maxPushCost"\} -1\n/.test(prometheusText(STANDALONE)), true, "no push service: 1.4's -1");
});

const scrape = async (app: Awaited<ReturnType<typeof testApp>>["app"]) => {
  const res = await call(app, "GET", "/nacos/actuator/prometheus");
  assert.equal(res.status, 200);
  return res.text;
};

test("the exposition parses whole: node numbers, Node's process metrics, and a request histogram by route and status", async () => {
  const { app } = await testApp();
  const register = { serviceName: "histogrammed", ip: "192.0.2.1", port: "8080" };
  assert.equal((await call(app, "POST", "/nacos/v1/ns/instance", register)).status, 200);
  assert.equal((await call(app, "POST", "/v1/ns/instance", register)).status, 200, "the bare spelling is the same route");
  assert.equal((await call(app, "GET", "/nacos/v1/ns/instance/list", {})).status, 400);
  await scrape(app);
  const families = parseExposition(await scrape(app));
  for (const [name, { type }] of families) {
    if (type === "counter") assert.ok(name.endsWith("_total"), name);
    // prom-client's own nodejs_active_{handles,requests,resources}_total are gauges, by the names Node dashboards use.
    else if (!name.startsWith("nodejs_")) assert.ok(!name.endsWith("_total"), `${name} is a ${type}`);
  }
  for (const name of [
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "nodejs_heap_size_used_bytes",
    "nodejs_gc_duration_seconds",
    "nodejs_eventloop_lag_seconds",
    "nodejs_eventloop_lag_p99_seconds",
  ]) {
    assert.ok(families.has(name), `${name} present`);
  }
  const http = families.get("http_server_requests_seconds");
  assert.equal(http?.type, "histogram");
  const registered = 'method="POST",uri="/v1/ns/instance",status="200"';
  assert.equal(http.samples.get(`_count{${registered}}`), 2, "both spellings, one series");
  assert.equal(http.samples.get(`_bucket{le="+Inf",${registered}}`), 2);
  assert.ok([...http.samples.keys()].filter((k) => k.startsWith(`_bucket{`) && k.includes(registered)).length > 5, "buckets");
  assert.equal(http.samples.get('_count{method="GET",uri="/v1/ns/instance/list",status="400"}'), 1, "by status");
  assert.equal(http.samples.get('_count{method="GET",uri="/actuator/prometheus",status="200"}'), 1, "the first scrape");
});

test("label cardinality is bounded: 1,000 distinct unknown URLs add one series set, not 1,000", async () => {
  const { app } = await testApp();
  const unknown = (i: number) => app.inject({ method: "GET", url: `/no/such/path/${i}?x=${i}` });
  for (let i = 0; i < 10; i++) assert.equal((await unknown(i)).statusCode, 404);
  const before = sampleLines(await scrape(app)).length;
  for (let i = 10; i < 1_000; i++) await unknown(i);
  const text = await scrape(app);
  // The scrape before this one is a new series set (the prometheus route's own), counted here and not before.
  const scrapeSeries = sampleLines(text).filter((l) => l.includes('uri="/actuator/prometheus"')).length;
  assert.equal(sampleLines(text).length, before + scrapeSeries);
  assert.doesNotMatch(text, /no\/such/);
  const notFound = parseExposition(text).get("http_server_requests_seconds")?.samples;
  assert.equal(notFound?.get('_count{method="GET",uri="NOT_FOUND",status="404"}'), 1_000);
});

test("/nacos/actuator/health answers as Spring Boot's actuator: UP, and DOWN with 503 once the node is not ready", async () => {
  const { app, node } = await testApp();
  const health = async (path = "/nacos/actuator/health", accept = "*/*") => {
    const res = await app.inject({ method: "GET", url: path, headers: { accept } });
    return { status: res.statusCode, type: String(res.headers["content-type"]).split(";")[0], body: res.json() };
  };
  assert.deepEqual(await health(), { status: 200, type: "application/vnd.spring-boot.actuator.v3+json", body: { status: "UP" } });
  assert.deepEqual((await health("/nacos/actuator/health", "application/json")).type, "application/json");
  assert.deepEqual((await health("/nacos/actuator/health/readiness")).body, { status: "UP" });
  node.beginStop();
  assert.deepEqual(await health(), { status: 503, type: "application/vnd.spring-boot.actuator.v3+json", body: { status: "DOWN" } });
  assert.deepEqual(await health("/nacos/actuator/health/liveness"), {
    status: 200,
    type: "application/vnd.spring-boot.actuator.v3+json",
    body: { status: "UP" },
  });
  assert.deepEqual((await health("/nacos/actuator/health/readiness")).status, 503);
  assert.deepEqual((await health("/nacos/actuator/health/readiness")).body, { status: "OUT_OF_SERVICE" });
  assert.equal((await call(app, "GET", "/nacos/v1/console/health/readiness")).text, "not ready: shutting down", "the same reason");
});

test("with auth on, metrics and health are read without credentials, as today and as Nacos", async () => {
  const { app } = await authApp();
  for (const path of ["/nacos/actuator/prometheus", "/metrics", "/nacos/actuator/health", "/nacos/actuator/health/liveness"]) {
    assert.equal((await call(app, "GET", path)).status, 200, path);
  }
  assert.equal((await call(app, "GET", "/nacos/actuator/prometheus", ADMIN)).status, 200);
});
