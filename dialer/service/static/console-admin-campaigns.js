// console-admin-campaigns.js - the Admin tab's campaigns: pick one (or start a new one),
// edit its strategy and settings, its desk (the 话术 script with a preview of its
// {{fields}} filled, the wrap-up limit, dispositions with their fields) and its QA form,
// and save it all with one PUT /api/admin/campaigns/{name}, which checks it exactly as
// `trunkline dialer campaign create` checks a file. A refusal (422) is shown beside the
// field its message names and nothing is saved; what is not on the form (other desk
// keys, a disposition's SMS) is sent back as it was loaded, so nothing stored is lost.
// The strategy's calling windows and retries and the QA form are form editors of their
// own (console-admin-strategy.js, console-admin-qaform.js), not JSON. A campaign not
// running can be archived (DELETE: hidden, never started, its calls and recordings kept)
// and an archived one restored.
import { button, clearErrors, confirmed, el, field, input, select, showFieldError, table } from "./console-admin-kit.js";
import { fieldsEditor } from "./console-admin-fields.js";
import { qaFormEditor } from "./console-admin-qaform.js";
import { retriesEditor, windowsEditor } from "./console-admin-strategy.js";
import { isoDateTime } from "./when.js";

/** The strategy keys edited as rows rather than one input. */
const STRUCTURED = { windows: windowsEditor, retries: retriesEditor };
/** The host's states in which the service refuses to archive (web_admin_archive.py). */
const BUSY = ["starting", "running", "paused", "stopping"];

/** Where the service's message belongs when its words do not say "[table] key": the
 *  editors' fields, by what Strategy and QaForm say (strategies.py, qaform.py). */
export function locate(message) {
  // "[[qa.item]] 2: ..." (by place) or "[[qa.item]] 'greeting': ..." (by id)
  const item = /\[\[qa\.item\]\]\s*(?:(\d+)|'([^']*)')/.exec(message);
  if (item) return item[1] ? `qa.item.${item[1]}` : `qa.item=${item[2]}`;
  if (/\[strategy\] windows|window (mon|tue|wed|thu|fri|sat|sun)|isoformat|holiday/i.test(message)) return "strategy.windows";
  if (/\[strategy\] retries|retry delay|CallOutcome/.test(message)) return "strategy.retries";
  return null;
}

const MODES = ["predictive", "precise", "power", "progressive", "preview", "manual", "vicidial"];
/** A new campaign's starting point: the keys a floor manager sets first. */
const NEW = {
  strategy: { max_attempts: 5, time_zone: "Asia/Shanghai", windows: { default: ["09:00-21:00"] },
              max_per_day: 3 },
  campaign: { mode: "predictive", target_abandon: 0.03 },
};

/** An input for a value of the definition, keeping its JSON type when read back. */
function valueControl(i18n, key, value) {
  if (key === "campaign.mode") return select(MODES.map((m) => [m, i18n.tOr(`dialmode.${m}`, m)]), value ?? "predictive");
  if (typeof value === "boolean") return select([["true", "true"], ["false", "false"]], String(value));
  if (value !== null && typeof value === "object") {
    const t = el("textarea", { attrs: { rows: "3", spellcheck: "false" } });
    t.value = JSON.stringify(value);
    t.dataset.kind = "json";
    return t;
  }
  const n = input(value, typeof value === "number" ? { inputmode: "decimal" } : {});
  // null (a setting left unset): empty stays null, else read as JSON or text
  n.dataset.kind = value === null ? "any" : typeof value === "number" ? "number" : "text";
  return n;
}

/** The control's value in the definition's type; a number that does not parse is sent as
 *  typed, so the API refuses it with its own words. Throws on JSON that does not parse. */
function readControl(control) {
  const raw = control.value.trim();
  if (control.tagName === "SELECT" && (raw === "true" || raw === "false")) return raw === "true";
  if (control.dataset.kind === "json") return raw === "" ? null : JSON.parse(raw);
  if (control.dataset.kind === "number") {
    const n = Number(raw.replace(",", "."));
    return raw !== "" && Number.isFinite(n) ? n : raw;
  }
  if (control.dataset.kind === "any") {
    if (raw === "") return null;
    try { return JSON.parse(raw); } catch { return raw; }
  }
  return raw;
}

export class CampaignsSection {
  constructor(root, deps) {
    Object.assign(this, deps);          // api, i18n, toast, onCampaigns
    this.root = root;
    this.names = [];
    this.name = null;                   // the campaign being edited; null: a new one
    this.loaded = null;                 // its definition as the API gave it
  }

