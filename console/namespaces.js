/**
 * Namespaces: the header's selector and the namespaces page (list with counts, create, edit, delete) over
 * Nacos 1.4's `/v1/console/namespaces`. The server's rules and messages are the page's: it refuses changing or
 * deleting public, a taken or malformed id, and the console shows its answer as it is.
 */
import { texts } from "./i18n.js";
import { editForm } from "./editors.js";
import { $, api, confirmed, el, Forbidden, getJson, guarded, NAMESPACE_KEY, namespaceId, rerender, show } from "./lib.js";

export const TEXTS = {
  en: {
    edit: "Edit",
    delete: "Delete",
    name: "Name",
    description: "Description",
    confirmDelete: (name) => `Delete namespace “${name}”? Its services stay.`,
    createWhat: (name) => `create namespace “${name}”`,
    editWhat: (name) => `edit namespace “${name}”`,
    deleteWhat: (name) => `delete namespace “${name}”`,
    countUnknown: "—",
    atLeast: (n) => `${n}+`,
  },
  zh: {
    edit: "编辑",
    delete: "删除",
    name: "命名空间名",
    description: "描述",
    confirmDelete: (name) => `删除命名空间“${name}”？其中的服务保留。`,
    createWhat: (name) => `新建命名空间“${name}”`,
    editWhat: (name) => `编辑命名空间“${name}”`,
    deleteWhat: (name) => `删除命名空间“${name}”`,
    countUnknown: "—",
    atLeast: (n) => `${n}+`,
  },
};
const t = texts(TEXTS);

const PATH = "/nacos/v1/console/namespaces";
/** The catalog's largest page: one call per namespace counts its services and (up to this many) their instances. */
const COUNT_PAGE_SIZE = 1000;

/** 1.4 lists public as the empty id; the API's changes name it `public`, so refusals carry its message. */
const idOf = (ns) => ns.namespace || "public";

/**
 * Fills the header's selector from the server. When the chosen namespace is gone (deleted meanwhile, or
 * another user's), the choice falls back to public.
 */
export async function loadNamespaceSelector() {
  const { data } = await getJson(PATH);
  if (!data.some((ns) => ns.namespace === namespaceId())) sessionStorage.setItem(NAMESPACE_KEY, "");
  const current = namespaceId();
  $("namespace").replaceChildren(
    ...data.map((ns) => el("option", { value: ns.namespace, selected: ns.namespace === current }, ns.namespaceShowName || ns.namespace)),
  );
  $("namespace-picker").hidden = false;
}

/** A namespace's services and instances as the catalog counts them; unknown to a user who may not read it. */
async function countsOf(ns) {
  try {
    const { count, serviceList } = await getJson("/nacos/v1/ns/catalog/services", {
      pageNo: 1,
      pageSize: COUNT_PAGE_SIZE,
      hasIpCount: false,
      namespaceId: idOf(ns),
    });
    const instances = serviceList.reduce((sum, s) => sum + s.ipCount, 0);
    return { services: count, instances: count > serviceList.length ? t("atLeast", instances) : instances };
  } catch (err) {
    if (err instanceof Forbidden) return { services: t("countUnknown"), instances: t("countUnknown") };
    throw err;
  }
}

/** After a change: the list and the header's selector both follow the server. */
async function changed() {
  await loadNamespaceSelector();
  rerender();
}

/** Turns a row into a small form for the name and description (the list carries no description: ask for it). */
async function editRow(row, ns) {
  const detail = await getJson(PATH, { show: "all", namespaceId: idOf(ns) });
  const name = el("input", { name: "name", value: detail.namespaceShowName, required: true, "aria-label": t("name") });
  const desc = el("input", { name: "desc", value: detail.namespaceDesc ?? "", "aria-label": t("description") });
  const save = () =>
    guarded(
      async () => {
        await api("PUT", PATH, { namespace: idOf(ns), namespaceShowName: name.value, namespaceDesc: desc.value });
        await changed();
      },
      t("editWhat", ns.namespaceShowName),
    );
  row.replaceChildren(el("td", { colspan: 6 }, editForm("inline", [name, desc], save, rerender)));
  name.focus();
}

function namespaceRow(ns, counts) {
  const actions = el("td", { class: "actions" });
  const row = el(
    "tr",
    { "data-namespace": idOf(ns) },
    el("td", {}, ns.namespaceShowName),
    el("td", {}, idOf(ns)),
    el("td", {}, counts.services),
    el("td", {}, counts.instances),
    el("td", {}, `${ns.configCount} / ${ns.quota}`),
    actions,
  );
  actions.append(
    el("button", { type: "button", onclick: () => guarded(() => editRow(row, ns)) }, t("edit")),
    confirmed(t("delete"), t("confirmDelete", ns.namespaceShowName), t("deleteWhat", ns.namespaceShowName), async () => {
      await api("DELETE", PATH, { namespaceId: idOf(ns) });
      await changed();
    }),
  );
  return row;
}

export async function namespacesView() {
  const { data } = await getJson(PATH);
  const counts = await Promise.all(data.map(countsOf));
  return () => {
    $("namespace-rows").replaceChildren(...data.map((ns, i) => namespaceRow(ns, counts[i])));
    show("namespaces");
  };
}

/** The create form of the namespaces page (console.js wires it once, when the page loads). */
export function wireNamespaceForm() {
  $("namespace-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const fields = new FormData(form);
    const name = String(fields.get("name"));
    guarded(
      async () => {
        await api("POST", PATH, { customNamespaceId: fields.get("id"), namespaceName: name, namespaceDesc: fields.get("desc") });
        form.reset();
        await changed();
      },
      t("createWhat", name),
    );
  });
}
