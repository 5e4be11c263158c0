// console-qa.js - the QA form (质检) of the recording open in the console's Recordings tab:
// rendered from the campaign's form definition (GET /api/recordings/{id} gives qa_form and
// the scores already given), scored by the supervisor in the page, saved with
// POST /api/recordings/{id}/qa (the API validates and computes the stored score; the
// figure shown while typing is the same formula, a preview only: dialer/review/qaform.py
// QaForm.score). The latest stored score is shown when the recording is opened again.
//
//   const qa = new QaPanel(box, { api, i18n, toast, onSaved });
//   qa.show(detail);   // the recording's detail
//   qa.clear();
import { el } from "./dom.js";
import { isoDateTime } from "./when.js";

/** The score the API would store (0-100) for `given` points per item id, or null while an
 *  item is missing or out of range. Same rule as QaForm.score: 100 x the weighted share
 *  of points; a critical item given 0 makes it 0. */
export function previewScore(form, given) {
  let total = 0, weights = 0, failed = false;
  for (const item of form.item) {
    const points = given[item.id];
    if (points === undefined || !(points >= 0 && points <= item.max) || (points * 2) % 1) return null;
    const weight = item.weight ?? 1;
    if (item.critical && points === 0) failed = true;
    total += (weight * points) / item.max;
    weights += weight;
  }
  return failed ? 0 : round2((100 * total) / weights);
}

/** `x` to two decimals as Python's round(x, 2) does it: a tie goes to the even cent
 *  (55.625 -> 55.62), so the preview is the figure the API stores. */
function round2(x) {
  const y = x * 100;
  const floor = Math.floor(y);
  const up = y - floor > 0.5 || (y - floor === 0.5 && floor % 2 !== 0);
  return (up ? floor + 1 : floor) / 100;
}

export class QaPanel {
  /** @param {HTMLElement} box
   *  @param {{ api: any, i18n: any, toast: (text: string, bad?: boolean) => void,
   *            onSaved: (recording: number, score: number, count: number) => void }} deps */
  constructor(box, deps) {
    this.box = box;
    Object.assign(this, deps);
    this.detail = null;
    this.draft = {};       // item id -> text typed, kept across a language switch
    this.comments = "";
    this.saving = false;
  }

  t(key, params) { return this.i18n.t(key, params); }

  clear() {
    this.detail = null;
    this.box.replaceChildren();
  }

  show(detail) {
    const changed = !this.detail || this.detail.id !== detail.id;
    this.detail = detail;
    if (changed) {
      const latest = detail.scores[0];
      const ids = (detail.qa_form?.item || []).map((i) => i.id);
      // start from the latest score when it was given against the same items
      this.draft = latest && ids.every((id) => id in latest.items)
        ? Object.fromEntries(ids.map((id) => [id, String(latest.items[id])])) : {};
      this.comments = latest ? latest.comments : "";
    }
    this.render();
  }

  latestLine() {
    const d = this.detail;
    const latest = d.scores[0];
    if (!latest) return el("p", { cls: "muted", text: this.t("qa.never"), attrs: { "data-testid": "qa-latest" } });
    const pass = latest.score >= (latest.form?.pass_score ?? 80);
    return el("p", { cls: pass ? "qa-latest pass" : "qa-latest fail",
                     attrs: { "data-testid": "qa-latest", "data-score": String(latest.score) },
                     text: this.t("qa.latest", {
                       score: latest.score.toFixed(1), verdict: this.t(pass ? "qa.pass" : "qa.fail"),
                       reviewer: latest.reviewer, at: isoDateTime(latest.at),
                       n: d.scores.length }) });
  }

  given() {
    const out = {};
    for (const [id, text] of Object.entries(this.draft)) {
      if (String(text).trim() !== "") out[id] = Number(text);
    }
    return out;
  }

  render() {
    const d = this.detail;
    if (!d) return;
    const form = d.qa_form;
    const head = el("h3", { text: form?.title ? this.t("qa.title_named", { title: form.title }) : this.t("qa.title") });
    if (!form) {
      this.box.replaceChildren(head, this.latestLine(),
        el("p", { cls: "muted", attrs: { "data-testid": "qa-none" },
                  text: this.t("qa.none", { campaign: d.campaign }) }));
      return;
    }
    const preview = el("span", { cls: "qa-preview", attrs: { "data-testid": "qa-preview" } });
    const update = () => {
      const score = previewScore(form, this.given());
      preview.textContent = score === null ? this.t("qa.incomplete")
        : this.t("qa.preview", { score: score.toFixed(1) });
      preview.className = score === null ? "qa-preview muted"
        : score >= form.pass_score ? "qa-preview pass" : "qa-preview fail";
    };
    const rows = form.item.map((item) => {
      const input = el("input", { attrs: {
        type: "number", min: "0", max: String(item.max), step: "0.5", inputmode: "decimal",
        "data-testid": "qa-item", "data-item": item.id, "aria-label": item.label } });
      input.value = this.draft[item.id] ?? "";
      input.addEventListener("input", () => { this.draft[item.id] = input.value; update(); });
      const label = el("td", {}, el("span", { text: item.label }));
      if (item.critical) label.append(" ", el("span", { cls: "qa-critical", text: this.t("qa.critical") }));
      if (item.help) label.append(el("div", { cls: "muted qa-help", text: item.help }));
      return el("tr", { attrs: { "data-item": item.id } }, label,
        el("td", { cls: "num" }, input),
        el("td", { cls: "muted", text: this.t("qa.of", { max: item.max, weight: item.weight ?? 1 }) }));
    });
    const comments = el("textarea", { attrs: { id: "qa-comments", maxlength: "5000", rows: "2",
                                                "data-testid": "qa-comments" } });
    comments.value = this.comments;
    comments.addEventListener("input", () => { this.comments = comments.value; });
    const save = el("button", { cls: "btn primary", text: this.t("qa.save"),
                                attrs: { type: "submit", "data-testid": "qa-save" } });
    save.disabled = this.saving;
    const formEl = el("form", { cls: "qa-form", attrs: { "data-testid": "qa-form", novalidate: "" } },
      el("table", { cls: "grid qa-items" },
        el("thead", {}, el("tr", {}, el("th", { text: this.t("qa.item") }),
                                     el("th", { cls: "num", text: this.t("qa.points") }), el("th"))),
        el("tbody", {}, ...rows)),
      el("div", { cls: "field" }, el("label", { text: this.t("qa.comments"), attrs: { for: "qa-comments" } }), comments),
      el("div", { cls: "row" }, save, preview,
         el("span", { cls: "muted", text: this.t("qa.pass_score", { score: form.pass_score }) })));
    formEl.addEventListener("submit", (e) => { e.preventDefault(); this.save(form); });
    this.box.replaceChildren(head, this.latestLine(), formEl);
    update();
  }

  async save(form) {
    const given = this.given();
    const missing = form.item.filter((i) => !(i.id in given)).map((i) => i.label);
    if (missing.length) {
      this.toast(this.t("qa.missing", { items: missing.join(", ") }), true);
      return;
    }
    const id = this.detail.id;
    this.saving = true;
    this.render();
    try {
      const saved = await this.api.post(`/api/recordings/${id}/qa`, { items: given, comments: this.comments });
      if (this.detail && this.detail.id === id) {
        this.detail.scores = [saved, ...this.detail.scores];
      }
      this.toast(this.t("qa.saved", { score: saved.score.toFixed(1) }));
      this.onSaved(id, saved.score, this.detail ? this.detail.scores.length : 1);
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
    } finally {
      this.saving = false;
      this.render();
    }
  }
}
