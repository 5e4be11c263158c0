// console-recordings.js - the console's Recordings tab: search the calls' recordings by
// agent (工号), number, campaign and disposition (GET /api/recordings, newest first) and
// open one: it plays in the page's <audio> player (GET /api/recordings/{id}/audio: the
// stereo WAV, customer left and agent right, with Range so the player seeks), its waveform
// is drawn from the server's peaks with a playhead and click-to-seek (console-waveform.js),
// and the campaign's QA form (质检) is there to score it (console-qa.js). Downloads are
// audited by the API. The search results list each recording's latest QA score.
import { BUCKETS, Waveform } from "./console-waveform.js";
import { QaPanel } from "./console-qa.js";
import { el } from "./dom.js";
import { isoDateTime } from "./when.js";


export class Recordings {
  /** @param {{ api: any, i18n: any, $: (id: string) => HTMLElement,
   *            toast: (text: string, bad?: boolean) => void }} deps */
  constructor(deps) {
    Object.assign(this, deps);
    this.items = [];
    this.playing = null;
    this.wave = null;
    this.qa = null;
  }

  start() {
    const label = (k, p) => this.i18n.t(k, p);
    this.wave = new Waveform(this.$("rec-wave"), this.$("rec-player"), { label });
    this.qa = new QaPanel(this.$("rec-qa"), {
      api: this.api, i18n: this.i18n, toast: this.toast,
      onSaved: (id, score, count) => {
        for (const r of this.items) if (r.id === id) Object.assign(r, { qa_score: score, qa_count: count });
        this.render();
      } });
    this.$("rec-form").addEventListener("submit", (e) => { e.preventDefault(); this.search(); });
  }

  async search() {
    const q = new URLSearchParams({ per_page: "50" });
    for (const [id, key] of [["rec-agent", "agent"], ["rec-number", "number"],
                             ["rec-campaign", "campaign"], ["rec-disposition", "disposition"]]) {
      const v = this.$(id).value.trim();
      if (v) q.set(key, v);
    }
    try {
      const page = await this.api.get(`/api/recordings?${q}`);
      this.items = page.items;
      this.$("rec-total").textContent = this.i18n.t("rec.total", { n: page.total });
      this.render();
    } catch (err) {
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
    }
  }

  /** Open a recording: play it, draw its waveform and show its QA form and scores. */
  async play(r) {
    const player = this.$("rec-player");
    this.playing = r.id;
    player.src = `/api/recordings/${r.id}/audio`;
    player.dataset.recording = String(r.id);
    this.$("rec-now").textContent = this.i18n.t("rec.now", {
      agent: r.agent, number: r.number, at: isoDateTime(r.started_at) });
    this.$("rec-open").classList.remove("hidden");
    player.play().catch((err) => {
      // AbortError: paused or another recording opened before it started; not a failure
      if (err.name !== "AbortError") this.toast(this.i18n.t("error.generic", { message: err.message }), true);
    });
    this.render();
    this.wave.clear();
    this.qa.clear();
    this.$("rec-wave-state").textContent = this.i18n.t("rec.wave.loading");
    const [wave, detail] = await Promise.allSettled([
      this.api.get(`/api/recordings/${r.id}/waveform?buckets=${BUCKETS}`),
      this.api.get(`/api/recordings/${r.id}`)]);
    if (this.playing !== r.id) return;               // another one was opened meanwhile
    if (wave.status === "fulfilled") {
      this.wave.show(wave.value);
      this.$("rec-wave-state").textContent = "";
    } else {
      this.$("rec-wave-state").textContent = this.i18n.t("rec.wave.failed", { message: wave.reason.message });
    }
    if (detail.status === "fulfilled") this.qa.show(detail.value);
    else this.toast(this.i18n.t("error.generic", { message: detail.reason.message }), true);
  }

  render() {
    const t = (k, p) => this.i18n.t(k, p);
    const rows = this.items.map((r) => {
      const play = el("button", { text: t("rec.play"), cls: r.id === this.playing ? "btn active" : "btn",
                                  attrs: { type: "button", "data-testid": "rec-play" } });
      play.disabled = r.state !== "complete";
      play.addEventListener("click", () => this.play(r));
      const download = el("a", { text: t("rec.download"), cls: "btn ghost",
                                 attrs: { href: `/api/recordings/${r.id}/audio?download=true`,
                                          download: "", "data-testid": "rec-download" } });
      return el("tr", { attrs: { "data-recording": r.id, "data-agent": r.agent } },
        el("td", { text: isoDateTime(r.started_at) }),
        el("td", { text: r.agent }),
        el("td", { text: r.number }),
        el("td", { text: r.campaign }),
        el("td", { cls: "num", text: r.duration === null ? "–" : `${r.duration.toFixed(1)} s` }),
        // the campaign's label for the code (the words the agent clicked), the page's own
        // words for the built-in wrap-up timeout, else the code
        el("td", { text: r.disposition_label || (r.disposition === "wrap_timeout"
                     ? t("rec.disp.wrap_timeout") : r.disposition) || "–",
                   attrs: { "data-testid": "rec-disposition-label", title: r.disposition || "" } }),
        el("td", { cls: "num", text: r.qa_score === null ? "–" : r.qa_score.toFixed(1),
                   attrs: { "data-testid": "rec-qa" } }),
        el("td", {}, el("div", { cls: "actions" }, play, download)));
    });
    this.$("rec-rows").replaceChildren(...rows);
    this.$("rec-none").classList.toggle("hidden", rows.length > 0);
    if (this.qa) this.qa.render();                   // in the language chosen now
    if (this.wave && this.wave.svg) this.wave.svg.setAttribute("aria-label", t("rec.wave.seek"));
  }
}