  async load() {
    try {
      const all = await this.api.get("/api/campaigns");
      this.names = all.map((c) => c.name).sort();
      this.states = Object.fromEntries(all.map((c) => [c.name, c.state]));
      this.archived = await this.api.get("/api/admin/archived-campaigns");
      this.onCampaigns(this.names);
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
    }
    if (this.dirty && this.form?.isConnected) {
      this.fillPick();                  // being edited: keep what was typed, names only
      return;
    }
    if (this.name && this.names.includes(this.name)) await this.open(this.name);
    else this.render();
  }

  fillPick() {
    this.pick.replaceChildren(...[["", this.i18n.t("adm.camp.choose")], ...this.names.map((n) => [n, n])]
      .map(([v, text]) => el("option", { text, attrs: { value: v } })));
    this.pick.value = this.name || "";
  }

  async open(name) {
    try {
      this.loaded = name ? await this.api.get(`/api/admin/campaigns/${encodeURIComponent(name)}`) : structuredClone(NEW);
      this.name = name;
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
      return;
    }
    this.render();
  }

  render() {
    const t = (k, p) => this.i18n.t(k, p);
    const pick = select([["", t("adm.camp.choose")], ...this.names.map((n) => [n, n])], this.name || "",
                        { "data-testid": "adm-campaign-pick" });
    pick.addEventListener("change", () => this.open(pick.value || null));
    this.pick = pick;
    this.dirty = false;
    const head = el("div", { cls: "row adm-head" }, field(this.i18n, "adm.camp.pick", pick),
      button(this.i18n, "adm.camp.new", "adm-campaign-new", () => { this.name = null; this.open(null); }));
    const state = (n) => this.i18n.tOr(`campaign.${this.states?.[n]}`, this.states?.[n] ?? "–");
    const listing = table(this.i18n, ["col.campaign", "col.state", "col.actions"], this.names.map((n) => [
      n, state(n), el("span", { cls: "row" }, button(this.i18n, "adm.camp.edit", "adm-campaign-edit", () => this.open(n)),
        BUSY.includes(this.states?.[n]) ? el("span", { cls: "muted", text: t("adm.camp.stop_first") })
          : confirmed(this.i18n, "adm.camp.archive", "adm-campaign-archive", () => this.archive(n)))]), "adm-campaign-list");
    listing.classList.add("adm-campaign-list");
    const archived = this.archivedView();
    if (!this.loaded) {
      this.root.replaceChildren(head, el("p", { cls: "muted", text: t("adm.camp.hint"), ct: "adm.camp.hint" }), listing, archived);
      return;
    }
    const form = el("form", { cls: "adm-form", attrs: { novalidate: "", "data-testid": "adm-campaign-form" } });
    const nameBox = input(this.name || "", { "data-testid": "adm-campaign-name" });
    nameBox.disabled = Boolean(this.name);
    form.append(el("h3", { text: this.name ? t("adm.camp.editing", { name: this.name }) : t("adm.camp.creating") }),
      el("p", { cls: "error-line", attrs: { role: "alert", "data-testid": "adm-campaign-error" } }),
      el("div", { cls: "row" }, field(this.i18n, "adm.camp.name", nameBox, { key: "name", testid: "adm-campaign-name" })));
    if (["running", "paused", "starting"].includes(this.states?.[this.name])) {
      form.append(el("p", { cls: "muted", text: t("adm.camp.running"), ct: "adm.camp.running" }));
    }
    this.nameBox = nameBox;
    this.editors = {};
    for (const table of ["strategy", "campaign"]) {
      const values = { ...(this.loaded[table] || {}) };
      if (table === "campaign" && !("mode" in values)) values.mode = "predictive";
      const row = el("div", { cls: "row adm-table", attrs: { "data-table": table } });
      const structured = [];
      for (const [k, v] of Object.entries(values)) {
        if (table === "strategy" && STRUCTURED[k]) {
          const editor = STRUCTURED[k](this.i18n, v);
          this.editors[k] = editor;
          structured.push(el("div", { cls: "field", attrs: { "data-key": `strategy.${k}`, "data-structured": k } },
            el("label", { text: t(`adm.camp.${k}`), ct: `adm.camp.${k}` }), editor.node,
            el("span", { cls: "field-error", attrs: { role: "alert", "data-testid": `adm-strategy-${k}-error` } })));
          continue;
        }
        row.append(field(this.i18n, `=${k}`, valueControl(this.i18n, `${table}.${k}`, v),
                         { key: `${table}.${k}`, testid: `adm-${table}-${k}`, grow: typeof v === "object" }));
      }
      form.append(el("h4", { text: t(`adm.camp.${table}`), ct: `adm.camp.${table}` }), row, ...structured);
    }
    const extraKey = input("", { "data-testid": "adm-setting-key", placeholder: "ratio" });
    const extraValue = input("", { "data-testid": "adm-setting-value" });
    extraValue.dataset.kind = "any";
    form.append(el("div", { cls: "row" }, field(this.i18n, "adm.camp.add_key", extraKey),
      field(this.i18n, "adm.camp.add_value", extraValue)));
    this.extra = [extraKey, extraValue];
    if (this.name) form.append(this.deskEditor(), this.qaEditor());
    form.append(el("div", { cls: "row" },
      el("button", { cls: "btn primary", text: t("adm.save"), ct: "adm.save", attrs: { type: "submit", "data-testid": "adm-campaign-save" } })));
    form.addEventListener("submit", (e) => { e.preventDefault(); this.save(form); });
    for (const type of ["input", "change", "click"]) form.addEventListener(type, () => { this.dirty = true; });
    this.form = form;
    this.root.replaceChildren(head, form, el("h4", { text: t("adm.camp.all"), ct: "adm.camp.all" }), listing, archived);
  }

