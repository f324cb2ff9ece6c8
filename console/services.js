/**
 * The services list: search, group filter, hide-empty and paging over the catalog API; a service created
 * (1.4's POST /v1/ns/service) or deleted. Deletion goes through 2.x's DELETE /v2/ns/service, which refuses a
 * service that still holds instances (1.4's, which the client API keeps, would drop them with it).
 */
import { editForm, field, metadataEditor, selectorEditor } from "./editors.js";
import { texts } from "./i18n.js";
import { $, api, confirmInline, el, getJson, guarded, namespaceId, pager, rerender, show, state } from "./lib.js";

export const TEXTS = {
  en: {
    noServices: "No services found",
    createService: "Create service",
    serviceName: "Service name",
    group: "Group",
    protectThreshold: "Protect threshold",
    metadata: "Metadata",
    selector: "Selector",
    delete: "Delete",
    deleteQuestion: (name) => `Delete service ${name}?`,
  },
  zh: {
    noServices: "没有找到服务",
    createService: "创建服务",
    serviceName: "服务名",
    group: "分组",
    protectThreshold: "保护阈值",
    metadata: "元数据",
    selector: "服务路由类型",
    delete: "删除",
    deleteQuestion: (name) => `确定要删除服务 ${name} 吗？`,
  },
};
const t = texts(TEXTS);

const SERVICE_PAGE_SIZE = 10;
const DEFAULT_GROUP = "DEFAULT_GROUP";

export const serviceHref = (group, name) => `#/service/${encodeURIComponent(group)}/${encodeURIComponent(name)}`;

/** The form a service is created with; once the node holds it, its page opens. */
function createForm(holder) {
  const name = el("input", { name: "serviceName", required: true });
  const group = el("input", { name: "groupName", value: DEFAULT_GROUP, required: true });
  const threshold = el("input", { name: "protectThreshold", type: "number", min: 0, max: 1, step: "any", value: 0, required: true });
  const metadata = metadataEditor();
  const selector = selectorEditor();
  const create = () =>
    guarded(async () => {
      const [serviceName, groupName] = [name.value.trim(), group.value.trim()];
      await api("POST", "/nacos/v1/ns/service", {
        serviceName,
        groupName,
        protectThreshold: threshold.value,
        metadata: JSON.stringify(metadata.value()),
        selector: selector.value(),
        namespaceId: namespaceId(),
      });
      location.hash = serviceHref(groupName, serviceName);
    });
  return editForm(
    "create-service",
    [
      field(t("serviceName"), name),
      field(t("group"), group),
      field(t("protectThreshold"), threshold),
      field(t("metadata"), metadata.element),
      field(t("selector"), selector.element),
    ],
    create,
    () => holder.replaceChildren(createButton(holder)),
  );
}

function createButton(holder) {
  return el(
    "button",
    {
      type: "button",
      onclick: () => {
        holder.replaceChildren(createForm(holder));
        holder.querySelector("input").focus();
      },
    },
    t("createService"),
  );
}

function deleteCell(s) {
  const cell = el("td", { class: "actions" });
  const remove = () =>
    guarded(async () => {
      await api("DELETE", "/nacos/v2/ns/service", { serviceName: s.name, groupName: s.groupName, namespaceId: namespaceId() });
      await rerender();
    });
  cell.append(el("button", { type: "button", onclick: () => confirmInline(cell, t("deleteQuestion", s.name), remove) }, t("delete")));
  return cell;
}

export async function servicesView() {
  const { count, serviceList } = await getJson("/nacos/v1/ns/catalog/services", {
    hasIpCount: state.search.hideEmpty,
    withInstances: false,
    pageNo: state.page,
    pageSize: SERVICE_PAGE_SIZE,
    serviceNameParam: state.search.name,
    groupNameParam: state.search.group,
    namespaceId: namespaceId(),
  });
  return () => {
    const rows = serviceList.map((s) =>
      el(
        "tr",
        { "data-service": `${s.groupName}@@${s.name}` },
        el("td", {}, el("a", { href: serviceHref(s.groupName, s.name) }, s.name)),
        el("td", {}, s.groupName),
        el("td", {}, s.clusterCount),
        el("td", {}, s.ipCount),
        el("td", {}, s.healthyInstanceCount),
        deleteCell(s),
      ),
    );
    $("service-rows").replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: 6 }, t("noServices")))]));
    $("service-pager").replaceChildren(
      ...pager(state.page, SERVICE_PAGE_SIZE, count, (page) => {
        state.page = page;
        rerender();
      }),
    );
    const create = $("service-create");
    if (create.querySelector("form") === null) create.replaceChildren(createButton(create));
    show("services");
  };
}
