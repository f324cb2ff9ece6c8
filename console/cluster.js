/** The cluster: its members as this node sees them, and this node's replication (its own metrics). */
import { $, api, el, getJson, info, rerender, show, state } from "./lib.js";

const CLUSTER_REFRESH_MS = 2000;

/** Unlabelled samples of a Prometheus text exposition: name → value. */
function metrics(text) {
  const values = new Map();
  for (const line of text.split("\n")) {
    const sample = /^([a-z_]+) (\S+)$/.exec(line);
    if (sample !== null) values.set(sample[1], Number(sample[2]));
  }
  return values;
}

function ago(ms) {
  if (!ms) return "never";
  return `${new Date(ms).toLocaleTimeString()} (${Math.max(0, Math.round((Date.now() - ms) / 1000))} s ago)`;
}

function memberRow(member, selfAddress) {
  const tsNacos = member.extendInfo?.tsNacos;
  const self = member.address === selfAddress;
  const readiness = tsNacos === undefined ? "—" : tsNacos.ready ? "ready" : "joining";
  return el(
    "tr",
    { "data-member": member.address },
    el("td", {}, member.address, self ? " (this node)" : ""),
    el("td", { class: member.state === "UP" ? "good" : "bad" }, member.state),
    el("td", { class: readiness === "joining" ? "bad" : "" }, readiness),
    // 2.x client connections the member holds; a member that does not say (Nacos 1.4) shows none.
    el("td", { class: "connections" }, member.connectionCount ?? "—"),
    el("td", {}, self ? "—" : (member.peerTransport ?? "—")),
    el("td", {}, ago(member.extendInfo?.lastRefreshTime)),
    el("td", {}, member.failAccessCnt),
    el("td", {}, member.extendInfo?.version || "—"),
  );
}

/** The snapshot load of a joining node, then what sync and verify have done (the node's own metrics). */
function progress(values) {
  const get = (name) => values.get(name) ?? "—";
  const loaded = values.get("nacos_snapshot_keys_loaded") ?? 0;
  const total = values.get("nacos_snapshot_keys_expected") ?? 0;
  const bar = el("progress", { max: Math.max(total, 1), value: total === 0 ? 0 : loaded });
  const readiness = ["Readiness", values.get("nacos_node_ready") === 1 ? "ready" : "joining (loading the snapshot)"];
  // A standalone node runs no Distro and so exports none of its numbers.
  if (!values.has("nacos_distro_sync_pending")) return info([readiness, ["Replication", "none (standalone)"]]);
  return info([
    readiness,
    ["Snapshot keys", el("span", {}, bar, ` ${loaded} of ${total}`)],
    ["Snapshot instances", `${get("nacos_snapshot_instances_loaded")} of ${get("nacos_snapshot_instances_expected")}`],
    ["Snapshot resumes", get("nacos_snapshot_resumes_total")],
    ["Sync tasks pending", get("nacos_distro_sync_pending")],
    ["Datums sent / received", `${get("nacos_distro_datums_sent_total")} / ${get("nacos_distro_datums_received_total")}`],
    ["Failed sync batches", get("nacos_distro_sync_failed_batches_total")],
    ["Verify: fetched / removed", `${get("nacos_distro_verify_fetched_total")} / ${get("nacos_distro_verify_removed_total")}`],
  ]);
}

export async function clusterView() {
  const [nodes, self, text] = await Promise.all([
    getJson("/nacos/v1/core/cluster/nodes"),
    getJson("/nacos/v1/core/cluster/self"),
    api("GET", "/nacos/actuator/prometheus"),
  ]);
  return () => {
    $("member-rows").replaceChildren(...nodes.data.map((m) => memberRow(m, self.data.address)));
    $("progress").replaceChildren(...progress(metrics(text)));
    show("cluster");
    // A joining node's progress moves by the second: keep the view current while it is open.
    state.refreshTimer = setTimeout(rerender, CLUSTER_REFRESH_MS);
  };
}