  /** The archived campaigns, each with Restore; nothing when there are none. */
  archivedView() {
    const rows = this.archived || [];
    if (!rows.length) return el("div");
    const when = (ts) => isoDateTime(ts);
    const view = table(this.i18n, ["col.campaign", "adm.camp.archived_at", "adm.camp.archived_by", "col.actions"],
      rows.map((a) => [a.name, when(a.archived_at), a.archived_by,
        button(this.i18n, "adm.camp.restore", "adm-campaign-restore", () => this.restore(a.name))]), "adm-campaign-archived");
    view.classList.add("adm-archived");
    return el("div", {}, el("h4", { text: this.i18n.t("adm.camp.archived"), ct: "adm.camp.archived" }),
      el("p", { cls: "muted", text: this.i18n.t("adm.camp.archived_hint"), ct: "adm.camp.archived_hint" }), view);
  }

  async archive(name) {
    try {
      await this.api.request("DELETE", `/api/admin/campaigns/${encodeURIComponent(name)}`);
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
      return;
    }
    this.toast(this.i18n.t("adm.camp.archived_done", { name }));
    if (this.name === name) { this.name = null; this.loaded = null; this.dirty = false; }
    await this.load();
  }

  async restore(name) {
    try {
      await this.api.post(`/api/admin/campaigns/${encodeURIComponent(name)}/restore`, {});
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
      return;
    }
    this.toast(this.i18n.t("adm.camp.restored", { name }));
    await this.load();
  }

