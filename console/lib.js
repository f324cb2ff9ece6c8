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
    forbidden: (what, reason) => `You lack the permission to ${what} (${reason})`,
    doThis: "do this",
    cancel: "Cancel",
    never: "never",
    justNow: "just now",
    secondsAgo: (n) => `${n} s ago`,
    minutesAgo: (n) => `${n} min ago`,
    hoursAgo: (n) => `${n} h ago`,
    yes: "Yes",
    no: "No",
  },
  zh: {
    previous: "‹ 上一页",
    next: "下一页 ›",
    page: (page, pages, count) => `第 ${page} / ${pages} 页 · 共 ${count} 条`,
    sessionEnded: (reason) => `会话已结束：${reason}`,
    forbidden: (what, reason) => `您没有权限${what}（${reason}）`,
    doThis: "执行此操作",
    cancel: "取消",
    never: "从未",
    justNow: "刚刚",
    secondsAgo: (n) => `${n} 秒前`,
    minutesAgo: (n) => `${n} 分钟前`,
    hoursAgo: (n) => `${n} 小时前`,
    yes: "确认",
    no: "取消",
  },
};
const t = texts(TEXTS);

export const TOKEN_KEY = "ts-nacos.accessToken";
/** Who logged in (the login's answer), shown in the header. */
export const USER_KEY = "ts-nacos.username";
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

/**
 * The caller is nobody the server knows: no login, or a token it no longer takes (expired, invalid, its user
 * deleted or its password changed). The session is over and the page asks for a login.
 */
export class Unauthorized extends Error {}

/** The caller is known but may not do this (`authorization failed!`): a notice, and the session goes on. */
export class Forbidden extends Error {}

/**
 * Nacos 1.4's AuthFilter answers 403 to every refusal, so the message tells them apart: these four say the
 * server could not tell who calls (src/api/auth/authenticator.ts); any other 403 (`authorization failed!`)
 * refuses a permission. This server never answers 401; a proxy in front may, and it means no login as well.
 */
const NOT_AUTHENTICATED = new Set(["token invalid!", "token expired!", "user not found!", "unknown user!"]);

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
  if (res.status === 401 || (res.status === 403 && NOT_AUTHENTICATED.has(text.trim()))) {
    throw new Unauthorized(text || `${res.status} from ${path}`);
  }
  if (res.status === 403) throw new Forbidden(reasonOf(text) || `403 from ${path}`);
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

/** The banner under the header: a failure, or (`notice`) a permission the user lacks, which is no failure of the page. */
export function showError(message, notice = false) {
  $("error").textContent = message;
  $("error").hidden = message === "";
  $("error").classList.toggle("notice", notice);
}

/** The text of a refused permission: `what` the user tried ("delete namespace dev"), the server's reason. */
export const forbiddenText = (err, what = t("doThis")) => t("forbidden", what, err.message);

export const signedIn = () => sessionStorage.getItem(TOKEN_KEY) !== null;

/**
 * Forgets the login; the header's session controls follow (console.js shows them again after a login), and so
 * does the namespace selector, which the next user's login fills anew.
 */
export function endSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  for (const node of document.querySelectorAll("[data-session]")) node.hidden = true;
  $("namespace-picker").hidden = true;
}

/**
 * Shows a failure of what the user tried (`what`, for a refused permission). A refused permission is a notice
 * and the user stays logged in; only a refused login (Unauthorized) ends the session and asks for one, saying
 * why when a session ended.
 */
export function report(err, what) {
  if (err instanceof Forbidden) return showError(forbiddenText(err, what), true);
  if (!(err instanceof Unauthorized)) return showError(err.message);
  const sessionEnded = signedIn();
  endSession();
  showError("");
  $("login-message").textContent = sessionEnded ? t("sessionEnded", err.message) : "";
  show("login");
}

/** Shows one section and marks its tab (`nav`, when the section is not the tab's own, as the refusal notice). */
export function show(id, nav = id) {
  for (const section of document.querySelectorAll("main > section")) section.hidden = section.id !== id;
  for (const link of document.querySelectorAll("[data-nav]")) {
    const current = link.dataset.nav === nav || (nav === "service" && link.dataset.nav === "services");
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

/** Runs an action started by a click (`what` it does, for a refused permission); its failure is shown, not thrown into the void. */
export const guarded = (action, what) => action().catch((err) => report(err, what));

/**
 * Puts "question Yes No" in place of `holder`'s children (a deletion is not undone; window.confirm would block
 * the page): Yes runs `action` with its button off, No or the end of the action puts the children back.
 */
export function confirmInline(holder, question, action, yesLabel = t("yes"), noLabel = t("no")) {
  const before = [...holder.childNodes];
  const restore = () => holder.replaceChildren(...before);
  const yes = el("button", { type: "button", class: "danger" }, yesLabel);
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    try {
      await action();
    } finally {
      if (holder.isConnected) restore();
    }
  });
  holder.replaceChildren(el("span", { class: "confirm" }, question, " "), yes, el("button", { type: "button", onclick: restore }, noLabel));
  yes.focus();
}

/**
 * A button that asks once more in place before `act`: the `question`, the button again and Cancel. A refused
 * change puts the cell back as it was, the refusal (`what` was tried) shown above.
 */
export function confirmed(label, question, what, act) {
  const button = el("button", { type: "button" }, label);
  button.addEventListener("click", () => confirmInline(button.parentElement, question, () => guarded(act, what), label, t("cancel")));
  return button;
}

/** How long ago a time was, in words; the time itself in the tooltip. */
export function ago(ms) {
  if (!ms) return el("span", {}, t("never"));
  const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
  const words =
    seconds < 1
      ? t("justNow")
      : seconds < 60
        ? t("secondsAgo", seconds)
        : seconds < 3600
          ? t("minutesAgo", Math.floor(seconds / 60))
          : t("hoursAgo", Math.floor(seconds / 3600));
  return el("span", { title: new Date(ms).toLocaleString() }, words);
}
