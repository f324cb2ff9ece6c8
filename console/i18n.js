/**
 * The console speaks English and Chinese, as Nacos's console does: the browser's preferred language picks one
 * (English when it prefers neither) until the person chooses with the switch in the header, which is kept.
 * Each module holds its own texts in both languages (`export const TEXTS = { en: {...}, zh: {...} }`, a value
 * being a string or a function of the call's arguments) and reads them through `texts(TEXTS)`;
 * test/console/texts.test.ts checks that every module's two tables have the same keys.
 */

export const LANGUAGES = Object.freeze({ en: "English", zh: "中文" });
const LANGUAGE_KEY = "ts-nacos.language";

/** The language the person chose, else the first of their browser's that the console speaks, else English. */
export function language() {
  const chosen = localStorage.getItem(LANGUAGE_KEY);
  if (chosen !== null && Object.hasOwn(LANGUAGES, chosen)) return chosen;
  const preferred = (navigator.languages ?? [navigator.language]).map((tag) => tag.toLowerCase().split("-")[0]);
  return preferred.find((tag) => Object.hasOwn(LANGUAGES, tag)) ?? "en";
}

export function chooseLanguage(lang) {
  localStorage.setItem(LANGUAGE_KEY, lang);
}

/** `t(key, ...args)`: the text in the current language (English where the table lacks it). */
export function texts(table) {
  return (key, ...args) => {
    const text = table[language()]?.[key] ?? table.en[key];
    if (text === undefined) throw new Error(`the console has no text '${key}'`);
    return typeof text === "function" ? text(...args) : text;
  };
}

/**
 * The page's fixed texts: an element's `data-text` names its text, `data-text-placeholder` and
 * `data-text-label` its placeholder and aria-label.
 */
export function translatePage(t) {
  document.documentElement.lang = language() === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
  for (const node of document.querySelectorAll("[data-text-placeholder]")) node.placeholder = t(node.dataset.textPlaceholder);
  for (const node of document.querySelectorAll("[data-text-label]")) node.setAttribute("aria-label", t(node.dataset.textLabel));
}
