// i18n.js - the pages' translations (reusable: the agent desktop, the login page and the
// supervisor console import it).
//
//   import { I18n } from "./i18n.js";
//   const i18n = new I18n({ en: {...}, "zh-CN": {...} });   // every key in every language
//   i18n.t("state.ready")                 // -> "Ready" / "就绪"
//   i18n.t("wrap.left", { s: 12 })        // "{s}" placeholders, filled as text
//   i18n.apply(document)                  // fills [data-i18n] (textContent),
//                                         // [data-i18n-title], [data-i18n-placeholder],
//                                         // [data-i18n-aria-label]
//   i18n.set("zh-CN"); i18n.onChange(fn)  // switch (remembered in localStorage; the
//                                         // page's other I18n follow: "trunkline:lang")
//
// The language is the one the user chose last (localStorage "trunkline.lang"), else the
// first of the browser's languages (navigator.languages) we have: any "zh" variant reads
// Chinese (zh-CN), anything else English. Strings are always set as text, never as HTML.

const STORE_KEY = "trunkline.lang";

export class I18n {
  /** @param {Record<string, Record<string,string>>} dicts language -> key -> string */
  constructor(dicts, fallback = "en") {
    this.dicts = dicts;
    this.fallback = fallback;
    this.listeners = [];
    this.lang = this.initial();
    document.documentElement.lang = this.lang;
    // Several modules of one page may each hold an I18n (the desk and its softphone):
    // a switch in one is followed by the others.
    document.addEventListener("trunkline:lang", (e) => this.set(e.detail));
  }

  /** The languages offered, e.g. ["en", "zh-CN"]. */
  get languages() {
    return Object.keys(this.dicts);
  }

  initial() {
    let saved = null;
    try { saved = localStorage.getItem(STORE_KEY); } catch { /* storage off */ }
    if (saved && this.dicts[saved]) return saved;
    for (const wanted of navigator.languages || [navigator.language || ""]) {
      const found = this.match(wanted);
      if (found) return found;
    }
    return this.fallback;
  }

  /** The language of ours that a BCP 47 tag asks for, or null. */
  match(tag) {
    const lower = String(tag || "").toLowerCase();
    for (const lang of this.languages) {
      if (lang.toLowerCase() === lower) return lang;
    }
    const primary = lower.split("-")[0];
    for (const lang of this.languages) {
      if (lang.toLowerCase().split("-")[0] === primary) return lang;
    }
    return null;
  }

  set(lang) {
    if (!this.dicts[lang] || lang === this.lang) return;
    this.lang = lang;
    document.documentElement.lang = lang;
    try { localStorage.setItem(STORE_KEY, lang); } catch { /* storage off */ }
    for (const fn of this.listeners) fn(lang);
    document.dispatchEvent(new CustomEvent("trunkline:lang", { detail: lang }));
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  /** The string for ``key`` with ``{name}`` placeholders filled from ``vars``. */
  t(key, vars = {}) {
    const text = this.dicts[this.lang]?.[key] ?? this.dicts[this.fallback]?.[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  }

  /** The string for ``key`` if any language has it, else ``fallback`` (open vocabularies:
   *  call outcomes, modes). */
  tOr(key, fallback, vars = {}) {
    const known = this.dicts[this.lang]?.[key] ?? this.dicts[this.fallback]?.[key];
    return known === undefined ? String(fallback) : this.t(key, vars);
  }

  /** Fill every element under ``root`` that names a key. */
  apply(root = document) {
    for (const el of root.querySelectorAll("[data-i18n]")) {
      el.textContent = this.t(el.dataset.i18n);
    }
    for (const attr of ["title", "placeholder", "aria-label"]) {
      const data = "i18n" + attr.split("-").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
      for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
        el.setAttribute(attr, this.t(el.dataset[data]));
      }
    }
  }
}

/** Every key of ``dicts`` that some language lacks (tests and reviews call it). */
export function missingKeys(dicts) {
  const all = new Set(Object.values(dicts).flatMap((d) => Object.keys(d)));
  const out = [];
  for (const [lang, dict] of Object.entries(dicts)) {
    for (const key of all) if (!(key in dict)) out.push(`${lang}:${key}`);
  }
  return out;
}
