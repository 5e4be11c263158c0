// desk-form.js - a campaign's disposition form from its definition (the `dispositions`
// of a screen pop or of GET /api/desk/campaigns): one control per typed field, and the
// errors the server names shown at their field.
//
//   const form = new DispositionForm(container, i18n);
//   form.build(disposition);   form.values();   form.showError("amount", "…");
//
// Kinds (docs/agent-desk.md): text, number, money (amount in the field's currency),
// date (YYYY-MM-DD, an ISO date box with a calendar: date-box.js), choice (one of `choices`), bool. The server checks every value; the
// form only shapes the input, so a refusal ("amount: '2千' is not an amount") lands at
// the field it names. Fields outside this form (notes, callback.at, reason, code) are
// elements with data-field in the page, found the same way.

import { dateBox, parseDate } from "./date-box.js";

export class DispositionForm {
  constructor(container, i18n) {
    this.box = container;
    this.i18n = i18n;
    this.code = null;
    this.spec = null;
  }

  clear() {
    this.code = null;
    this.spec = null;
    this.box.replaceChildren();
    this.clearErrors();
  }

  build(disposition) {
    this.clear();
    this.code = disposition.code;
    this.spec = disposition;
    for (const f of disposition.fields || []) this.box.append(this.control(f));
  }

  control(f) {
    const id = `dfield-${f.name}`;
    const wrap = document.createElement("div");
    wrap.className = "field";
    wrap.dataset.field = f.name;
    wrap.dataset.kind = f.kind;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = (f.label || f.name) + (f.required ? " *" : "");
    let input;
    let dateField = null;
    if (f.kind === "choice") {
      input = document.createElement("select");
      const none = document.createElement("option");
      none.value = "";
      none.textContent = this.i18n.t("form.choose");
      input.append(none);
      for (const choice of f.choices || []) {
        const option = document.createElement("option");
        option.value = choice;
        option.textContent = choice;
        input.append(option);
      }
    } else if (f.kind === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else if (f.kind === "text" && (f.max_length || 500) > 200) {
      input = document.createElement("textarea");
      input.rows = 2;
      input.maxLength = f.max_length || 500;
    } else if (f.kind === "date") {
      // an ISO date box (date-box.js), not <input type=date>, which writes the date in
      // the browser's locale (12/15/2026 on an en-US browser showing the zh page)
      dateField = dateBox(this.i18n, "", { testid: `field-${f.name}`, label: f.label || f.name,
                                           report: (_, why) => this.setError(wrap, why) });
      input = dateField.input;
    } else {
      input = document.createElement("input");
      input.type = "text";
      if (f.kind === "money" || f.kind === "number") input.inputMode = "decimal";
      if (f.kind === "text") input.maxLength = f.max_length || 500;
      input.autocomplete = "off";
    }
    input.id = id;
    input.dataset.testid = `field-${f.name}`;
    input.name = f.name;
    const error = document.createElement("span");
    error.className = "error";
    error.dataset.testid = `error-${f.name}`;
    wrap.append(label);
    if (f.kind === "money") {
      const row = document.createElement("div");
      row.className = "money";
      const currency = document.createElement("span");
      currency.className = "muted";
      currency.textContent = f.currency || "CNY";
      row.append(input, currency);
      wrap.append(row);
    } else {
      wrap.append(dateField || input);
    }
    wrap.append(error);
    input.addEventListener("input", () => this.setError(wrap, ""));
    return wrap;
  }

  /** The entered values by field name; empty optional fields are left out. */
  values() {
    const out = {};
    for (const f of this.spec?.fields || []) {
      const input = this.box.querySelector(`[name="${CSS.escape(f.name)}"]`);
      if (!input) continue;
      if (f.kind === "bool") { out[f.name] = input.checked; continue; }
      const value = input.value.trim();
      if (value !== "") out[f.name] = f.kind === "date" ? (parseDate(value) ?? value) : value;
    }
    return out;
  }

  focusFirst() {
    const first = this.box.querySelector("input, select, textarea");
    if (first) first.focus();
    return Boolean(first);
  }

  /** Shows, at its field, what is wrong with each date box's text that is not a date
   *  (in the page's language); true if one is wrong, so the form is not sent. */
  refuseBadDates() {
    let bad = false;
    for (const box of this.box.querySelectorAll("input.date-box")) {
      const why = box.dateError();
      if (why) {
        this.setError(box.closest(".field"), why);
        if (!bad) box.focus();
        bad = true;
      }
    }
    return bad;
  }

  hasField(name) {
    return Boolean(this.find(name));
  }

  find(name) {
    const page = this.box.ownerDocument;
    const exact = page.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (exact) return exact;
    const head = name.split(".")[0];
    return page.querySelector(`[data-field="${CSS.escape(head)}"]`);
  }

  showError(name, message) {
    const wrap = this.find(name) || this.find("code");
    if (!wrap) return;
    this.setError(wrap, message);
    const input = wrap.querySelector("input, select, textarea");
    if (input) input.focus();
  }

  setError(wrap, message) {
    wrap.classList.toggle("invalid", Boolean(message));
    const error = wrap.querySelector(".error");
    if (error) error.textContent = message;
  }

  clearErrors() {
    for (const wrap of this.box.ownerDocument.querySelectorAll(".field.invalid")) this.setError(wrap, "");
  }

  /** After a language switch: the "choose" entries. */
  relabel() {
    for (const option of this.box.querySelectorAll("select > option[value='']")) {
      option.textContent = this.i18n.t("form.choose");
    }
  }
}
