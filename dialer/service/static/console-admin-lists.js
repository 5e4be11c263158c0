// console-admin-lists.js - the Admin tab's contact lists and DNC.
// Lists: a CSV or XLSX file is sent as it is to POST /api/admin/campaigns/{name}/lists,
// which imports it as `trunkline dialer import` does (good rows in one transaction);
// the page shows the counts and every refused row (line, reason, the cells as read), and
// the campaign's lists with their counts, each one's refused rows again on a click, and
// Remove (asked twice; DELETE /api/admin/lists/{id}, refused while the campaign runs):
// its never-called contacts go, those called keep their history and get no more retries.
// DNC: check, add or remove numbers (or +prefix*), global or a campaign's, of a kind, as
// `trunkline dialer dnc`; a text/CSV file of numbers is read in the page (first cell of
// each line), checked whole, then added in batches through the same API, so the same
// checks apply and a refusal names the file's line (console-admin-dnc-file.js).
import { addDncFile, dncFileEntries, dncRefusal } from "./console-admin-dnc-file.js";
import { button, confirmed, el, field, fileField, input, select, table, uploadFile } from "./console-admin-kit.js";
import { isoDateTime } from "./when.js";

// A refused row's reason in the page's language: the service sends a stable `code`
// beside its English `reason` (docs/admin-area.md lists them), as it sends pause reasons
// as codes. English shows the service's own sentence (it names the column and the digit
// count); a code this page does not know shows that sentence too.
function refusal(i18n, e) {
  return e.code ? i18n.tOr(`adm.list.refusal.${e.code}`, e.reason, { reason: e.reason }) : e.reason;
}

function when(ts) {
  return isoDateTime(ts);
}

export class ListsSection {
  constructor(root, deps) {
    Object.assign(this, deps);          // api, i18n, toast
    this.root = root;
    this.names = [];
    this.report = null;                 // the last upload's answer
    this.lists = [];
    this.shown = null;                  // {list, rows}: a stored list's refused rows
  }

  setCampaigns(names) {
    this.names = names;
    if (this.campaign && !names.includes(this.campaign)) this.campaign = null;
    this.campaign ||= names[0] || null;
  }

  async load() {
    this.lists = [];
    if (this.campaign) {
      try {
        this.lists = await this.api.get(`/api/admin/campaigns/${encodeURIComponent(this.campaign)}/lists`);
      } catch (err) {
        this.toast(this.i18n.t("error.generic", { message: err.message }), true);
      }
    }
    this.render();
  }

  /** The upload form, built once: reloading the lists never drops a chosen file. */
  build() {
    const t = (k, p) => this.i18n.t(k, p);
    const pick = select([], "", { "data-testid": "adm-list-campaign" });
    pick.addEventListener("change", () => { this.campaign = pick.value; this.report = null; this.shown = null; this.load(); });
    const file = el("input", { attrs: { type: "file", accept: ".csv,.txt,.xlsx", "data-testid": "adm-list-file" } });
    const name = input("", { "data-testid": "adm-list-name" });
    const column = input("", { placeholder: "phone" });
    const country = input("86", { size: "3", inputmode: "numeric" });
    const error = el("p", { cls: "error-line", attrs: { role: "alert", "data-testid": "adm-list-error" } });
    const send = button(this.i18n, "adm.list.upload", "adm-list-upload", async () => {
      error.textContent = "";
      if (!this.campaign || !file.files.length) { error.textContent = t("adm.list.need_file"); return; }
      const f = file.files[0];
      const q = new URLSearchParams({ filename: f.name, default_country: country.value.trim() || "86" });
      if (name.value.trim()) q.set("list", name.value.trim());
      if (column.value.trim()) q.set("number_column", column.value.trim());
      send.disabled = true;
      try {
        this.report = await uploadFile(this.api, `/api/admin/campaigns/${encodeURIComponent(this.campaign)}/lists?${q}`, f);
        this.toast(t("adm.list.done", this.report));
        this.shown = null;
        file.value = "";
        file.dispatchEvent(new Event("change"));
        name.value = "";
        await this.load();
      } catch (err) {
        error.textContent = err.message;
      } finally {
        send.disabled = false;
      }
    });
    this.pick = pick;
    this.results = el("div");
    this.root.replaceChildren(
      el("div", { cls: "row" }, field(this.i18n, "adm.list.campaign", pick), fileField(this.i18n, "adm.list.file", file),
        field(this.i18n, "adm.list.name", name), field(this.i18n, "adm.list.column", column),
        field(this.i18n, "adm.list.country", country), send),
      el("p", { cls: "muted", text: t("adm.list.hint"), ct: "adm.list.hint" }), error, this.results);
  }

