/**
 * The ts-nacos console: one page, no framework, no build; one module per view (services.js, service.js,
 * namespaces.js, cluster.js, access.js) over lib.js. It calls the HTTP API Nacos 1.4's console calls (login,
 * namespaces, catalog, PUT /v1/ns/instance, cluster nodes, users, roles, permissions) and the node's Prometheus
 * metrics. This module navigates: it picks the view the location names, logs in and out, and switches namespaces.
 */
import { permissionsView, rolesView, usersView, wireAccessForms } from "./access.js";
import { clusterView } from "./cluster.js";
import { chooseLanguage, LANGUAGES, language, texts, translatePage } from "./i18n.js";
import {
  $,
  api,
  el,
  endSession,
  Forbidden,
  forbiddenText,
  NAMESPACE_KEY,
  report,
  setRouter,
  show,
  showError,
  signedIn,
  state,
  TOKEN_KEY,
  USER_KEY,
  Unauthorized,
} from "./lib.js";
import { loadNamespaceSelector, namespacesView, wireNamespaceForm } from "./namespaces.js";
import { TEXTS } from "./page-texts.js";
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

/** The pages the header links to, by the name in the location's hash; `title` names the page's text. */
const VIEWS = {
  services: { nav: "services", title: "navServices", load: servicesView },
  namespaces: { nav: "namespaces", title: "navNamespaces", load: namespacesView },
  cluster: { nav: "cluster", title: "navCluster", load: clusterView },
  users: { nav: "users", title: "navUsers", load: usersView },
  roles: { nav: "roles", title: "navRoles", load: rolesView },
  permissions: { nav: "permissions", title: "navPermissions", load: permissionsView },
};

/** The view the location's hash names: `#/<page>` or `#/service/<group>/<name>`; the services list otherwise. */
function viewOf(hash) {
  const [, view, group, name] = hash.split("/");
  if (view === "service" && group !== undefined && name !== undefined) {
    return { nav: "services", title: "navServices", load: () => serviceView(decodeURIComponent(group), decodeURIComponent(name)) };
  }
  return Object.hasOwn(VIEWS, view ?? "") ? VIEWS[view] : VIEWS.services;
}

/** The header's session controls (who is logged in, log out, access control) show while there is a login. */
function showSession() {
  for (const node of document.querySelectorAll("[data-session]")) node.hidden = !signedIn();
  $("user").textContent = sessionStorage.getItem(USER_KEY) ?? "";
}

/** A page the user may not open: its tab stays marked and the notice takes the page's place; the session goes on. */
function deny(view, err) {
  showError("");
  $("denied-title").textContent = t(view.title);
  $("denied-message").textContent = forbiddenText(err, t("openPage", t(view.title)));
  show("denied", view.nav);
}

/** Loads the current view and paints it unless the user has moved on meanwhile. */
async function route() {
  const ticket = ++state.ticket;
  clearTimeout(state.refreshTimer);
  showSession();
  const view = viewOf(location.hash);
  try {
    const paint = await view.load();
    if (ticket !== state.ticket) return;
    showError("");
    paint();
  } catch (err) {
    if (ticket !== state.ticket) return;
    if (err instanceof Forbidden) deny(view, err);
    else report(err);
  }
}

/**
 * At start, after a login and after a logout: the namespaces, then the view. With auth on and nobody logged in
 * the namespaces are refused too: the selector stays hidden and the login form shows.
 */
async function start() {
  $("namespace-picker").hidden = true;
  try {
    await loadNamespaceSelector();
  } catch (err) {
    if (err instanceof Unauthorized) return report(err);
    showError(err.message);
  }
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
    sessionStorage.setItem(USER_KEY, answer.username);
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
  endSession();
  $("login-message").textContent = "";
  showError("");
  start();
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
wireNamespaceForm();
wireAccessForms();
languageSwitch();
window.addEventListener("hashchange", route);
start();
