/**
 * The cluster: its members as this node sees them, the 2.x client connections this node holds, and this node's
 * replication (its own metrics), each number said in words ("3 s ago", "in sync", "2 services waiting").
 */
import { texts } from "./i18n.js";
import { $, ago, api, el, Forbidden, getJson, info, metadataList, rerender, show, state, Unauthorized } from "./lib.js";

export const TEXTS = {
  en: {
    thisNode: " (this node)",
    ready: "ready",
    joining: "joining",
    noFailedReports: "none",
    failedReports: (n) => `${n} failed ${n === 1 ? "report" : "reports"} in a row`,
    inSync: "in sync",
    servicesWaiting: (n) => `${n} ${n === 1 ? "service" : "services"} waiting`,
    failedBatches: (n) => `${n} failed ${n === 1 ? "batch" : "batches"} in a row`,
    readiness: "Readiness",
    readyInWords: "ready: the registry is complete",
    joiningInWords: "joining: loading the snapshot",
    replication: "Replication",
    standalone: "none (standalone)",
    inSyncWithAll: "in sync with every peer",
    waitingForPeers: (n) => `${n} ${n === 1 ? "service" : "services"} waiting to be replicated`,
    snapshot: "Snapshot",
    nothingToLoad: "nothing to load",
    snapshotLoaded: (loaded, total, instancesLoaded, instancesTotal) =>
      `${loaded} of ${total} keys loaded (${percent(loaded, total)} %), ${instancesLoaded} of ${instancesTotal} instances`,
    resumed: (n) => `, resumed ${n} ${n === 1 ? "time" : "times"} after a break`,
    traffic: "Changes",
    sentReceived: (sent, received) => `sent ${sent} to peers, received ${received} from them`,
    failedSyncs: "Failed batches",
    noFailedBatches: "none",
    retriedBatches: (n) => `${n} ${n === 1 ? "batch" : "batches"} failed and ${n === 1 ? "was" : "were"} retried`,
    verify: "Verify",
    verified: (fetched, removed) => `fetched ${fetched} missing, removed ${removed} stale`,
    refused: "Refused for a clock too far ahead",
    refusedCounts: (ours, theirs) => `${ours} from peers, ${theirs} of ours by peers`,
    noConnections: "No 2.x client is connected to this node.",
    connectionsForAdmins: "Only an administrator may see this node's connections.",
    connectionsFailed: (reason) => `The connections could not be read: ${reason}`,
    publicNamespace: "public",
  },
  zh: {
    thisNode: "（本节点）",
    ready: "就绪",
    joining: "加入中",
    noFailedReports: "无",
    failedReports: (n) => `连续 ${n} 次上报失败`,
    inSync: "已同步",
    servicesWaiting: (n) => `${n} 个服务待同步`,
    failedBatches: (n) => `连续 ${n} 批同步失败`,
    readiness: "就绪状态",
    readyInWords: "就绪：注册表已完整",
    joiningInWords: "加入中：正在加载快照",
    replication: "数据同步",
    standalone: "无（单机模式）",
    inSyncWithAll: "与所有节点已同步",
    waitingForPeers: (n) => `${n} 个服务待同步`,
    snapshot: "快照",
    nothingToLoad: "无需加载",
    snapshotLoaded: (loaded, total, instancesLoaded, instancesTotal) =>
      `已加载 ${loaded} / ${total} 个键（${percent(loaded, total)}%），${instancesLoaded} / ${instancesTotal} 个实例`,
    resumed: (n) => `，中断后续传 ${n} 次`,
    traffic: "变更",
    sentReceived: (sent, received) => `发往其他节点 ${sent} 条，从其他节点收到 ${received} 条`,
    failedSyncs: "失败批次",
    noFailedBatches: "无",
    retriedBatches: (n) => `${n} 批失败并已重试`,
    verify: "校验",
    verified: (fetched, removed) => `补取缺失 ${fetched} 条，删除过期 ${removed} 条`,
    refused: "因时钟超前而拒绝",
    refusedCounts: (ours, theirs) => `拒绝其他节点 ${ours} 条，被其他节点拒绝 ${theirs} 条`,
    noConnections: "没有 2.x 客户端连接到本节点。",
    connectionsForAdmins: "只有管理员可以查看本节点的连接。",
    connectionsFailed: (reason) => `无法读取连接：${reason}`,
    publicNamespace: "public",
  },
};
const t = texts(TEXTS);