  render() {
    const t = (k, p) => this.i18n.t(k, p);
    if (!this.results) this.build();
    this.pick.replaceChildren(...this.names.map((n) => el("option", { text: n, attrs: { value: n } })));
    this.pick.value = this.campaign || "";
    const parts = [];
    if (this.report) parts.push(this.reportView(this.report));
    parts.push(el("h4", { text: t("adm.list.stored"), ct: "adm.list.stored" }),
      table(this.i18n, ["adm.list.col.name", "adm.list.col.when", "adm.list.col.rows", "adm.list.col.ok",
                        "adm.list.col.bad", "adm.list.col.merged", "col.actions"],
            this.lists.map((l) => [l.name, when(l.imported_at), l.rows_total, l.rows_ok, l.rows_bad, l.rows_merged,
              el("span", { cls: "row", attrs: { "data-list": l.name } },
                l.rows_bad ? button(this.i18n, "adm.list.errors", "adm-list-errors", () => this.showErrors(l)) : "",
                confirmed(this.i18n, "adm.list.remove", "adm-list-remove", () => this.remove(l)))]),
            "adm-lists"));
    if (this.shown) {
      parts.push(el("h4", { text: t("adm.list.errors_of", { name: this.shown.list.name }) }),
        table(this.i18n, ["adm.list.col.line", "adm.list.col.reason", "adm.list.col.raw"],
              this.shown.rows.map((r) => [r.line, refusal(this.i18n, r), r.raw]), "adm-list-stored-errors"));
    }
    this.results.replaceChildren(...parts);
  }

  reportView(r) {
    const t = (k, p) => this.i18n.t(k, p);
    return el("div", { cls: "adm-report", attrs: { "data-testid": "adm-list-report" } },
      el("p", { attrs: { "data-testid": "adm-list-counts" }, text: t("adm.list.counts", r) }),
      r.errors.length
        ? table(this.i18n, ["adm.list.col.line", "adm.list.col.reason", "adm.list.col.raw"],
                r.errors.map((e) => [e.line, refusal(this.i18n, e), e.raw.join(", ")]), "adm-list-row-errors")
        : el("p", { cls: "muted", text: t("adm.list.no_errors"), ct: "adm.list.no_errors" }));
  }

  async remove(list) {
    try {
      const done = await this.api.request("DELETE", `/api/admin/lists/${list.id}`);
      this.toast(this.i18n.t("adm.list.removed", { name: list.name, ...done }));
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
      return;
    }
    if (this.shown?.list.id === list.id) this.shown = null;
    await this.load();
  }

  async showErrors(list) {
    try {
      this.shown = { list, rows: await this.api.get(`/api/admin/lists/${list.id}/errors`) };
      this.render();
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
    }
  }
}

export class DncSection {
  constructor(root, deps) {
    Object.assign(this, deps);          // api, i18n, toast
    this.root = root;
    this.names = [];
    this.result = null;                 // [[key, text], ...] of the last action
    this.failure = null;                // what the last file upload could not do
    this.MAX_SHOWN = 50;                // refused lines listed (the count says the rest)
  }

  setCampaigns(names) { this.names = names; }

  load() { this.render(); }

