/**
 * What every view of the console shares: the session (token and namespace in sessionStorage), calls to the
 * node, and building the page. Service names, groups and metadata are user input, so every value from the
 * server enters the page as text: el() never parses markup.
 */
import { texts } from "./i18n.js";

export const TEXTS = {
  en: {
    previous: "‹ Previous",
    next: "Next ›",
    page: (page, pages, count) => `Page ${page} of ${pages} · ${count} in all`,
    sessionEnded: (reason) => `Your session ended: ${reason}`,
  },
  zh: {
    previous: "‹ 上一页",
    next: "下一页 ›",
    page: (page, pages, count) => `第 ${page} / ${pages} 页 · 共 ${count} 条`,
    sessionEnded: (reason) => `会话已结束：${reason}`,
  },
};
const t = texts(TEXTS);

export const TOKEN_KEY = "ts-nacos.accessToken";
export const NAMESPACE_KEY = "ts-nacos.namespace";
/** What outlives one view: the services search and page, and the navigation's bookkeeping. */
export const state = {
  search: { name: "", group: "", hideEmpty: true },
  page: 1,
  /** Bumped by every navigation: an answer that arrives for an older one is not painted over the newer. */
  ticket: 0,
  refreshTimer: undefined,
};

let router = () => {};

/** console.js names the function that loads the current view; views call rerender() after a change. */
export function setRouter(route) {
  router = route;
}

export const rerender = () => router();

/** A refusal by the auth layer (1.4 answers 403; 401 is accepted too): the page asks for a login. */
export class Unauthorized extends Error {}

export const $ = (id) => document.getElementById(id);
export const namespaceId = () => sessionStorage.getItem(NAMESPACE_KEY) ?? "";

/** An element with attributes, listeners (`on…`) and children; strings become text nodes, never markup. */
export function el(tag, attrs = {}, ...children) {
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
export async function api(method, path, params = {}) {
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
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${reasonOf(text)}`);
  return text;
}

/** The reason a refusal gives: 1.x answers it as text, 2.x in its Result's `data` (`message` names the code). */
function reasonOf(text) {
  try {
    const { data } = JSON.parse(text);
    if (typeof data === "string" && data !== "") return data;
  } catch {
    // Not JSON: 1.x's text is the reason.
  }
  return text;
}

export const getJson = async (path, params) => JSON.parse(await api("GET", path, params));

export function showError(message) {
  $("error").textContent = message;
  $("error").hidden = message === "";
}

/** Shows a failure; a refusal by the auth layer asks for a login instead (saying why when a session ended). */
export function report(err) {
  if (!(err instanceof Unauthorized)) return showError(err.message);
  const sessionEnded = sessionStorage.getItem(TOKEN_KEY) !== null;
  sessionStorage.removeItem(TOKEN_KEY);
  $("logout").hidden = true;
  showError("");
  $("login-message").textContent = sessionEnded ? t("sessionEnded", err.message) : "";
  show("login");
}

/** Shows one section and marks its tab. */
export function show(id) {
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== id;
  for (const link of document.querySelectorAll("[data-nav]")) {
    const current = link.dataset.nav === id || (id === "service" && link.dataset.nav === "services");
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** `dt`/`dd` pairs; a value may be an element. */
export const info = (pairs) => pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]);

export function metadataList(metadata) {
  const entries = Object.entries(metadata ?? {});
  if (entries.length === 0) return "—";
  return el("ul", { class: "metadata" }, ...entries.map(([k, v]) => el("li", {}, el("code", {}, k), " = ", v)));
}

/** Previous/next buttons around "page x of y"; `go` is called with the page asked for. */
export function pager(page, pageSize, count, go) {
  const pages = Math.max(1, Math.ceil(count / pageSize));
  return [
    el("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1) }, t("previous")),
    el("span", {}, t("page", page, pages, count)),
    el("button", { type: "button", disabled: page >= pages, onclick: () => go(page + 1) }, t("next")),
  ];
}

/** Runs an action started by a click; its failure is shown, not thrown into the void. */
export const guarded = (action) => action().catch(report);
