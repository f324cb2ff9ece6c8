/**
 * Prometheus text exposition of a node's numbers, the one place their metric names, types and help texts live.
 * The node and the process hand over plain numbers (NodeStats, ProcessStats). Each number is typed honestly: what
 * only grows since the process started is a `counter` named `*_total`, what goes up and down is a `gauge`.
 * (The process's own metrics and the HTTP request histogram come from prom-client: see prom-client-metrics.ts.)
 */
import type { NodeStats } from "../node/naming-node.js";
import type { ClientPortStats } from "../transport/nacos2/client-port.js";
import type { DurationSummary } from "../transport/nacos2/duration-histogram.js";
import type { ProcessStats, PushFigures } from "./context.js";

type Labels = Readonly<Record<string, string>>;
/** The kinds one number per series makes. */
type ScalarKind = "counter" | "gauge";
type Kind = ScalarKind | "histogram";
type Samples = number | ReadonlyArray<readonly [Labels, number]>;

const escapeLabel = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labelText = (labels: Labels): string => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
};

/** A family's HELP and TYPE lines. */
function header(kind: Kind, name: string, help: string): string[] {
  // A programming error, caught by the metrics tests: Prometheus's convention every dashboard relies on.
  if ((kind === "counter") !== name.endsWith("_total")) throw new Error(`${kind} ${name}: counters, and only they, end in _total`);
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`];
}

/** One metric family: its HELP and TYPE lines, then one sample per label set (or one unlabelled value). */
function family(kind: ScalarKind, name: string, help: string, samples: Samples): string {
  const lines = header(kind, name, help);
  if (typeof samples === "number") lines.push(`${name} ${samples}`);
  else for (const [labels, value] of samples) lines.push(`${name}${labelText(labels)} ${value}`);
  return `${lines.join("\n")}\n`;
}

/** A histogram family: per label set its cumulative buckets (`le`), then `+Inf`, `_sum` and `_count`. */
function histogram(name: string, help: string, series: ReadonlyArray<readonly [Labels, DurationSummary]>): string {
  const lines = header("histogram", name, help);
  for (const [labels, { buckets, sumSeconds, count }] of series) {
    for (const [bound, below] of buckets) lines.push(`${name}_bucket${labelText({ ...labels, le: String(bound) })} ${below}`);
    lines.push(`${name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}`);
    lines.push(`${name}_sum${labelText(labels)} ${sumSeconds}`, `${name}_count${labelText(labels)} ${count}`);
  }
  return `${lines.join("\n")}\n`;
}

const gauge = (name: string, help: string, samples: Samples): string => family("gauge", name, help, samples);
const counter = (name: string, help: string, samples: Samples): string => family("counter", name, help, samples);

/** How one field of a stats record is exposed. */
type Exposure = readonly [ScalarKind, string, string];

type DistroStats = NonNullable<NodeStats["distro"]>;

const DISTRO: { readonly [K in Exclude<keyof DistroStats, "syncByPeer">]: Exposure } = {
  snapshotKeysLoaded: ["gauge", "nacos_snapshot_keys_loaded", "Keys applied from the startup snapshot"],
  snapshotKeysTotal: ["gauge", "nacos_snapshot_keys_expected", "Keys in the startup snapshot"],
  snapshotInstancesLoaded: ["gauge", "nacos_snapshot_instances_loaded", "Instances applied from the startup snapshot"],
  snapshotInstancesTotal: ["gauge", "nacos_snapshot_instances_expected", "Instances in the startup snapshot"],
  snapshotResumes: ["counter", "nacos_snapshot_resumes_total", "Snapshot streams resumed after a break"],
  syncPending: ["gauge", "nacos_distro_sync_pending", "Replication tasks waiting for their delay or retry, all peers"],
  datumsSent: ["counter", "nacos_distro_datums_sent_total", "Datums replicated to peers"],
  syncFailedBatches: ["counter", "nacos_distro_sync_failed_batches_total", "Replication batches that failed and were re-queued"],
  datumsReceived: ["counter", "nacos_distro_datums_received_total", "Newer datums applied from peers' syncs"],
  verifyFetched: ["counter", "nacos_distro_verify_fetched_total", "Datums fetched by verify"],
  verifyRemoved: ["counter", "nacos_distro_verify_removed_total", "Keys removed by verify"],
  refusedAhead: ["counter", "nacos_distro_refused_ahead_total", "Peer datums refused: a version too far ahead of this node's clock"],
  refusedByPeers: ["counter", "nacos_distro_refused_by_peers_total", "Datums peers refused: a version too far ahead of their clock"],
  tombstonePurgeLagMs: [
    "gauge",
    "nacos_tombstone_purge_lag_ms",
    "How far the tombstone purge horizon trails the clock (grows while a member has not confirmed)",
  ],
};

const PUSH: { readonly [K in keyof PushFigures]: Exposure } = {
  subscribers: ["gauge", "nacos_push_subscribers", "UDP push subscribers held, zombies not yet swept included"],
  sent: ["counter", "nacos_push_sent_total", "UDP pushes sent (first sends)"],
  acked: ["counter", "nacos_push_acked_total", "UDP pushes acknowledged"],
  retried: ["counter", "nacos_push_retried_total", "UDP pushes resent for want of an ack"],
  failed: ["counter", "nacos_push_failed_total", "UDP pushes still unacknowledged after every resend"],
  superseded: ["counter", "nacos_push_superseded_total", "Unacknowledged UDP pushes replaced by a newer push to the same subscriber"],
  sendErrors: ["counter", "nacos_push_send_errors_total", "UDP datagrams the network refused"],
  awaitingAck: ["gauge", "nacos_push_awaiting_ack", "UDP pushes waiting for their ack"],
  refusedSubscriptions: [
    "counter",
    "nacos_push_refused_subscriptions_total",
    "Subscriptions refused (a cap, a muted target, a second filter)",
  ],
  mutedTargets: ["gauge", "nacos_push_muted_targets", "UDP targets muted for never acking"],
  maxPushCostMs: ["gauge", "nacos_push_max_push_cost_ms", "Longest UDP push-to-ack time of the last 15 s, ms (-1: none)"],
  avgPushCostMs: ["gauge", "nacos_push_avg_push_cost_ms", "Mean UDP push-to-ack time of the last 15 s, ms (-1: none)"],
  streamSubscribers: ["gauge", "nacos_push_stream_subscribers", "2.x connection subscriptions held"],
  streamSent: ["counter", "nacos_push_stream_sent_total", "Pushes sent to 2.x connections"],
  streamAcked: ["counter", "nacos_push_stream_acked_total", "Pushes 2.x connections answered"],
  streamRetried: ["counter", "nacos_push_stream_retried_total", "Pushes to 2.x connections resent"],
  streamFailed: ["counter", "nacos_push_stream_failed_total", "Pushes to 2.x connections never answered"],
  maxStreamPushCostMs: ["gauge", "nacos_push_max_stream_push_cost_ms", "Longest 2.x push-to-answer time of the last 15 s, ms (-1: none)"],
  avgStreamPushCostMs: ["gauge", "nacos_push_avg_stream_push_cost_ms", "Mean 2.x push-to-answer time of the last 15 s, ms (-1: none)"],
  unsolicitedDatagrams: ["counter", "nacos_push_unsolicited_datagrams_total", "Datagrams received that answered no push"],
};

/** The families of a stats record's fields, in the table's order; fields the record lacks are left out. */
function fieldFamilies<T extends object>(table: { readonly [K in keyof T]: Exposure }, values: Partial<T>): string[] {
  const out: string[] = [];
  for (const field of Object.keys(table) as Array<keyof T>) {
    const value = values[field];
    const [kind, name, help] = table[field];
    if (typeof value === "number") out.push(family(kind, name, help, value));
  }
  return out;
}

/**
 * The `nacos_monitor{module=...,name=...}` gauges Nacos's MetricsMonitor registers, which dashboards built for
 * Nacos scrape, from this node's real numbers (Nacos types them all gauge, its counts included). Where Nacos
 * measured something that does not exist here the value is what Nacos shows without it: `leaderStatus` 0 (no
 * Raft, as in a 1.4 cluster that left Raft behind) and `mysqlhealthCheck` 0 (MySQL checks are refused). The probe
 * counts run since the process started (1.4 resets them at midnight); `subscriberCount` and the core module's
 * `longConnection` (2.x client connections) are Nacos 2.x's.
 */
function nacosMonitor(stats: NodeStats, process: ProcessStats): string {
  const push: Partial<PushFigures> = process.push ?? {};
  const naming: Array<readonly [string, number]> = [
    ["serviceCount", stats.services],
    ["ipCount", stats.instances],
    ["subscriberCount", push.subscribers ?? 0],
    ["maxPushCost", push.maxPushCostMs ?? -1],
    ["avgPushCost", push.avgPushCostMs ?? -1],
    ["leaderStatus", 0],
    ["totalPush", push.sent ?? 0],
    // 1.4 counts the pushes still awaiting an ack among the failed ones.
    ["failedPush", (push.failed ?? 0) + (push.awaitingAck ?? 0)],
    ["mysqlhealthCheck", 0],
    ["httpHealthCheck", stats.probesStarted.http],
    ["tcpHealthCheck", stats.probesStarted.tcp],
  ];
  const samples = naming.map(([name, value]): readonly [Labels, number] => [{ module: "naming", name }, value]);
  samples.push([{ module: "core", name: "longConnection" }, process.clientPort?.connections ?? 0]);
  return gauge("nacos_monitor", "Nacos's monitor gauges, by module and name", samples);
}

/** The 2.x client port: connections, and requests answered by type and result (`ok` or Nacos's error code). */
function clientPortFamilies(stats: ClientPortStats): string {
  const requests: Array<readonly [Labels, number]> = [];
  for (const [type, byCode] of stats.requests) {
    for (const [code, count] of byCode) requests.push([{ type, result: code === 0 ? "ok" : String(code) }, count]);
  }
  return [
    gauge("nacos_client_connections", "2.x client connections open on the client port", stats.connections),
    gauge("nacos_client_connections_set_up", "Open 2.x client connections that sent ConnectionSetupRequest", stats.setUp),
    counter(
      "nacos_client_connections_refused_total",
      "2.x client connections closed on arrival (over a limit, or stopping)",
      stats.refusedConnections,
    ),
    counter(
      "nacos_client_detection_drops_total",
      "2.x client connections closed for not answering detection or never setting up",
      stats.detectionDrops,
    ),
    counter("nacos_client_requests_total", "2.x client requests answered, by type and result", requests),
    histogram(
      "nacos_client_request_duration_seconds",
      "Time to answer 2.x client requests, by type, in seconds",
      [...stats.requestSeconds].map(([type, summary]): readonly [Labels, DurationSummary] => [{ type }, summary]),
    ),
  ].join("");
}

/** Replication towards each peer: what waits to be sent to it, and how many batches in a row failed. */
function peerSyncFamilies(byPeer: DistroStats["syncByPeer"]): string {
  const pending: Array<readonly [Labels, number]> = [];
  const failures: Array<readonly [Labels, number]> = [];
  for (const [peer, lane] of byPeer) {
    pending.push([{ peer }, lane.pending]);
    failures.push([{ peer }, lane.failures]);
  }
  return [
    gauge("nacos_distro_peer_sync_pending", "Services waiting to be replicated to each peer (its replication backlog)", pending),
    gauge("nacos_distro_peer_sync_failures", "Consecutive failed replication batches to each peer (0: it is keeping up)", failures),
  ].join("");
}

export function prometheusText(stats: NodeStats, process: ProcessStats = {}): string {
  const byState = Object.entries(stats.membersByState).map(([state, n]): readonly [Labels, number] => [{ state }, n]);
  const out = [
    gauge("nacos_naming_service_count", "Live services held by this node", stats.services),
    gauge("nacos_naming_instance_count", "Live instances held by this node", stats.instances),
    gauge("nacos_node_ready", "1 once the registry is complete (snapshot loaded)", stats.ready ? 1 : 0),
    gauge("nacos_members_healthy", "Members in state UP or SUSPICIOUS, this node included", stats.membersHealthy),
    gauge("nacos_members", "Members by state as this node sees them, itself included", byState),
    counter("nacos_heartbeat_expired_total", "Instances removed for missing heartbeats", stats.heartbeatExpired),
    nacosMonitor(stats, process),
  ];
  const distro = stats.distro;
  if (distro !== undefined) {
    out.push(...fieldFamilies(DISTRO, distro));
    out.push(peerSyncFamilies(distro.syncByPeer));
  }
  out.push(...fieldFamilies(PUSH, process.push ?? {}));
  if (process.clientPort !== undefined) out.push(clientPortFamilies(process.clientPort));
  if (process.eventLoop !== undefined) {
    out.push(gauge("nacos_event_loop_delay_max_ms", "Longest event-loop delay since the previous scrape", process.eventLoop.maxMs));
    out.push(
      gauge("nacos_event_loop_delay_p99_ms", "99th percentile of event-loop delay since the previous scrape", process.eventLoop.p99Ms),
    );
  }
  if (process.peerTransports !== undefined) {
    const samples: Array<readonly [Labels, number]> = [];
    for (const [peer, inUse] of process.peerTransports) {
      for (const kind of ["grpc", "http"] as const) samples.push([{ peer, transport: kind }, inUse === kind ? 1 : 0]);
    }
    out.push(gauge("nacos_peer_transport", "Transport used to reach each peer (1 = in use)", samples));
  }
  return out.join("");
}
