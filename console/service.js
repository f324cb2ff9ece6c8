/**
 * One service: its settings (protect threshold, metadata, selector; PUT /v1/ns/service), its clusters (health
 * checker, check port, metadata; PUT /v1/ns/cluster) and their instances (enable/disable, weight, metadata;
 * PUT /v1/ns/instance; a persistent one removed with DELETE /v1/ns/instance), and its subscribers.
 *
 * Every write is followed by a reload of the whole view through the router, whose ticket drops any answer of an
 * older load: what is painted after an action is what the server holds once the write has been answered.
 */
import { editForm, field, metadataEditor, selectorEditor } from "./editors.js";
import { texts } from "./i18n.js";
import { $, ago, api, confirmInline, el, getJson, guarded, info, metadataList, namespaceId, pager, rerender, show } from "./lib.js";

export const TEXTS = {
  en: {
    group: "Group",
    protectThreshold: "Protect threshold",
    selector: "Selector",
    metadata: "Metadata",
    editService: "Edit service",
    cluster: (name) => `Cluster ${name}`,
    noClusters: "No clusters",
    healthCheck: "Health check",
    checkPort: "Check port",
    useInstancePort: "Use the instance's port",
    checkType: "Health check type",
    checkPath: "Path",
    checkHeaders: "Headers (name:value|name:value)",
    expectedCode: "Expected response code",
    editCluster: "Edit cluster",
    yes: "yes",
    no: "no",
    colInstance: "Instance",
    colKind: "Kind",
    colWeight: "Weight",
    colHealth: "Health",
    colEnabled: "Enabled",
    colMetadata: "Metadata",
    colActions: "Actions",
    ephemeral: "ephemeral",
    persistent: "persistent",
    healthy: "healthy",
    unhealthy: "unhealthy",
    enabled: "enabled",
    disabled: "disabled",
    enable: "Enable",
    disable: "Disable",
    editWeight: "Edit weight",
    weight: "Weight",
    editMetadata: "Edit metadata",
    remove: "Remove",
    removeQuestion: "Remove?",
    subscribers: "Subscribers",
    noSubscribers: "No subscribers",
    colAddress: "Address",
    colAgent: "Client",
    colApp: "Application",
    colLastSeen: "Last seen",
    connected: "connected (2.x)",
  },
  zh: {
    group: "分组",
    protectThreshold: "保护阈值",
    selector: "服务路由类型",
    metadata: "元数据",
    editService: "编辑服务",
    cluster: (name) => `集群 ${name}`,
    noClusters: "没有集群",
    healthCheck: "健康检查",
    checkPort: "检查端口",
    useInstancePort: "使用IP端口检查",
    checkType: "检查类型",
    checkPath: "检查路径",
    checkHeaders: "检查头（name:value|name:value）",
    expectedCode: "期望响应码",
    editCluster: "编辑集群",
    yes: "是",
    no: "否",
    colInstance: "实例",
    colKind: "类型",
    colWeight: "权重",
    colHealth: "健康状态",
    colEnabled: "上线状态",
    colMetadata: "元数据",
    colActions: "操作",
    ephemeral: "临时实例",
    persistent: "持久实例",
    healthy: "健康",
    unhealthy: "不健康",
    enabled: "已上线",
    disabled: "已下线",
    enable: "上线",
    disable: "下线",
    editWeight: "编辑权重",
    weight: "权重",
    editMetadata: "编辑元数据",
    remove: "删除",
    removeQuestion: "确定删除？",
    subscribers: "订阅者列表",
    noSubscribers: "没有订阅者",
    colAddress: "地址",
    colAgent: "客户端版本",
    colApp: "应用名",
    colLastSeen: "最近一次",
    connected: "已连接 (2.x)",
  },
};
const t = texts(TEXTS);

const INSTANCE_PAGE_SIZE = 50;
const SUBSCRIBER_PAGE_SIZE = 10;
const CHECK_TYPES = ["TCP", "HTTP", "NONE"];