  render() {
    const t = (k, p) => this.i18n.t(k, p);
    const numbers = el("textarea", { attrs: { rows: "3", "data-testid": "adm-dnc-numbers", placeholder: "13812345678\n+86137*" } });
    const scope = select([["", t("adm.dnc.global")], ...this.names.map((n) => [n, n])], "", { "data-testid": "adm-dnc-campaign" });
    const kind = select([["dnc", "dnc"], ["blacklist", "blacklist"], ["refused", "refused"]], "dnc", { "data-testid": "adm-dnc-kind" });
    const file = el("input", { attrs: { type: "file", accept: ".csv,.txt", "data-testid": "adm-dnc-file" } });
    const error = el("p", { cls: "error-line", attrs: { role: "alert", "data-testid": "adm-dnc-error" } });
    // a prefix broader than a country code and 3 digits bars a whole country: the API
    // refuses it unless confirmed; the box is unticked again after every action
    const broad = el("input", { attrs: { type: "checkbox", "data-testid": "adm-dnc-broad" } });
    const list = () => numbers.value.split(/[\n,;]+/).map((n) => n.trim()).filter(Boolean);
    const body = (nums) => ({ numbers: nums, kind: kind.value, ...(scope.value ? { campaign: scope.value } : {}),
                              ...(broad.checked ? { allow_broad_prefix: true } : {}) });
    const run = async (fn) => {
      error.textContent = "";
      this.failure = null;
      try { await fn(); } catch (err) { error.textContent = err.message; return; }
      this.render();
    };
    const need = (nums) => { if (!nums.length) throw new Error(t("adm.dnc.need")); return nums; };
    // typed numbers refused ([{number, entry, reason, code}]): each said by its place in
    // the page's language; what was typed and chosen stays for the fix (the section is
    // drawn again)
    const typedRefused = (failureKey, refused) => {
      this.keep = { numbers: numbers.value, scope: scope.value, kind: kind.value };
      this.failure = t(failureKey, { n: refused.length });
      this.result = refused.slice(0, this.MAX_SHOWN).map((x) =>
        [t("adm.dnc.typed_line", { ...x, reason: dncRefusal(this.i18n, x) })]);
      if (refused.length > this.MAX_SHOWN) {
        this.result.push([t("adm.dnc.typed_more", { n: refused.length - this.MAX_SHOWN })]);
      }
    };
    const actions = el("div", { cls: "row" },
      button(this.i18n, "adm.dnc.add", "adm-dnc-add", () => run(async () => {
        const nums = need(list());
        // checked first, as a file is, so each refusal is said in the page's language
        // beside its number (the add's own refusal is one English sentence)
        const checked = await this.api.post("/api/admin/dnc/validate", body(nums));
        if (checked.refused.length) {
          typedRefused("adm.dnc.typed_refused", checked.refused);
          return;
        }
        const r = await this.api.post("/api/admin/dnc", body(nums));
        this.result = [[t("adm.dnc.added", r)]];
      }), "btn primary"),
      button(this.i18n, "adm.dnc.remove", "adm-dnc-remove", () => run(async () => {
        const nums = need(list());
        const r = await this.api.post("/api/admin/dnc/remove", { numbers: nums, ...(scope.value ? { campaign: scope.value } : {}) });
        this.result = [[t("adm.dnc.removed", r)]];
      })),
      button(this.i18n, "adm.dnc.check", "adm-dnc-check", () => run(async () => {
        const q = new URLSearchParams();
        for (const n of need(list()).slice(0, 100)) q.append("number", n);
        if (scope.value) q.set("campaign", scope.value);
        let hits;
        try {
          hits = await this.api.get(`/api/admin/dnc?${q}`);
        } catch (err) {
          // each refused entry with its code: said in the page's language by its place
          const refused = (err.fields || []).filter((f) => f.code && f.number);
          if (err.status !== 422 || !refused.length) throw err;
          typedRefused("adm.dnc.check_refused", refused.map((f) => ({ ...f, reason: f.message })));
          return;
        }
        this.result = Object.entries(hits).map(([n, by]) => [n, by || t("adm.dnc.free")]);
      })),
      button(this.i18n, "adm.dnc.upload", "adm-dnc-upload", () => run(async () => {
        if (!file.files.length) throw new Error(t("adm.list.need_file"));
        const name = file.files[0].name;
        const items = dncFileEntries(await file.files[0].text());
        if (!items.length) throw new Error(t("adm.dnc.file_empty", { file: name }));
        const r = await addDncFile(this.api, items, body);
        if (r.refused) {               // nothing added: every bad line named at once
          this.failure = t("adm.dnc.file_refused", { n: r.refused.length, file: name });
          this.result = r.refused.slice(0, this.MAX_SHOWN).map((x) =>
            [t("adm.dnc.file_line", { ...x, reason: dncRefusal(this.i18n, x) })]);
          if (r.refused.length > this.MAX_SHOWN) {
            this.result.push([t("adm.dnc.file_more", { n: r.refused.length - this.MAX_SHOWN })]);
          }
          return;
        }
        if (r.failed) {                // the batches before it are in, the rest not
          this.failure = t("adm.dnc.file_partial", { file: name, added: r.added, ...r.failed,
                                                     error: r.failed.message });
        }
        this.result = [[t("adm.dnc.uploaded", { n: r.read, added: r.added })]];
      })));
    if (this.keep) {
      numbers.value = this.keep.numbers;
      scope.value = this.keep.scope;
      kind.value = this.keep.kind;
      this.keep = null;
    }
    const parts = [
      el("div", { cls: "row" }, field(this.i18n, "adm.dnc.numbers", numbers, { grow: true }),
        field(this.i18n, "adm.dnc.scope", scope), field(this.i18n, "adm.dnc.kind", kind),
        fileField(this.i18n, "adm.dnc.file", file), field(this.i18n, "adm.dnc.broad", broad)),
      el("p", { cls: "muted", text: t("adm.dnc.hint"), ct: "adm.dnc.hint" }), actions, error];
    if (this.failure) error.textContent = this.failure;
    if (this.result) {
      parts.push(el("ul", { cls: "adm-result", attrs: { "data-testid": "adm-dnc-result" } },
        ...this.result.map((cells) => el("li", { text: cells.join(": ") }))));
    }
    this.root.replaceChildren(...parts);
  }
}
