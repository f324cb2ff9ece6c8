/**
 * The ts-nacos console: one page, no framework, no build. It calls the HTTP API Nacos 1.4's console calls
 * (login, namespaces, catalog, PUT /v1/ns/instance, cluster nodes) and the node's Prometheus metrics.
 * Service names, groups and metadata are user input, so every value from the server enters the page as text:
 * el() below never parses markup.
 */

const TOKEN_KEY = "ts-nacos.accessToken";
const NAMESPACE_KEY = "ts-nacos.namespace";
const SERVICE_PAGE_SIZE = 10;
const INSTANCE_PAGE_SIZE = 50;
const CLUSTER_REFRESH_MS = 2000;

const state = {
  search: { name: "", group: "", hideEmpty: true },
  page: 1,
  /** Bumped by every navigation: an answer that arrives for an older one is not painted over the newer. */
  ticket: 0,
  refreshTimer: undefined,
};

/** A refusal by the auth layer (1.4 answers 403; 401 is accepted too): the page asks for a login. */
class Unauthorized extends Error {}

const $ = (id) => document.getElementById(id);
const namespaceId = () => sessionStorage.getItem(NAMESPACE_KEY) ?? "";

/** An element with attributes, listeners (`on…`) and children; strings become text nodes, never markup. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== false && value !== undefined) node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.map((c) => (c instanceof Node ? c : String(c ?? ""))));
  return node;
}

/**
 * One call to the node. The token travels as the `accessToken` query parameter, as 1.4's console sends it;
 * parameters go in the query for GET and as a form body otherwise. Answers the body text.
 */
async function api(method, path, params = {}) {
  const query = new URLSearchParams();
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) query.set("accessToken", token);
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") (method === "GET" ? query : form).set(key, String(value));
  }
  const search = query.toString();
  const res = await fetch(search === "" ? path : `${path}?${search}`, method === "GET" ? {} : { method, body: form });
  const text = await res.text();
  if (res.status === 401 || res.status === 403) throw new Unauthorized(text || `${res.status} from ${path}`);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text;
}

const getJson = async (path, params) => JSON.parse(await api("GET", path, params));

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = message === "";
}

/** Shows a failure; a refusal by the auth layer asks for a login instead (saying why when a session ended). */
function report(err) {
  if (!(err instanceof Unauthorized)) return showError(err.message);
  const sessionEnded = sessionStorage.getItem(TOKEN_KEY) !== null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("logout").hidden = true;
  showError("");
  $("login-message").textContent = sessionEnded ? `Your session ended: ${err.message}` : "";
  show("login");
}

/** Shows one section and marks its tab. */
function show(id) {
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== id;
  for (const link of document.querySelectorAll("[data-nav]")) {
    const current = link.dataset.nav === id || (id === "service" && link.dataset.nav === "services");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** `dt`/`dd` pairs; a value may be an element. */
const info = (pairs) => pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]);

function metadataList(metadata) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return "—";
  return el("ul", { class: "metadata" }, ...entries.map(([k, v]) => el("li", {}, el("code", {}, k), " = ", v)));
}

/** Previous/next buttons around "page x of y"; `go` is called with the page asked for. */
function pager(page, pageSize, count, go) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  return [
    el("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1) }, "‹ Previous"),
    el("span", {}, `Page ${page} of ${pages} · ${count} in all`),
    el("button", { type: "button", disabled: page >= pages, onclick: () => go(page + 1) }, "Next ›"),
  ];
}

/** Runs an action started by a click; its failure is shown, not thrown into the void. */
const guarded = (action) => action().catch(report);

// ---- Services ----

const serviceHref = (group, name) => `#/service/${encodeURIComponent(group)}/${encodeURIComponent(name)}`;

async function servicesView() {
  const { count, serviceList } = await getJson("/nacos/v1/ns/catalog/services", {
    hasIpCount: state.search.hideEmpty,
    withInstances: false,
    pageNo: state.page,
    pageSize: SERVICE_PAGE_SIZE,
    serviceNameParam: state.search.name,
    groupNameParam: state.search.group,
    namespaceId: namespaceId(),
  });
  const rows = serviceList.map((s) =>
    el(
      "tr",
      {},
      el("td", {}, el("a", { href: serviceHref(s.groupName, s.name) }, s.name)),
      el("td", {}, s.groupName),
      el("td", {}, s.clusterCount),
      el("td", {}, s.ipCount),
      el("td", {}, s.healthyInstanceCount),
    ),
  );
  return () => {
    $("service-rows").replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: 5 }, "No services found"))]));
    $("service-pager").replaceChildren(
      ...pager(state.page, SERVICE_PAGE_SIZE, count, (page) => {
        state.page = page;
        route();
      }),
    );
    show("services");
  };
}

// ---- One service: its clusters and their instances ----

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

async function serviceView(group, name) {
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

// ---- Cluster members and this node's replication ----

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

async function clusterView() {
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
    state.refreshTimer = setTimeout(route, CLUSTER_REFRESH_MS);
  };
}

// ---- Navigation ----

/** The view the location's hash names: `#/services`, `#/service/<group>/<name>`, `#/cluster`. */
function viewOf(hash) {
  const [, view, group, name] = hash.split("/");
  if (view === "service" && group !== undefined && name !== undefined) {
    return () => serviceView(decodeURIComponent(group), decodeURIComponent(name));
  }
  return view === "cluster" ? clusterView : servicesView;
}

/** Loads the current view and paints it unless the user has moved on meanwhile. */
async function route() {
  const ticket = ++state.ticket;
  clearTimeout(state.refreshTimer);
  $("logout").hidden = !sessionStorage.getItem(TOKEN_KEY);
  try {
    const paint = await viewOf(location.hash)();
    if (ticket !== state.ticket) return;
    showError("");
    paint();
  } catch (err) {
    if (ticket === state.ticket) report(err);
  }
}

async function loadNamespaces() {
  const { data } = await getJson("/nacos/v1/console/namespaces");
  const current = namespaceId();
  $("namespace").replaceChildren(
    ...data.map((ns) => el("option", { value: ns.namespace, selected: ns.namespace === current }, ns.namespaceShowName || ns.namespace)),
  );
}

/** After a login or at start: the namespaces (they may need the token too), then the view. */
async function start() {
  await loadNamespaces().catch(report);
  await route();
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const login = async () => {
    const answer = JSON.parse(
      await api("POST", "/nacos/v1/auth/users/login", { username: form.get("username"), password: form.get("password") }),
    );
    sessionStorage.setItem(TOKEN_KEY, answer.accessToken);
    event.target.reset();
    $("login-message").textContent = "";
    await start();
  };
  login().catch((err) => {
    if (err instanceof Unauthorized) $("login-message").textContent = `Login failed: ${err.message}`;
    else showError(err.message);
  });
});

$("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  route();
});

$("namespace").addEventListener("change", (event) => {
  sessionStorage.setItem(NAMESPACE_KEY, event.target.value);
  state.page = 1;
  if (location.hash === "#/services") route();
  else location.hash = "#/services";
});

$("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.search = { name: $("search-name").value.trim(), group: $("search-group").value.trim(), hideEmpty: $("hide-empty").checked };
  state.page = 1;
  route();
});

window.addEventListener("hashchange", route);
start();