const CLUSTER_REFRESH_MS = 2000;
/** How a peer is reached, as its protocol is spelled. */
const TRANSPORTS = { grpc: "gRPC", http: "HTTP" };

const percent = (part, whole) => (whole === 0 ? 0 : Math.floor((100 * part) / whole));

/** A label value of the exposition format: `\\`, `\"` and `\n` are its escapes. */
const unescapeLabel = (value) => value.replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));

/**
 * The samples of a Prometheus text exposition: `get(name)` an unlabelled value, `byLabel(name, label)` the
 * values of a labelled family by that label's value (a Map).
 */
export function parseMetrics(text) {
  const samples = new Map();
  for (const line of text.split("\n")) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample === null) continue;
    const labels = new Map();
    for (const [, key, value] of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels.set(key, unescapeLabel(value));
    }
    const family = samples.get(sample[1]) ?? [];
    family.push({ labels, value: Number(sample[3]) });
    samples.set(sample[1], family);
  }
  return {
    has: (name) => samples.has(name),
    get: (name) => samples.get(name)?.find((s) => s.labels.size === 0)?.value,
    byLabel: (name, label) =>
      new Map((samples.get(name) ?? []).filter((s) => s.labels.has(label)).map((s) => [s.labels.get(label), s.value])),
  };
}

/** What this node still has to send a peer, from its metrics; undefined when it replicates to none (standalone). */
function backlogOf(metrics, address) {
  const pending = metrics.byLabel("nacos_distro_peer_sync_pending", "peer").get(address);
  if (pending === undefined) return undefined;
  const failures = metrics.byLabel("nacos_distro_peer_sync_failures", "peer").get(address) ?? 0;
  const words = [pending === 0 ? t("inSync") : t("servicesWaiting", pending)];
  if (failures > 0) words.push(t("failedBatches", failures));
  return { words: words.join(", "), behind: pending > 0 || failures > 0 };
}

function memberRow(member, selfAddress, metrics) {
  const tsNacos = member.extendInfo?.tsNacos;
  const self = member.address === selfAddress;
  const joining = tsNacos !== undefined && !tsNacos.ready;
  const backlog = self ? undefined : backlogOf(metrics, member.address);
  const failedReports = member.failAccessCnt ?? 0;
  return el(
    "tr",
    { "data-member": member.address },
    el("td", {}, member.address, self ? t("thisNode") : ""),
    el("td", { class: member.state === "UP" ? "good" : "bad" }, member.state),
    el("td", { class: joining ? "bad" : "" }, tsNacos === undefined ? "—" : joining ? t("joining") : t("ready")),
    // 2.x client connections the member holds; a member that does not say (Nacos 1.4) shows none.
    el("td", { class: "connections" }, member.connectionCount ?? "—"),
    el("td", {}, self ? "—" : (TRANSPORTS[member.peerTransport] ?? "—")),
    el("td", { class: "last-report" }, self ? "—" : ago(member.extendInfo?.lastRefreshTime)),
    el("td", { class: failedReports > 0 ? "bad" : "" }, failedReports > 0 ? t("failedReports", failedReports) : t("noFailedReports")),
    el("td", { class: backlog?.behind ? "backlog bad" : "backlog" }, backlog?.words ?? "—"),
    el("td", {}, member.extendInfo?.version || "—"),
  );
}

