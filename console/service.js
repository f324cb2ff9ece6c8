/** One service: its settings, its clusters and their instances (enable/disable, weight). */
import { $, api, el, getJson, guarded, info, metadataList, namespaceId, pager, show } from "./lib.js";

const INSTANCE_PAGE_SIZE = 50;

/** The whole instance, as 1.4's console sends it, so an update changes only what the operator changed. */
const instanceParams = (service, instance, changes) => ({
  serviceName: service.name,
  groupName: service.group,
  clusterName: instance.clusterName,
  ip: instance.ip,
  port: instance.port,
  ephemeral: instance.ephemeral,
  weight: instance.weight,
  enabled: instance.enabled,
  metadata: JSON.stringify(instance.metadata ?? {}),
  namespaceId: namespaceId(),
  ...changes,
});

/** Turns the weight cell into a small form; Save sends the new weight, Cancel puts the value back. */
function editWeight(cell, weight, save) {
  const input = el("input", { type: "number", min: 0, max: 10000, step: "any", value: weight, "aria-label": "Weight", required: true });
  const cancel = el("button", { type: "button", onclick: () => cell.replaceChildren(String(weight)) }, "Cancel");
  const submit = (event) => {
    event.preventDefault();
    save(input.value);
  };
  cell.replaceChildren(el("form", { class: "inline", onsubmit: submit }, input, el("button", { type: "submit" }, "Save"), cancel));
  input.focus();
}

function instanceRow(service, instance, reload) {
  const update = (changes) =>
    guarded(async () => {
      await api("PUT", "/nacos/v1/ns/instance", instanceParams(service, instance, changes));
      await reload();
    });
  const weightCell = el("td", { class: "weight" }, instance.weight);
  const address = `${instance.ip}:${instance.port}`;
  return el(
    "tr",
    { "data-instance": address },
    el("td", {}, address),
    el("td", {}, instance.ephemeral ? "ephemeral" : "persistent"),
    weightCell,
    el("td", { class: instance.healthy ? "good" : "bad" }, instance.healthy ? "healthy" : "unhealthy"),
    el("td", { class: instance.enabled ? "" : "bad" }, instance.enabled ? "enabled" : "disabled"),
    el("td", {}, metadataList(instance.metadata)),
    el(
      "td",
      { class: "actions" },
      el("button", { type: "button", onclick: () => update({ enabled: !instance.enabled }) }, instance.enabled ? "Disable" : "Enable"),
      el(
        "button",
        { type: "button", onclick: () => editWeight(weightCell, instance.weight, (weight) => update({ weight })) },
        "Edit weight",
      ),
    ),
  );
}

const INSTANCE_HEADER = ["Instance", "Kind", "Weight", "Health", "Enabled", "Metadata", "Actions"];

/** A cluster's section, which pages and reloads its own instance table. */
async function clusterSection(service, cluster) {
  const rows = el("tbody");
  const pages = el("div", { class: "pager" });
  const load = async (page) => {
    const { list, count } = await getJson("/nacos/v1/ns/catalog/instances", {
      serviceName: service.name,
      groupName: service.group,
      clusterName: cluster.name,
      pageNo: page,
      pageSize: INSTANCE_PAGE_SIZE,
      namespaceId: namespaceId(),
    });
    rows.replaceChildren(...list.map((i) => instanceRow(service, i, () => load(page))));
    pages.replaceChildren(...pager(page, INSTANCE_PAGE_SIZE, count, (p) => guarded(() => load(p))));
  };
  await load(1);
  const checker = cluster.healthChecker?.type ?? "none";
  return el(
    "section",
    { class: "cluster", "data-cluster": cluster.name },
    el("h3", {}, `Cluster ${cluster.name}`),
    el(
      "dl",
      { class: "info" },
      ...info([
        ["Health check", checker],
        ["Metadata", metadataList(cluster.metadata)],
      ]),
    ),
    el("table", {}, el("thead", {}, el("tr", {}, ...INSTANCE_HEADER.map((h) => el("th", {}, h)))), rows),
    pages,
  );
}

export async function serviceView(group, name) {
  const service = { group, name };
  const detail = await getJson("/nacos/v1/ns/catalog/service", { serviceName: name, groupName: group, namespaceId: namespaceId() });
  const sections = await Promise.all(detail.clusters.map((c) => clusterSection(service, c)));
  return () => {
    $("service-title").textContent = name;
    $("service-info").replaceChildren(
      ...info([
        ["Group", group],
        ["Protect threshold", detail.service.protectThreshold],
        ["Selector", detail.service.selector?.type ?? "none"],
        ["Metadata", metadataList(detail.service.metadata)],
      ]),
    );
    $("clusters").replaceChildren(...(sections.length > 0 ? sections : [el("p", {}, "No clusters")]));
    show("service");
  };
}
