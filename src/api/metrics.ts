/**
 * Prometheus text exposition of a node's numbers, the one place metric names, help texts and formatting live.
 * The node and the process hand over plain numbers (NodeStats, ProcessStats).
 */
import type { NodeStats } from "../node/naming-node.js";
import type { PushStats } from "../push/push-service.js";
import type { ClientPortStats } from "../transport/nacos2/client-port.js";
import type { ProcessStats } from "./context.js";

type Labels = Readonly<Record<string, string>>;

const escapeLabel = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labelText = (labels: Labels): string => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
};

/** One gauge: its HELP and TYPE lines, then one sample per label set (or one unlabelled value). */
export function gauge(name: string, help: string, samples: number | ReadonlyArray<readonly [Labels, number]>): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  if (typeof samples === "number") lines.push(`${name} ${samples}`);
  else for (const [labels, value] of samples) lines.push(`${name}${labelText(labels)} ${value}`);
  return `${lines.join("\n")}\n`;
}

const DISTRO: ReadonlyArray<readonly [keyof NonNullable<NodeStats["distro"]>, string, string]> = [
  ["snapshotKeysLoaded", "nacos_snapshot_keys_loaded", "Keys applied from the startup snapshot"],
  ["snapshotKeysTotal", "nacos_snapshot_keys_total", "Keys in the startup snapshot"],
  ["snapshotInstancesLoaded", "nacos_snapshot_instances_loaded", "Instances applied from the startup snapshot"],
  ["snapshotInstancesTotal", "nacos_snapshot_instances_total", "Instances in the startup snapshot"],
  ["snapshotResumes", "nacos_snapshot_resumes", "Snapshot streams resumed after a break"],
  ["syncPending", "nacos_distro_sync_pending", "Replication tasks waiting for their delay or retry"],
  ["datumsSent", "nacos_distro_datums_sent", "Datums replicated to peers"],
  ["syncFailedBatches", "nacos_distro_sync_failed_batches", "Replication batches that failed and were re-queued"],
  ["datumsReceived", "nacos_distro_datums_received", "Newer datums applied from peers' syncs"],
  ["verifyFetched", "nacos_distro_verify_fetched", "Datums fetched by verify"],
  ["verifyRemoved", "nacos_distro_verify_removed", "Keys removed by verify"],
  ["refusedAhead", "nacos_distro_refused_ahead", "Peer datums refused: a version too far ahead of this node's clock"],
  ["refusedByPeers", "nacos_distro_refused_by_peers", "Datums peers refused: a version too far ahead of their clock"],
  [
    "tombstonePurgeLagMs",
    "nacos_tombstone_purge_lag_ms",
    "How far the tombstone purge horizon trails the clock (grows while a member has not confirmed)",
  ],
];

/**
 * The `nacos_monitor{module="naming",name=...}` gauges Nacos 1.4's naming MetricsMonitor registers, which
 * dashboards built for 1.4 scrape, from this node's real numbers. Where 1.4 measured something that does not
 * exist here the value is what 1.4 shows without it: `leaderStatus` 0 (no Raft, as in a 1.4 cluster that left
 * Raft behind) and `mysqlhealthCheck` 0 (MySQL checks are refused). The probe counts run since the process
 * started (1.4 resets them at midnight); `subscriberCount` is Nacos 2.x's, added because 2.x dashboards read it.
 */
function nacosMonitor(stats: NodeStats, process: ProcessStats): string {
  const push: Partial<PushStats> = process.push ?? {};
  const values: Array<readonly [string, number]> = [
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
  const samples = values.map(([name, value]): readonly [Labels, number] => [{ module: "naming", name }, value]);
  return gauge("nacos_monitor", "Nacos 1.4's naming monitor gauges, by name", samples);
}

/** The 2.x client port: connections, and requests answered by type and result (`ok` or Nacos's error code). */
function clientPortGauges(stats: ClientPortStats): string {
  const requests: Array<readonly [Labels, number]> = [];
  for (const [type, byCode] of stats.requests) {
    for (const [code, count] of byCode) requests.push([{ type, result: code === 0 ? "ok" : String(code) }, count]);
  }
  return [
    gauge("nacos_client_connections", "2.x client connections open on the client port", stats.connections),
    gauge("nacos_client_connections_set_up", "2.x client connections that sent ConnectionSetupRequest", stats.setUp),
    gauge(
      "nacos_client_connections_refused",
      "2.x client connections closed on arrival (over a limit, or stopping)",
      stats.refusedConnections,
    ),
    gauge(
      "nacos_client_detection_drops",
      "2.x client connections closed for not answering detection or never setting up",
      stats.detectionDrops,
    ),
    gauge("nacos_client_requests", "2.x client requests answered, by type and result", requests),
  ].join("");
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function prometheusText(stats: NodeStats, process: ProcessStats = {}): string {
  const out = [
    gauge("nacos_naming_service_count", "Live services held by this node", stats.services),
    gauge("nacos_naming_instance_count", "Live instances held by this node", stats.instances),
    gauge("nacos_node_ready", "1 once the registry is complete (snapshot loaded)", stats.ready ? 1 : 0),
    gauge("nacos_members_healthy", "Members in state UP or SUSPICIOUS, this node included", stats.membersHealthy),
    gauge("nacos_heartbeat_expired", "Instances removed for missing heartbeats", stats.heartbeatExpired),
    nacosMonitor(stats, process),
  ];
  const distro = stats.distro;
  if (distro !== undefined) for (const [field, name, help] of DISTRO) out.push(gauge(name, help, distro[field]));
  for (const [field, value] of Object.entries(process.push ?? {})) {
    const kind = /stream/i.test(field) ? "Push to 2.x client connections" : "UDP push";
    out.push(gauge(`nacos_push_${snake(field)}`, `${kind}: ${field}`, value));
  }
  if (process.clientPort !== undefined) out.push(clientPortGauges(process.clientPort));
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
