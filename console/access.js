/**
 * Access control when auth is on, over Nacos 1.4's `/v1/auth/users`, `/roles` and `/permissions`: users
 * (create, change a password, delete), roles (bind to a user, unbind) and permissions (grant a resource and
 * action to a role, revoke), each list paged by the server. The server lets only administrators in; anyone
 * else gets its refusal as a notice (lib.js report).
 */
import { editForm } from "./editors.js";
import { texts } from "./i18n.js";
import { $, api, confirmed, el, getJson, guarded, pager, rerender, show } from "./lib.js";

export const TEXTS = {
  en: {
    username: "Username",
    password: "Password",
    createUser: "Create user",
    changePassword: "Change password",
    newPassword: "New password",
    delete: "Delete",
    unbind: "Unbind",
    revoke: "Revoke",
    none: "None yet",
    confirm: (what) => `Really ${what}?`,
    createUserWhat: (name) => `create user “${name}”`,
    passwordWhat: (name) => `change the password of “${name}”`,
    deleteUserWhat: (name) => `delete user “${name}”`,
    bindWhat: (role, name) => `bind role “${role}” to “${name}”`,
    unbindWhat: (role, name) => `unbind role “${role}” from “${name}”`,
    grantWhat: (role) => `grant a permission to “${role}”`,
    revokeWhat: (role, resource) => `revoke “${resource}” from “${role}”`,
    passwordChanged: (name) => `The password of “${name}” is changed.`,
    r: "Read",
    w: "Write",
    rw: "Read and write",
  },
  zh: {
    username: "用户名",
    password: "密码",
    createUser: "创建用户",
    changePassword: "修改密码",
    newPassword: "新密码",
    delete: "删除",
    unbind: "解绑",
    revoke: "撤销",
    none: "暂无数据",
    confirm: (what) => `确定要${what}吗？`,
    createUserWhat: (name) => `创建用户“${name}”`,
    passwordWhat: (name) => `修改“${name}”的密码`,
    deleteUserWhat: (name) => `删除用户“${name}”`,
    bindWhat: (role, name) => `将角色“${role}”绑定到“${name}”`,
    unbindWhat: (role, name) => `解除“${name}”的角色“${role}”`,
    grantWhat: (role) => `给角色“${role}”添加权限`,
    revokeWhat: (role, resource) => `撤销角色“${role}”对“${resource}”的权限`,
    passwordChanged: (name) => `“${name}”的密码已修改。`,
    r: "只读",
    w: "只写",
    rw: "读写",
  },
};
const t = texts(TEXTS);

const PAGE_SIZE = 10;
const USERS = "/nacos/v1/auth/users";
const ROLES = "/nacos/v1/auth/roles";
const PERMISSIONS = "/nacos/v1/auth/permissions";

/** Each list's page and filter (the API's: roles of one user, permissions of one role), kept between pages. */
const pages = { users: 1, roles: 1, permissions: 1 };
const filters = { users: {}, roles: {}, permissions: {} };

/** A page of a list (1.4's Page); after deletions emptied the last page, the page before it. */
async function listPage(list, path) {
  const fetchPage = () => getJson(path, { ...filters[list], pageNo: pages[list], pageSize: PAGE_SIZE });
  const answer = await fetchPage();
  if (answer.pageItems.length > 0 || pages[list] === 1) return answer;
  pages[list] = Math.max(1, answer.pagesAvailable);
  return fetchPage();
}

/** Paints a list's rows and pager and shows its section. */
function paintList(list, answer, row, columns) {
  const rows = answer.pageItems.map(row);
  $(`${list.slice(0, -1)}-rows`).replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: columns }, t("none")))]));
  $(`${list.slice(0, -1)}-pager`).replaceChildren(
    ...pager(pages[list], PAGE_SIZE, answer.totalCount, (page) => {
      pages[list] = page;
      rerender();
    }),
  );
  show(list);
}

/** A button that asks "Really <what>?" before `act`. */
const ask = (label, what, act) => confirmed(label, t("confirm", what), what, act);