/** The pages shown of the open service (its clusters' and its subscribers'); another service starts at 1. */
let pages = { of: "", clusters: new Map(), subscribers: 1 };

function pagesOf(service) {
  const of = JSON.stringify([namespaceId(), service.group, service.name]);
  if (pages.of !== of) pages = { of, clusters: new Map(), subscribers: 1 };
  return pages;
}

/** Runs a write started by `button`, then shows what the server holds; a refusal is shown and changes nothing. */
function write(button, method, path, params) {
  if (button !== undefined) button.disabled = true;
  return guarded(async () => {
    try {
      await api(method, path, params);
    } finally {
      if (button !== undefined) button.disabled = false;
    }
    await rerender();
  });
}

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

/** Puts a form in `cell`; Cancel puts back what the cell showed. */
function editInCell(cell, className, fields, save) {
  const before = [...cell.childNodes];
  const form = editForm(
    className,
    fields,
    () => save(form.querySelector("button[type=submit]")),
    () => cell.replaceChildren(...before),
  );
  cell.replaceChildren(form);
  form.querySelector("input")?.focus();
}

function instanceRow(service, instance) {
  const update = (button, changes) => write(button, "PUT", "/nacos/v1/ns/instance", instanceParams(service, instance, changes));
  const weightCell = el("td", { class: "weight" }, instance.weight);
  const metadataCell = el("td", { class: "instance-metadata" }, metadataList(instance.metadata));
  const actions = el("td", { class: "actions" });
  const editWeight = () => {
    const input = el("input", {
      type: "number",
      min: 0,
      max: 10000,
      step: "any",
      value: instance.weight,
      "aria-label": t("weight"),
      required: true,
    });
    editInCell(weightCell, "inline", [input], (button) => update(button, { weight: input.value }));
  };
  const editMetadata = () => {
    const editor = metadataEditor(instance.metadata);
    editInCell(metadataCell, "metadata-form", [editor.element], (button) => update(button, { metadata: JSON.stringify(editor.value()) }));
  };
  // confirmInline keeps its Yes button off while the removal runs.
  const remove = () =>
    write(undefined, "DELETE", "/nacos/v1/ns/instance", {
      serviceName: service.name,
      groupName: service.group,
      clusterName: instance.clusterName,
      ip: instance.ip,
      port: instance.port,
      ephemeral: false,
      namespaceId: namespaceId(),
    });
  actions.append(
    el(
      "button",
      { type: "button", onclick: (e) => update(e.currentTarget, { enabled: !instance.enabled }) },
      t(instance.enabled ? "disable" : "enable"),
    ),
    el("button", { type: "button", onclick: editWeight }, t("editWeight")),
    el("button", { type: "button", onclick: editMetadata }, t("editMetadata")),
  );
  // An ephemeral instance is its client's to remove: it would beat itself back in.
  if (!instance.ephemeral) {
    actions.append(
      el("button", { type: "button", class: "danger", onclick: () => confirmInline(actions, t("removeQuestion"), remove) }, t("remove")),
    );
  }
  const address = `${instance.ip}:${instance.port}`;
  return el(
    "tr",
    { "data-instance": address },
    el("td", {}, address),
    el("td", { class: "kind" }, t(instance.ephemeral ? "ephemeral" : "persistent")),
    weightCell,
    el("td", { class: instance.healthy ? "good" : "bad" }, t(instance.healthy ? "healthy" : "unhealthy")),
    el("td", { class: instance.enabled ? "enabled" : "enabled bad" }, t(instance.enabled ? "enabled" : "disabled")),
    metadataCell,
    actions,
  );
}

/** The health checker as a person reads it: its type, and for HTTP where it asks and what it expects. */
function checkerText(checker) {
  if (checker?.type !== "HTTP") return checker?.type ?? "TCP";
  const headers = checker.headers === "" ? "" : ` [${checker.headers}]`;
  return `HTTP ${checker.path || "/"}${headers} → ${checker.expectedResponseCode}`;
}

