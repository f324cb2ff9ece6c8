/**
 * The ts-nacos console: one page, no framework, no build; one module per view (services.js, service.js,
 * cluster.js) over lib.js. It calls the HTTP API Nacos 1.4's console calls (login, namespaces, catalog,
 * PUT /v1/ns/instance, cluster nodes) and the node's Prometheus metrics. This module navigates: it picks the
 * view the location names, logs in and out, and switches namespaces.
 */
import { clusterView } from "./cluster.js";
import { chooseLanguage, LANGUAGES, language, texts, translatePage } from "./i18n.js";
import { TEXTS } from "./page-texts.js";
import { $, el, getJson, NAMESPACE_KEY, namespaceId, report, setRouter, showError, state, TOKEN_KEY, Unauthorized, api } from "./lib.js";
import { serviceView } from "./service.js";
import { servicesView } from "./services.js";

const t = texts(TEXTS);

/** The language switch: the languages the console speaks, each in its own name; a choice repaints the page. */
function languageSwitch() {
  const current = language();
  $("language").replaceChildren(
    ...Object.entries(LANGUAGES).map(([lang, name]) => el("option", { value: lang, selected: lang === current }, name)),
  );
  $("language").addEventListener("change", (event) => {
    chooseLanguage(event.target.value);
    translatePage(t);
    route();
  });
  translatePage(t);
}

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
    if (err instanceof Unauthorized) $("login-message").textContent = t("loginFailed", err.message);
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

setRouter(route);
languageSwitch();
window.addEventListener("hashchange", route);
start();
