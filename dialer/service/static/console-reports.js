// console-reports.js - the console's Reports tab: one local day (or any since/until) of
// one campaign or all, as charts drawn in the browser (console-charts.js) from the report
// API's JSON rows (GET /api/reports/{kind}, docs/quality-and-reports.md): connects and
// abandons per hour, the abandon rate per hour and each campaign's regulated-window rate
// against its cap (a line for the cap), occupancy per agent, where agents' time went
// (talk, wrap-up, pause, waiting), outcomes, penetration over time and the best hours to
// call. Each chart links its rows as CSV and XLSX; the day's printable report and its
// workbook are links too (the API sends them as files).
import { barChart, lineChart } from "./console-charts.js";
import { dateBox, parseDate } from "./date-box.js";

const CHARTS = ["hourly", "hour_rate", "window_rate", "occupancy", "breakdown", "outcomes",
                "penetration", "best_hours"];
/** Which report kind each chart's CSV/XLSX links export. */
const EXPORTS = { hourly: "hour", hour_rate: "hour", window_rate: "abandon", occupancy: "agent",
                  breakdown: "breakdown", outcomes: "outcomes", penetration: "penetration",
                  best_hours: "best_hours" };

const pct = (v) => `${(v * 100).toFixed(v && v < 0.1 ? 1 : 0)}%`;
const minutes = (m) => `${Math.round(m * 10) / 10} min`;
const count = (v) => String(Math.round(v * 10) / 10);

function two(n) { return String(n).padStart(2, "0"); }

export function todayIn(zone) {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit",
                                            day: "2-digit" }).format(new Date());
}

function nextDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** Rows summed per key (several campaigns in one chart). */
function sumBy(rows, key, fields) {
  const out = new Map();
  for (const r of rows) {
    const acc = out.get(r[key]) || Object.fromEntries([[key, r[key]], ...fields.map((f) => [f, 0])]);
    for (const f of fields) acc[f] += r[f] || 0;
    out.set(r[key], acc);
  }
  return [...out.values()].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0));
}

export class Reports {
  /**
   * @param {{ api: any, i18n: any, $: (id: string) => HTMLElement,
   *           campaigns: () => string[], toast: (text: string, bad?: boolean) => void }} deps
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "Asia/Shanghai";
    this.data = null;
    this.loading = null;
  }

  start() {
    const $ = this.$;
    // an ISO date box (date-box.js), not <input type=date>, which writes the day in the
    // browser's locale (10/01/2026 on an en-US browser showing the zh page)
    const field = dateBox(this.i18n, todayIn(this.zone), {
      testid: "report-date", label: this.i18n.t("reports.date"), required: true,
      report: (_, why) => { $("report-date-error").textContent = why; } });
    field.input.id = "report-date";
    $("report-date-slot").replaceWith(field);
    $("report-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const why = $("report-date").dateError();
      $("report-date-error").textContent = why;
      if (why) { $("report-date").focus(); return; }
      $("report-date").value = this.day();
      this.load();
    });
    $("report-zone").textContent = this.zone;
  }

  /** The day chosen, "YYYY-MM-DD" (today in the zone while the box holds no date). */
  day() {
    const box = this.$("report-date");             // made by start(); render() may come first
    return (box && parseDate(box.value)) || todayIn(this.zone);
  }

  /** The filters as query parameters. */
  query(extra = {}) {
    const day = this.day();
    const q = { since: day, until: nextDay(day), time_zone: this.zone, ...extra };
    const campaign = this.$("report-campaign").value;
    if (campaign) q.campaign = campaign;
    return new URLSearchParams(q).toString();
  }

  fillCampaigns() {
    const select = this.$("report-campaign");
    const have = [...select.options].map((o) => o.value);
    const names = ["", ...this.campaigns()];
    if (have.join("\n") === names.join("\n")) return;
    const chosen = select.value;
    select.replaceChildren(...names.map((n) => {
      const o = document.createElement("option");
      o.value = n;
      o.textContent = n || this.i18n.t("reports.all");
      return o;
    }));
    select.value = names.includes(chosen) ? chosen : "";
  }

  async load() {
    this.fillCampaigns();
    const kinds = ["hour", "abandon", "agent", "breakdown", "outcomes", "penetration", "best_hours"];
    const base = this.query();
    const loading = Promise.all(kinds.map((k) => this.api.get(`/api/reports/${k}?${base}`)));
    this.loading = loading;
    this.$("view-reports").dataset.state = "loading";
    try {
      const bodies = await loading;
      if (this.loading !== loading) return;          // a newer load won
      this.data = Object.fromEntries(kinds.map((k, i) => [k, bodies[i].rows]));
      this.render();
    } catch (err) {
      this.$("view-reports").dataset.state = "error";
      this.toast(this.i18n.t("error.generic", { message: err.message }), true);
    }
  }

  links() {
    const day = this.day();
    // lang: the printable report and the workbook's titles in the page's language
    const q = new URLSearchParams({ date: day, time_zone: this.zone, lang: this.i18n.lang });
    if (this.$("report-campaign").value) q.set("campaign", this.$("report-campaign").value);
    this.$("report-daily").href = `/api/reports/daily?${q}`;
    q.set("format", "xlsx");
    this.$("report-daily-xlsx").href = `/api/reports/daily?${q}`;
  }