/** The cluster's settings form: checker type (HTTP's path, headers and code shown only for HTTP), ports, metadata. */
function clusterForm(service, cluster, holder) {
  const checker = cluster.healthChecker ?? { type: "TCP" };
  const http = checker.type === "HTTP" ? checker : { path: "", headers: "", expectedResponseCode: 200 };
  const type = el("select", { name: "checkType" }, ...CHECK_TYPES.map((c) => el("option", { value: c, selected: c === checker.type }, c)));
  const path = el("input", { name: "path", value: http.path });
  const headers = el("input", { name: "headers", value: http.headers });
  const code = el("input", { name: "expectedResponseCode", type: "number", min: 100, max: 599, value: http.expectedResponseCode });
  const httpFields = el(
    "div",
    { class: "http-fields", hidden: checker.type !== "HTTP" },
    field(t("checkPath"), path),
    field(t("checkHeaders"), headers),
    field(t("expectedCode"), code),
  );
  type.addEventListener("change", () => (httpFields.hidden = type.value !== "HTTP"));
  const checkPort = el("input", { name: "checkPort", type: "number", min: 0, max: 65535, value: cluster.defaultCheckPort, required: true });
  const useInstancePort = el("input", { name: "useInstancePort4Check", type: "checkbox", checked: cluster.useIPPort4Check });
  const metadata = metadataEditor(cluster.metadata);
  const healthChecker = () =>
    type.value === "HTTP"
      ? { type: "HTTP", path: path.value, headers: headers.value, expectedResponseCode: Number(code.value) }
      : { type: type.value };
  const before = [...holder.childNodes];
  const form = editForm(
    "cluster-form",
    [
      field(t("checkType"), type),
      httpFields,
      field(t("checkPort"), checkPort),
      field(t("useInstancePort"), useInstancePort),
      field(t("metadata"), metadata.element),
    ],
    () =>
      write(form.querySelector("button[type=submit]"), "PUT", "/nacos/v1/ns/cluster", {
        serviceName: service.name,
        groupName: service.group,
        clusterName: cluster.name,
        healthChecker: JSON.stringify(healthChecker()),
        checkPort: checkPort.value,
        useInstancePort4Check: useInstancePort.checked,
        metadata: JSON.stringify(metadata.value()),
        namespaceId: namespaceId(),
      }),
    () => holder.replaceChildren(...before),
  );
  holder.replaceChildren(form);
}

const INSTANCE_HEADER = ["colInstance", "colKind", "colWeight", "colHealth", "colEnabled", "colMetadata", "colActions"];

/** Loads one page of a cluster's instances and answers the painter of the cluster's section. */
async function clusterSection(service, cluster) {
  const shown = pagesOf(service).clusters;
  const page = shown.get(cluster.name) ?? 1;
  const { list, count } = await getJson("/nacos/v1/ns/catalog/instances", {
    serviceName: service.name,
    groupName: service.group,
    clusterName: cluster.name,
    pageNo: page,
    pageSize: INSTANCE_PAGE_SIZE,
    namespaceId: namespaceId(),
  });
  return () => {
    const settings = el(
      "dl",
      { class: "info" },
      ...info([
        [t("healthCheck"), checkerText(cluster.healthChecker)],
        [t("checkPort"), cluster.defaultCheckPort],
        [t("useInstancePort"), t(cluster.useIPPort4Check ? "yes" : "no")],
        [t("metadata"), metadataList(cluster.metadata)],
      ]),
    );
    const holder = el("div", { class: "cluster-settings" }, settings);
    holder.append(el("button", { type: "button", onclick: () => clusterForm(service, cluster, holder) }, t("editCluster")));
    const go = (p) => {
      shown.set(cluster.name, p);
      rerender();
    };
    return el(
      "section",
      { class: "cluster", "data-cluster": cluster.name },
      el("h3", {}, t("cluster", cluster.name)),
      holder,
      el(
        "table",
        {},
        el("thead", {}, el("tr", {}, ...INSTANCE_HEADER.map((h) => el("th", {}, t(h))))),
        el("tbody", {}, ...list.map((i) => instanceRow(service, i))),
      ),
      el("div", { class: "pager" }, ...pager(page, INSTANCE_PAGE_SIZE, count, go)),
    );
  };
}