/** The actions cell turned into a new-password form. */
function changePassword(cell, username) {
  const kept = [...cell.childNodes];
  const input = el("input", { type: "password", autocomplete: "new-password", required: true, "aria-label": t("newPassword") });
  const save = () =>
    guarded(
      async () => {
        await api("PUT", USERS, { username, newPassword: input.value });
        cell.replaceChildren(el("span", { class: "good", role: "status" }, t("passwordChanged", username)), ...kept);
      },
      t("passwordWhat", username),
    );
  cell.replaceChildren(editForm("inline", [input], save, () => cell.replaceChildren(...kept)));
  input.focus();
}

function userRow({ username }) {
  const actions = el("td", { class: "actions" });
  actions.append(
    el("button", { type: "button", onclick: () => changePassword(actions, username) }, t("changePassword")),
    ask(t("delete"), t("deleteUserWhat", username), async () => {
      await api("DELETE", USERS, { username });
      rerender();
    }),
  );
  return el("tr", { "data-user": username }, el("td", {}, username), actions);
}

function roleRow({ role, username }) {
  const unbind = ask(t("unbind"), t("unbindWhat", role, username), async () => {
    await api("DELETE", ROLES, { role, username });
    rerender();
  });
  return el("tr", { "data-role": role }, el("td", {}, role), el("td", {}, username), el("td", { class: "actions" }, unbind));
}

function permissionRow({ role, resource, action }) {
  const revoke = ask(t("revoke"), t("revokeWhat", role, resource), async () => {
    await api("DELETE", PERMISSIONS, { role, resource, action });
    rerender();
  });
  return el(
    "tr",
    { "data-role": role },
    el("td", {}, role),
    el("td", {}, resource),
    el("td", {}, Object.hasOwn(TEXTS.en, action) ? t(action) : action),
    el("td", { class: "actions" }, revoke),
  );
}

export async function usersView() {
  const answer = await listPage("users", USERS);
  return () => {
    $("user-form").replaceChildren(userForm());
    paintList("users", answer, userRow, 2);
  };
}

export async function rolesView() {
  const answer = await listPage("roles", ROLES);
  return () => paintList("roles", answer, roleRow, 3);
}

/** The grant form offers each namespace's whole naming resource (`<id>:*:*`, as 1.4's console grants). */
export async function permissionsView() {
  const [answer, namespaces] = await Promise.all([listPage("permissions", PERMISSIONS), getJson("/nacos/v1/console/namespaces")]);
  return () => {
    $("resources").replaceChildren(...namespaces.data.map((ns) => el("option", { value: `${ns.namespace || "public"}:*:*` })));
    paintList("permissions", answer, permissionRow, 4);
  };
}

/** A form whose submission calls `act` with its fields, then empties it and shows the list again. */
function onSubmit(form, what, act) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const fields = Object.fromEntries(new FormData(form));
    guarded(async () => {
      await act(fields);
      form.reset();
      rerender();
    }, what(fields));
  });
  return form;
}

/**
 * The create-user form, made when the users page shows rather than kept in index.html: every other page then
 * holds one field labelled Password, the login's, for whatever finds fields by their label (a password
 * manager, the browser tests).
 */
function userForm() {
  return onSubmit(
    el(
      "form",
      { class: "toolbar" },
      el("input", { name: "username", required: true, placeholder: t("username"), "aria-label": t("username") }),
      el("input", {
        name: "password",
        type: "password",
        required: true,
        autocomplete: "new-password",
        placeholder: t("password"),
        "aria-label": t("password"),
      }),
      el("button", { type: "submit" }, t("createUser")),
    ),
    ({ username }) => t("createUserWhat", username),
    (fields) => api("POST", USERS, fields),
  );
}

/** A list's search form: its fields become the list's filter, shown from the first page. */
function onSearch(form, list) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    filters[list] = Object.fromEntries([...new FormData(form)].map(([name, value]) => [name, String(value).trim()]));
    pages[list] = 1;
    rerender();
  });
}

/** The bind, grant and search forms of index.html (console.js wires them once, when the page loads). */
export function wireAccessForms() {
  onSearch($("role-search"), "roles");
  onSearch($("permission-search"), "permissions");
  onSubmit(
    $("role-form"),
    ({ role, username }) => t("bindWhat", role, username),
    (fields) => api("POST", ROLES, fields),
  );
  onSubmit(
    $("permission-form"),
    ({ role }) => t("grantWhat", role),
    (fields) => api("POST", PERMISSIONS, fields),
  );
}
