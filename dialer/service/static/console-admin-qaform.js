// console-admin-qaform.js - the campaign's QA form (质检表, dialer/review/qaform.py) as a
// form: its title and pass mark, and its items as rows (id, the question, the most
// points, the weight, whether a zero fails the whole call, a hint for the reviewer),
// added, removed and moved up or down (the order is the order reviewers score in). The
// service checks the whole as a campaign file's [qa] table; an item's error ("[[qa.item]]
// 2: ...") is shown on that item's row.
import { button, el, input, select } from "./console-admin-kit.js";

/** The editor for `qa` (the API's form, or null: none yet). `read()` gives the form to
 *  send, or null when it is left empty (no form: a stored one stays as it is). */
export function qaFormEditor(i18n, qa) {
  const t = (k) => i18n.t(k);
  const form = qa || { title: "", pass_score: 80, item: [] };
  const title = input(form.title || "", { size: "30", "data-testid": "adm-qa-title" });
  const pass = input(form.pass_score ?? 80, { size: "4", inputmode: "decimal", "data-testid": "adm-qa-pass" });
  const rows = [];
  const body = el("tbody", { attrs: { "data-testid": "adm-qa-items" } });
  const number = (box) => {
    const raw = box.value.trim().replace(",", ".");
    const n = Number(raw);
    return raw !== "" && Number.isFinite(n) ? n : raw;   // as typed: the service names it
  };
  const renumber = () => rows.forEach((r, i) => {
    r.tr.dataset.key = `qa.item.${i + 1}`;
    r.tr.querySelector(".adm-qa-n").textContent = String(i + 1);
  });
  const move = (row, by) => {
    const i = rows.indexOf(row), j = i + by;
    if (j < 0 || j >= rows.length) return;
    rows.splice(i, 1);
    rows.splice(j, 0, row);
    if (by < 0) body.insertBefore(row.tr, rows[j + 1].tr);
    else body.insertBefore(row.tr, rows[j - 1].tr.nextSibling);
    renumber();
  };
  const add = (item) => {
    const row = {
      orig: item,
      id: input(item.id ?? `item${rows.length + 1}`, { size: "10", "data-testid": "adm-qa-id" }),
      label: input(item.label || "", { size: "28", "data-testid": "adm-qa-label" }),
      max: input(item.max ?? 5, { size: "4", inputmode: "decimal", "data-testid": "adm-qa-max" }),
      weight: input(item.weight ?? 1, { size: "4", inputmode: "decimal", "data-testid": "adm-qa-weight" }),
      kind: select([["score", t("adm.qa.kind_score")], ["critical", t("adm.qa.kind_critical")]],
                   item.critical ? "critical" : "score", { "data-testid": "adm-qa-kind" }),
      help: input(item.help || "", { size: "20", "data-testid": "adm-qa-help" }),
    };
    row.tr = el("tr", { cls: "field", attrs: { "data-testid": "adm-qa-item" } },
      el("td", { cls: "adm-qa-n" }),
      ...["id", "label", "max", "weight", "kind", "help"].map((k) => el("td", {}, row[k])),
      el("td", { cls: "adm-qa-actions" },
        button(i18n, "adm.up", "adm-qa-up", () => move(row, -1), "btn ghost small"),
        button(i18n, "adm.down", "adm-qa-down", () => move(row, 1), "btn ghost small"),
        button(i18n, "adm.remove", "adm-qa-remove", () => {
          rows.splice(rows.indexOf(row), 1);
          row.tr.remove();
          renumber();
        }, "btn ghost small"),
        el("span", { cls: "field-error", attrs: { role: "alert", "data-testid": "adm-qa-item-error" } })));
    rows.push(row);
    body.append(row.tr);
    renumber();
  };
  for (const item of form.item || []) add(item);
  const heads = ["#", "adm.qa.id", "adm.qa.label", "adm.qa.max", "adm.qa.weight", "adm.qa.kind", "adm.qa.help", ""];
  const cell = (box, key, label) => el("div", { cls: "field", attrs: { "data-key": key } },
    el("label", { text: t(label), ct: label }), box,
    el("span", { cls: "field-error", attrs: { role: "alert" } }));
  const node = el("div", { cls: "adm-qa", attrs: { "data-testid": "adm-qa" } },
    el("div", { cls: "row" }, cell(title, "qa.title", "adm.qa.title"), cell(pass, "qa.pass_score", "adm.qa.pass")),
    el("table", { cls: "grid" }, el("thead", {}, el("tr", {}, ...heads.map((k) =>
      el("th", k.startsWith("adm.") ? { text: t(k), ct: k } : { text: k })))), body),
    button(i18n, "adm.qa.add", "adm-qa-add", () => add({}), "btn ghost small"),
    el("div", { cls: "field", attrs: { "data-key": "qa" } },
      el("span", { cls: "field-error", attrs: { role: "alert", "data-testid": "adm-qa-error" } })));
  const read = () => {
    if (!rows.length && !title.value.trim() && !qa) return null;
    return {
      title: title.value.trim(), pass_score: number(pass),
      item: rows.map((r) => ({ id: r.id.value.trim(), label: r.label.value.trim(), max: number(r.max),
                               weight: number(r.weight), critical: r.kind.value === "critical",
                               help: r.help.value.trim() })),
    };
  };
  /** A key from the campaign form's locate(): "qa.item=<id>" becomes that item's row. */
  const resolve = (key) => {
    if (!key?.startsWith("qa.item=")) return key;
    const at = rows.findIndex((r) => r.id.value.trim() === key.slice(8));
    return at < 0 ? "qa" : `qa.item.${at + 1}`;
  };
  return { node, read, resolve };
}