  deskEditor() {
    const t = (k, p) => this.i18n.t(k, p);
    const desk = this.loaded.desk || {};
    const script = el("textarea", { attrs: { rows: "4", "data-testid": "adm-script" } });
    script.value = desk.script || "";
    const samples = el("div", { cls: "row" });
    const preview = el("pre", { cls: "adm-preview", attrs: { "data-testid": "adm-script-preview" } });
    const values = {};
    const refresh = () => {
      const names = [...new Set([...script.value.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]))];
      samples.replaceChildren(...names.map((n) => {
        const box = input(values[n] ?? "", { "data-testid": `adm-sample-${n}` });
        box.addEventListener("input", () => { values[n] = box.value; fill(); });
        return field(this.i18n, `=${n}`, box);
      }));
      fill();
    };
    const fill = () => {
      preview.textContent = script.value.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, n) => values[n] || `‹${n}›`);
    };
    script.addEventListener("input", refresh);
    refresh();
    const wrap = input(desk.max_wrap_up ?? "", { inputmode: "decimal" });
    wrap.dataset.kind = "number";
    this.desk = { script, wrap, rows: [] };
    const body = el("tbody");
    const addRow = (d) => {
      const code = input(d.code || "", { "data-testid": "adm-disp-code" });
      const label = input(d.label || "");
      const hotkey = input(d.hotkey || "", { size: "2" });
      const callback = select(["none", "optional", "required"].map((c) => [c, t(`adm.disp.cb.${c}`)]), d.callback || "none");
      const fields = fieldsEditor(this.i18n, d.fields || d.field || []);
      const row = { orig: d, code, label, hotkey, callback, fields };
      const tr = el("tr", { attrs: { "data-disposition": d.code || "" } },
        ...[code, label, hotkey, callback, fields.node].map((c) => el("td", {}, c)),
        el("td", {}, button(this.i18n, "adm.remove", "adm-disp-remove", () => {
          this.desk.rows = this.desk.rows.filter((r) => r !== row);
          tr.remove();
        }, "btn ghost")));
      this.desk.rows.push(row);
      body.append(tr);
    };
    for (const d of desk.disposition || []) addRow(d);
    const heads = ["adm.disp.code", "adm.disp.label", "adm.disp.hotkey", "adm.disp.callback", "adm.disp.fields", "col.actions"];
    return el("div", { cls: "adm-desk" },
      el("h4", { text: t("adm.camp.desk"), ct: "adm.camp.desk" }),
      el("div", { cls: "row" }, field(this.i18n, "adm.camp.script", script, { key: "desk.script", grow: true }),
        field(this.i18n, "adm.camp.wrap", wrap, { key: "desk.max_wrap_up" })),
      el("p", { cls: "muted", text: t("adm.camp.preview"), ct: "adm.camp.preview" }), samples, preview,
      el("div", { cls: "field", attrs: { "data-key": "desk.disposition" } },
        el("table", { cls: "grid adm-disp", attrs: { "data-testid": "adm-dispositions" } },
          el("thead", {}, el("tr", {}, ...heads.map((k) => el("th", { text: t(k), ct: k })))), body),
        el("span", { cls: "field-error", attrs: { role: "alert" } })),
      button(this.i18n, "adm.disp.add", "adm-disp-add", () => addRow({})));
  }

  qaEditor() {
    this.qa = qaFormEditor(this.i18n, this.loaded.qa || null);
    return el("div", {}, el("h4", { text: this.i18n.t("adm.camp.qa"), ct: "adm.camp.qa" }),
      el("p", { cls: "muted", text: this.i18n.t("adm.camp.qa_hint"), ct: "adm.camp.qa_hint" }),
      this.qa.node);
  }

  /** The definition from the form; throws naming the field whose JSON does not parse. */
  collect(form) {
    const out = {};
    for (const table of ["strategy", "campaign"]) {
      out[table] = {};
      for (const [k, editor] of Object.entries(table === "strategy" ? this.editors : {})) out[table][k] = editor.read();
      for (const box of form.querySelectorAll(`[data-table=${table}] .field[data-key]`)) {
        const key = box.dataset.key.slice(table.length + 1);
        try {
          out[table][key] = readControl(box.querySelector("input, select, textarea"));
        } catch (err) {
          throw Object.assign(new Error(`[${table}] ${key}: ${err.message}`), { local: true });
        }
      }
    }
    const [k, v] = this.extra;
    if (k.value.trim()) {
      const [table, key] = k.value.includes(".") ? k.value.trim().split(".", 2) : ["campaign", k.value.trim()];
      (out[table] ||= {})[key] = readControl(v);
    }
    if (this.name && this.desk) {
      const desk = { ...(this.loaded.desk || {}), script: this.desk.script.value };
      desk.max_wrap_up = readControl(this.desk.wrap);
      desk.disposition = this.desk.rows.map((r) => {
        const d = { ...r.orig, code: r.code.value.trim(), label: r.label.value.trim(),
                    hotkey: r.hotkey.value.trim(), callback: r.callback.value };
        delete d.field;
        d.fields = r.fields.read();
        return d;
      });
      out.desk = desk;
      const qa = this.qa.read();
      if (qa) out.qa = qa;
    }
    return out;
  }

  async save(form) {
    clearErrors(form);
    const top = form.querySelector("[data-testid=adm-campaign-error]");
    top.textContent = "";
    const name = this.name || this.nameBox.value.trim();
    let body;
    try {
      if (!name) throw Object.assign(new Error(this.i18n.t("adm.camp.need_name")), { key: "name" });
      if (!this.name && this.names.includes(name)) {   // PUT would replace it: open it instead
        throw Object.assign(new Error(this.i18n.t("adm.camp.exists", { name })), { key: "name" });
      }
      body = this.collect(form);
    } catch (err) {
      if (!showFieldError(form, err.message, err.key)) top.textContent = err.message;
      return;
    }
    try {
      this.loaded = await this.api.request("PUT", `/api/admin/campaigns/${encodeURIComponent(name)}`, body);
    } catch (err) {
      // The service's words (English, as the CLI's) after a lead in the page's language.
      const key = this.qa?.resolve(locate(err.message)) ?? locate(err.message);
      const area = key?.startsWith("qa.item.") ? "qa_item" : { "strategy.windows": "strategy_windows",
                                                               "strategy.retries": "strategy_retries" }[key];
      const lead = this.i18n.t(`adm.err.${area || "lead"}`);
      if (!showFieldError(form, `${lead} ${err.message}`, key)) top.textContent = err.message;
      top.textContent = top.textContent || this.i18n.t("adm.refused");
      return;
    }
    this.toast(this.i18n.t("adm.camp.saved", { name }));
    const fresh = !this.name;
    this.name = name;
    this.dirty = false;                 // saved: what the form shows is stored
    if (fresh) await this.load();
    else this.render();
  }
}
