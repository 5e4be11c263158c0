// console-admin-fields.js - the fields of one disposition (what the agent fills in when
// choosing it: 承诺金额, 承诺日期...), edited as a small table: name, kind, label,
// required, choices (a choice field's, comma-separated), min and max (number, money).
// Keys not on the table (currency, max_length) go back as they were loaded; the API
// checks the whole as the campaign file's [[desk.disposition.field]] entries.
import { button, el, input, select } from "./console-admin-kit.js";

const KINDS = ["text", "number", "money", "date", "choice", "bool"];

/** The editor for `fields` (the API's list); `read()` gives the list to send back. */
export function fieldsEditor(i18n, fields) {
  const rows = [];
  const body = el("tbody");
  const number = (v) => {
    const raw = v.value.trim().replace(",", ".");
    if (raw === "") return undefined;
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;      // sent as typed: the API names the problem
  };
  const add = (f) => {
    const name = input(f.name || "", { size: "12", "data-testid": "adm-field-name" });
    const kind = select(KINDS.map((k) => [k, i18n.t(`adm.field.kind.${k}`)]), f.kind || "text", { "data-testid": "adm-field-kind" });
    const label = input(f.label || "", { size: "16" });
    const required = el("input", { attrs: { type: "checkbox", "data-testid": "adm-field-required" } });
    required.checked = Boolean(f.required);
    const choices = input((f.choices || []).join(", "), { size: "14", "data-testid": "adm-field-choices" });
    const min = input(f.min ?? "", { size: "5", inputmode: "decimal" });
    const max = input(f.max ?? "", { size: "5", inputmode: "decimal" });
    const row = { orig: f, name, kind, label, required, choices, min, max };
    const tr = el("tr", {}, ...[name, kind, label, required, choices, min, max].map((c) => el("td", {}, c)),
      el("td", {}, button(i18n, "adm.remove", "adm-field-remove", () => {
        rows.splice(rows.indexOf(row), 1);
        tr.remove();
        shown();
      }, "btn ghost")));
    rows.push(row);
    body.append(tr);
    shown();
  };
  const heads = ["adm.field.name", "adm.field.kind", "adm.field.label", "adm.field.required",
                 "adm.field.choices", "adm.field.min", "adm.field.max", ""];
  const grid = el("table", { cls: "grid" }, el("thead", {}, el("tr", {}, ...heads.map((k) =>
    (k ? el("th", { text: i18n.t(k), ct: k }) : el("th"))))), body);
  const shown = () => grid.classList.toggle("hidden", !rows.length);   // no fields: no header
  const node = el("div", { cls: "adm-fields" }, grid,
    button(i18n, "adm.field.add", "adm-field-add", () => add({})));
  for (const f of fields || []) add(f);
  shown();
  const read = () => rows.map((r) => {
    const out = { ...r.orig, name: r.name.value.trim(), kind: r.kind.value, label: r.label.value.trim(),
                  required: r.required.checked };
    for (const key of ["choices", "min", "max", "currency", "max_length"]) delete out[key];
    const choices = r.choices.value.split(/[,，]/).map((c) => c.trim()).filter(Boolean);
    if (choices.length) out.choices = choices;
    const lo = number(r.min), hi = number(r.max);
    if (lo !== undefined) out.min = lo;
    if (hi !== undefined) out.max = hi;
    if (out.kind === "money" && r.orig.currency) out.currency = r.orig.currency;
    if (out.kind === "text" && r.orig.max_length) out.max_length = r.orig.max_length;
    return out;
  });
  return { node, read };
}