/** The service's settings and the form that edits them. */
function serviceSettings(service, detail) {
  const holder = $("service-info");
  const editor = () => {
    const threshold = el("input", {
      name: "protectThreshold",
      type: "number",
      min: 0,
      max: 1,
      step: "any",
      value: detail.protectThreshold,
      required: true,
    });
    const metadata = metadataEditor(detail.metadata);
    const selector = selectorEditor(detail.selector);
    const form = editForm(
      "service-form",
      [field(t("protectThreshold"), threshold), field(t("metadata"), metadata.element), field(t("selector"), selector.element)],
      () =>
        write(form.querySelector("button[type=submit]"), "PUT", "/nacos/v1/ns/service", {
          serviceName: service.name,
          groupName: service.group,
          protectThreshold: threshold.value,
          metadata: JSON.stringify(metadata.value()),
          selector: selector.value(),
          namespaceId: namespaceId(),
        }),
      paint,
    );
    holder.replaceChildren(form);
    threshold.focus();
  };
  const selector = detail.selector?.type === "label" ? `label: ${detail.selector.expression}` : (detail.selector?.type ?? "none");
  function paint() {
    holder.replaceChildren(
      el(
        "dl",
        { class: "info" },
        ...info([
          [t("group"), service.group],
          [t("protectThreshold"), detail.protectThreshold],
          [t("selector"), selector],
          [t("metadata"), metadataList(detail.metadata)],
        ]),
      ),
      el("button", { type: "button", onclick: editor }, t("editService")),
    );
  }
  paint();
}

/** The clients subscribed to the service (1.x's UDP push subscribers and 2.x connections), a page at a time. */
async function subscribersSection(service) {
  const shown = pagesOf(service);
  const { subscribers, count } = await getJson("/nacos/v1/ns/service/subscribers", {
    serviceName: service.name,
    groupName: service.group,
    pageNo: shown.subscribers,
    pageSize: SUBSCRIBER_PAGE_SIZE,
    namespaceId: namespaceId(),
  });
  return () => {
    const rows = subscribers.map((s) =>
      el(
        "tr",
        { "data-subscriber": s.addrStr },
        el("td", {}, s.addrStr),
        el("td", {}, s.agent),
        el("td", {}, s.app),
        // A 1.x client is there while it polls; a 2.x client while its connection lasts.
        el("td", { class: "last-seen" }, s.lastPollTime === undefined ? t("connected") : ago(s.lastPollTime)),
      ),
    );
    const go = (p) => {
      shown.subscribers = p;
      rerender();
    };
    return [
      el("h3", {}, t("subscribers")),
      el(
        "table",
        {},
        el("thead", {}, el("tr", {}, ...["colAddress", "colAgent", "colApp", "colLastSeen"].map((h) => el("th", {}, t(h))))),
        el("tbody", { id: "subscriber-rows" }, ...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: 4 }, t("noSubscribers")))])),
      ),
      el("div", { class: "pager", id: "subscriber-pager" }, ...pager(shown.subscribers, SUBSCRIBER_PAGE_SIZE, count, go)),
    ];
  };
}

export async function serviceView(group, name) {
  const service = { group, name };
  const detail = await getJson("/nacos/v1/ns/catalog/service", { serviceName: name, groupName: group, namespaceId: namespaceId() });
  const [subscribers, ...sections] = await Promise.all([
    subscribersSection(service),
    ...detail.clusters.map((c) => clusterSection(service, c)),
  ]);
  return () => {
    $("service-title").textContent = name;
    serviceSettings(service, detail.service);
    $("clusters").replaceChildren(...(sections.length > 0 ? sections.map((paint) => paint()) : [el("p", {}, t("noClusters"))]));
    $("subscribers").replaceChildren(...subscribers());
    show("service");
  };
}