  render() {
    this.links();
    if (!this.data) return;
    const t = (k, p) => this.i18n.t(k, p);
    const d = this.data;
    const emptyText = t("reports.empty");
    const hourly = sumBy(d.hour, "hour", ["dials", "answers", "connects", "abandoned"]);
    const hourLabels = hourly.map((r) => `${two(r.hour)}:00`);
    const caps = d.abandon.filter((r) => r.cap !== null && r.cap !== undefined);
    const cap = caps.length ? Math.min(...caps.map((r) => r.cap)) : null;
    const capLine = cap === null ? [] : [{ value: cap, label: t("reports.cap", { cap: pct(cap) }), cls: "s-cap" }];
    const severalCampaigns = new Set(d.agent.map((r) => r.campaign)).size > 1;
    const charts = {
      hourly: barChart({
        categories: hourLabels, format: count, minTop: 4, emptyText, title: t("chart.hourly"),
        series: [{ name: t("series.connects"), values: hourly.map((r) => r.connects), cls: "s-connects" },
                 { name: t("series.abandoned"), values: hourly.map((r) => r.abandoned), cls: "s-abandoned" }] }),
      hour_rate: barChart({
        categories: hourLabels, format: pct, emptyText, title: t("chart.hour_rate"), lines: capLine,
        series: [{ name: t("series.abandon_rate"),
                   values: hourly.map((r) => (r.answers ? r.abandoned / r.answers : null)), cls: "s-abandoned" }] }),
      window_rate: barChart({
        categories: d.abandon.map((r) => r.campaign), format: pct, emptyText, title: t("chart.window_rate"),
        lines: capLine,
        series: [{ name: t("series.window_rate"), values: d.abandon.map((r) => r.window_abandon_rate),
                   cls: "s-window" }] }),
      occupancy: barChart({
        categories: d.agent.map((r) => (severalCampaigns ? `${r.agent} · ${r.campaign}` : r.agent)),
        format: pct, max: 1, emptyText, title: t("chart.occupancy"),
        series: [{ name: t("series.occupancy"), values: d.agent.map((r) => r.occupancy), cls: "s-occupancy" }] }),
      breakdown: barChart({
        categories: d.breakdown.map((r) => r.agent), stacked: true, format: minutes, minTop: 5, emptyText,
        title: t("chart.breakdown"),
        series: ["talk_s", "wrap_s", "pause_s", "waiting_s"].map((k) => ({
          name: t(`series.${k}`), cls: `s-${k}`,
          values: d.breakdown.map((r) => (r[k] === null ? null : r[k] / 60)) })) }),
      outcomes: barChart({
        ...(() => {
          const rows = sumBy(d.outcomes, "outcome", ["count"]).sort((a, b) => b.count - a.count);
          return { categories: rows.map((r) => this.i18n.tOr(`outcome.${r.outcome}`, r.outcome)),
                   series: [{ name: t("series.calls"), values: rows.map((r) => r.count), cls: "s-outcomes" }] };
        })(),
        format: count, minTop: 4, emptyText, title: t("chart.outcomes") }),
      penetration: lineChart({
        categories: [...new Set(d.penetration.map((r) => r.hour))].sort().map((h) => h.slice(11, 16) || h),
        ...(() => {
          const labels = [...new Set(d.penetration.map((r) => r.hour))].sort();
          const names = [...new Set(d.penetration.map((r) => r.campaign))];
          return { series: names.map((n, i) => ({
            name: n, cls: `s-line${i % 4}`,
            values: labels.map((h) => d.penetration.find((r) => r.campaign === n && r.hour === h)?.penetration ?? null) })) };
        })(),
        format: pct, max: 1, emptyText, title: t("chart.penetration") }),
      best_hours: barChart({
        ...(() => {
          const rows = sumBy(d.best_hours, "hour", ["dials", "connects"]).map((r) => ({
            ...r, rate: r.dials ? r.connects / r.dials : 0 })).sort((a, b) => b.rate - a.rate).slice(0, 12);
          return { categories: rows.map((r) => `${two(r.hour)}:00`),
                   series: [{ name: t("series.connect_rate"), values: rows.map((r) => r.rate), cls: "s-connects" }] };
        })(),
        format: pct, emptyText, title: t("chart.best_hours") }),
    };
    const q = this.query();
    for (const name of CHARTS) {
      const box = this.$(`chart-${name}`);
      box.querySelector("h3").textContent = t(`chart.${name}`);
      box.querySelector(".chart-body").replaceChildren(charts[name]);
      const [csv, xlsx] = box.querySelectorAll("a");
      csv.href = `/api/reports/${EXPORTS[name]}?${q}&format=csv`;
      xlsx.href = `/api/reports/${EXPORTS[name]}?${q}&format=xlsx&lang=${encodeURIComponent(this.i18n.lang)}`;
    }
    const tiles = sumBy(d.hour, "x", ["dials", "answers", "connects", "abandoned"])[0]
      || { dials: 0, answers: 0, connects: 0, abandoned: 0 };
    this.$("report-summary").textContent = t("reports.summary", {
      dials: tiles.dials, connects: tiles.connects, abandoned: tiles.abandoned,
      rate: tiles.answers ? pct(tiles.abandoned / tiles.answers) : "–" });
    this.$("view-reports").dataset.state = "ready";
  }
}

export const REPORT_CHARTS = CHARTS;
