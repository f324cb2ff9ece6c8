/** The services list: search, group filter, hide-empty and paging over the catalog API. */
import { $, el, getJson, namespaceId, pager, rerender, show, state } from "./lib.js";

const SERVICE_PAGE_SIZE = 10;

export const serviceHref = (group, name) => `#/service/${encodeURIComponent(group)}/${encodeURIComponent(name)}`;

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
        rerender();
      }),
    );
    show("services");
  };
}