/** The snapshot load of a joining node, then what sync and verify have done (the node's own metrics), in words. */
function progress(metrics) {
  const get = (name) => metrics.get(name) ?? 0;
  const readiness = [t("readiness"), get("nacos_node_ready") === 1 ? t("readyInWords") : t("joiningInWords")];
  // A standalone node runs no Distro and so exports none of its numbers.
  if (!metrics.has("nacos_distro_sync_pending")) return info([readiness, [t("replication"), t("standalone")]]);
  const pending = get("nacos_distro_sync_pending");
  const [loaded, total] = [get("nacos_snapshot_keys_loaded"), get("nacos_snapshot_keys_expected")];
  const resumes = get("nacos_snapshot_resumes_total");
  const snapshot =
    total === 0
      ? t("nothingToLoad")
      : el(
          "span",
          {},
          el("progress", { max: total, value: loaded }),
          " ",
          t("snapshotLoaded", loaded, total, get("nacos_snapshot_instances_loaded"), get("nacos_snapshot_instances_expected")),
          resumes > 0 ? t("resumed", resumes) : "",
        );
  const failed = get("nacos_distro_sync_failed_batches_total");
  return info([
    readiness,
    [t("replication"), pending === 0 ? t("inSyncWithAll") : t("waitingForPeers", pending)],
    [t("snapshot"), snapshot],
    [t("traffic"), t("sentReceived", get("nacos_distro_datums_sent_total"), get("nacos_distro_datums_received_total"))],
    [t("failedSyncs"), failed === 0 ? t("noFailedBatches") : t("retriedBatches", failed)],
    [t("verify"), t("verified", get("nacos_distro_verify_fetched_total"), get("nacos_distro_verify_removed_total"))],
    [t("refused"), t("refusedCounts", get("nacos_distro_refused_ahead_total"), get("nacos_distro_refused_by_peers_total"))],
  ]);
}

/**
 * This node's 2.x client connections (`/v2/core/loader/current`, an administrator's): their list, or a notice
 * in its place when the node refuses it — a refusal here is about this list alone and ends no session.
 */
async function connectionsOf() {
  try {
    return { list: Object.values(JSON.parse(await api("GET", "/nacos/v2/core/loader/current"))).map((c) => c.metaInfo) };
  } catch (err) {
    if (err instanceof Unauthorized) throw err; // the session itself ended: the login, not a notice
    return { notice: err instanceof Forbidden ? t("connectionsForAdmins") : t("connectionsFailed", err.message) };
  }
}

function connectionRow(c) {
  return el(
    "tr",
    { "data-connection": c.connectionId },
    el("td", {}, el("code", {}, c.connectionId)),
    el("td", {}, `${c.clientIp}:${c.remotePort}`),
    el("td", {}, c.version || "—"),
    el("td", { class: "app" }, c.appName || "—"),
    el("td", {}, c.namespaceId || t("publicNamespace")),
    el("td", {}, ago(c.createTime)),
    el("td", {}, metadataList(c.labels)),
  );
}

function paintConnections({ list, notice }) {
  const rows = (list ?? []).map(connectionRow);
  $("connection-rows").replaceChildren(...rows);
  $("connections-table").hidden = rows.length === 0;
  $("connections-notice").textContent = notice ?? (rows.length === 0 ? t("noConnections") : "");
  $("connections-notice").hidden = $("connections-notice").textContent === "";
}

export async function clusterView() {
  const [nodes, self, text, connections] = await Promise.all([
    getJson("/nacos/v1/core/cluster/nodes"),
    getJson("/nacos/v1/core/cluster/self"),
    api("GET", "/nacos/actuator/prometheus"),
    connectionsOf(),
  ]);
  return () => {
    const metrics = parseMetrics(text);
    $("member-rows").replaceChildren(...nodes.data.map((m) => memberRow(m, self.data.address, metrics)));
    paintConnections(connections);
    $("progress").replaceChildren(...progress(metrics));
    show("cluster");
    // A joining node's progress moves by the second: keep the view current while it is open.
    state.refreshTimer = setTimeout(rerender, CLUSTER_REFRESH_MS);
  };
}
