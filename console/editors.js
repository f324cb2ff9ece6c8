/**
 * The form parts the views share: a form of fields with Save and Cancel, a key/value metadata editor and the
 * selector of a service. Values enter inputs as attributes and text, never as markup.
 */
import { el } from "./lib.js";
import { texts } from "./i18n.js";

export const TEXTS = {
  en: {
    key: "Key",
    value: "Value",
    addEntry: "Add entry",
    removeEntry: "Remove entry",
    selectorType: "Selector type",
    selectorNone: "none",
    selectorLabel: "label",
    expression: "Expression",
    save: "Save",
    cancel: "Cancel",
  },
  zh: {
    key: "键",
    value: "值",
    addEntry: "添加",
    removeEntry: "删除该项",
    selectorType: "服务路由类型",
    selectorNone: "none",
    selectorLabel: "label",
    expression: "表达式",
    save: "保存",
    cancel: "取消",
  },
};
const t = texts(TEXTS);

/**
 * Metadata as rows of key and value inputs that rows can be added to and removed from. `value()` answers the
 * metadata the rows hold (rows with a blank key are left out: Nacos keeps no such key).
 */
export function metadataEditor(metadata = {}) {
  const rows = el("div", { class: "metadata-rows" });
  const addRow = (key = "", value = "") => {
    const row = el(
      "div",
      { class: "metadata-row" },
      el("input", { class: "metadata-key", value: key, "aria-label": t("key"), placeholder: t("key") }),
      el("input", { class: "metadata-value", value, "aria-label": t("value"), placeholder: t("value") }),
    );
    row.append(el("button", { type: "button", onclick: () => row.remove() }, t("removeEntry")));
    rows.append(row);
    return row;
  };
  for (const [key, value] of Object.entries(metadata ?? {})) addRow(key, value);
  const add = el("button", { type: "button", onclick: () => addRow().querySelector("input").focus() }, t("addEntry"));
  return {
    element: el("div", { class: "metadata-editor" }, rows, add),
    value() {
      const out = {};
      for (const row of rows.querySelectorAll(".metadata-row")) {
        const key = row.querySelector(".metadata-key").value.trim();
        if (key !== "") out[key] = row.querySelector(".metadata-value").value;
      }
      return out;
    },
  };
}

/** A service's selector as 1.4 offers it: none, or a label expression; `value()` answers its JSON. */
export function selectorEditor(selector = { type: "none" }) {
  const isLabel = selector?.type === "label";
  const expression = el("input", { class: "expression", value: isLabel ? selector.expression : "", "aria-label": t("expression") });
  const type = el(
    "select",
    { "aria-label": t("selectorType") },
    el("option", { value: "none", selected: !isLabel }, t("selectorNone")),
    el("option", { value: "label", selected: isLabel }, t("selectorLabel")),
  );
  const expressionLabel = el("label", { hidden: !isLabel }, t("expression"), " ", expression);
  type.addEventListener("change", () => (expressionLabel.hidden = type.value !== "label"));
  return {
    element: el("span", { class: "selector-editor" }, type, " ", expressionLabel),
    value: () => JSON.stringify(type.value === "label" ? { type: "label", expression: expression.value } : { type: "none" }),
  };
}

/** A form with the given fields and Save / Cancel buttons; Save calls `save` and keeps the button off meanwhile. */
export function editForm(className, fields, save, cancel) {
  const submit = el("button", { type: "submit" }, t("save"));
  const form = el(
    "form",
    { class: `edit ${className}` },
    ...fields,
    el("div", { class: "buttons" }, submit, el("button", { type: "button", onclick: cancel }, t("cancel"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await save();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/**
 * A labelled field: the label's text, then the control. An editor of several controls is a named group instead
 * of a label, which would hand its name (and its clicks) to the editor's first button.
 */
export function field(label, control) {
  if (["INPUT", "SELECT"].includes(control.tagName)) return el("label", { class: "field" }, el("span", {}, label), control);
  return el("div", { class: "field", role: "group", "aria-label": label }, el("span", {}, label), control);
}
