// console-admin-strategy.js - form editors for the campaign strategy's structured keys
// (dialer/campaigns/strategies.py): `windows` (calling windows per weekday, as
// "HH:MM-HH:MM" ranges, and holidays, ISO dates) and `retries` (outcome = seconds, or
// "next_day"). Rows with typed inputs (24-hour HH:MM time boxes, ISO date boxes with a
// calendar (date-box.js), an outcome
// list, a delay with its unit) replace the raw JSON. The page only translates between rows and the
// strategy's own shape; the service checks the result as `trunkline dialer campaign
// create` checks a file, and its words are shown beside the editor. The pure
// translations are exported for the round-trip test (tests/desk_web).
import { clockBox, parseClock } from "./console-admin-clock.js";
import { button, el, input, select } from "./console-admin-kit.js";
import { dateBox, parseDate } from "./date-box.js";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/** The outcomes a retry delay may be set for (dialer/vocab.py CallOutcome). */
export const OUTCOMES = ["busy", "no_answer", "machine", "congestion", "unreachable", "abandoned",
                         "error", "rejected", "invalid_number", "fax", "human"];
export const NEXT_DAY = "next_day";
const UNITS = [["h", 3600], ["min", 60], ["s", 1]];

/** "09:00-12:00" as [start, end] (texts as written: the service checks them). */
export function splitRange(text) {
  const at = String(text).indexOf("-");
  return at < 0 ? [String(text).trim(), ""] : [text.slice(0, at).trim(), text.slice(at + 1).trim()];
}

/** A strategy's `windows` as {days: {mon: [[start, end], ...], ...}, holidays: [...]}:
 *  `default` fills the weekdays not given (as Windows.from_dict reads it). */
export function windowsToRows(spec) {
  const s = spec || {};
  const days = {};
  for (const d of WEEKDAYS) days[d] = (s[d] ?? s.default ?? []).map(splitRange);
  return { days, holidays: [...(s.holidays || [])] };
}

/** The rows back as the strategy's `windows`: every weekday given (none: no calling). */
export function rowsToWindows(rows) {
  const out = {};
  for (const d of WEEKDAYS) out[d] = (rows.days[d] || []).map(([a, b]) => `${a}-${b}`);
  out.holidays = rows.holidays.filter((h) => h !== "");
  return out;
}

/** A delay in seconds (or "next_day") as [amount, unit]: the largest unit it is whole in. */
export function delayToRow(value) {
  if (value === NEXT_DAY) return ["", NEXT_DAY];
  if (typeof value !== "number") return [String(value), "s"];   // shown as stored: refused on save
  for (const [unit, size] of UNITS) if (value !== 0 && value % size === 0) return [String(value / size), unit];
  return [String(value), "s"];
}

/** [amount, unit] back as seconds; an amount that is not a number goes as typed, so the
 *  service refuses it in its own words. */
export function rowToDelay(amount, unit) {
  if (unit === NEXT_DAY) return NEXT_DAY;
  const raw = String(amount).trim().replace(",", ".");
  const n = Number(raw);
  if (raw === "" || !Number.isFinite(n)) return raw;
  const size = UNITS.find(([u]) => u === unit)?.[1] ?? 1;
  return Math.round(n * size * 1000) / 1000;
}

export function retriesToRows(spec) {
  return Object.entries(spec || {}).map(([outcome, delay]) => [outcome, ...delayToRow(delay)]);
}

export function rowsToRetries(rows) {
  return Object.fromEntries(rows.map(([outcome, amount, unit]) => [outcome, rowToDelay(amount, unit)]));
}

/** The calling windows' editor: a row per weekday with its ranges (two 24-hour time boxes
 *  and a remove button each, one to add), a button to copy Monday's to every day, and the
 *  holidays as ISO date boxes (date-box.js). `read()` gives the strategy's `windows`, or
 *  throws (`key` strategy.windows) naming the first box whose text is not a time or a
 *  date, so nothing is sent. */
export function windowsEditor(i18n, spec) {
  const rows = windowsToRows(spec);
  const lines = {};                      // day -> [[startBox, endBox], ...]
  const cells = {};
  const t = (k) => i18n.t(k);
  const bad = new Map();                 // time box -> what is wrong with its text
  // not .field-error: the service's refusal goes to the field's own line (showFieldError)
  const error = el("p", { cls: "error-line adm-clock-error", attrs: { role: "alert", "data-testid": "adm-window-error" } });
  const report = (box, why) => {
    if (why) bad.set(box, why); else bad.delete(box);
    error.textContent = [...bad.values()][0] || "";
  };
  const addRange = (day, [a, b]) => {
    const name = (end) => `${t(`adm.day.${day}`)}${t("adm.win.sep")}${t(end)}`;
    const start = clockBox(i18n, a, { testid: `adm-window-${day}-start`, label: name("adm.win.start"), report });
    const end = clockBox(i18n, b, { testid: `adm-window-${day}-end`, label: name("adm.win.end"), report });
    const pair = [start, end];
    const chip = el("span", { cls: "adm-range", attrs: { "data-testid": `adm-window-${day}` } }, start,
      el("span", { text: "–" }), end,
      button(i18n, "adm.remove", `adm-window-${day}-remove`, () => {
        lines[day].splice(lines[day].indexOf(pair), 1);
        chip.remove();
        for (const box of pair) report(box, "");
      }, "btn ghost small"));
    lines[day].push(pair);
    cells[day].insertBefore(chip, cells[day].lastChild);
  };
  const body = el("tbody");
  for (const day of WEEKDAYS) {
    lines[day] = [];
    cells[day] = el("td", { cls: "adm-ranges" },
      button(i18n, "adm.win.add", `adm-window-${day}-add`, () => addRange(day, ["09:00", "18:00"]), "btn ghost small"));
    body.append(el("tr", { attrs: { "data-day": day } },
      el("th", { text: t(`adm.day.${day}`), ct: `adm.day.${day}` }), cells[day]));
    for (const r of rows.days[day]) addRange(day, r);
  }
  const copy = button(i18n, "adm.win.copy", "adm-window-copy", () => {
    const first = lines.mon.map((pair) => pair.map((box) => parseClock(box.value) ?? box.value));
    for (const day of WEEKDAYS.slice(1)) {
      for (const n of [...cells[day].querySelectorAll(".adm-range")]) n.remove();
      for (const box of lines[day].flat()) report(box, "");
      lines[day] = [];
      for (const r of first) addRange(day, r);
    }
  }, "btn ghost small");
  const hols = [];
  const holBox = el("div", { cls: "row adm-holidays" });
  const addHoliday = (value) => {
    // an ISO date box, not <input type=date>: that one writes the date in the browser's
    // locale (10/01/2026 on an en-US browser showing the zh page)
    const field = dateBox(i18n, value, { testid: "adm-holiday", label: t("adm.win.holiday"), report, required: true });
    const box = field.input;
    const chip = el("span", { cls: "adm-range" }, field, button(i18n, "adm.remove", "adm-holiday-remove", () => {
      hols.splice(hols.indexOf(box), 1);
      chip.remove();
      report(box, "");
    }, "btn ghost small"));
    hols.push(box);
    holBox.insertBefore(chip, holBox.lastChild);
  };
  holBox.append(button(i18n, "adm.win.add_holiday", "adm-holiday-add", () => addHoliday(""), "btn ghost small"));
  for (const h of rows.holidays) addHoliday(h);
  const node = el("div", { cls: "adm-windows", attrs: { "data-testid": "adm-windows" } },
    el("table", { cls: "grid adm-window-grid" }, body), error, copy,
    el("p", { cls: "muted", text: t("adm.win.holidays"), ct: "adm.win.holidays" }), holBox);
  const read = () => {
    const wrong = WEEKDAYS.flatMap((d) => lines[d].flat()).map((box) => box.clockError())
      .concat(hols.map((box) => box.dateError())).find(Boolean);
    if (wrong) throw Object.assign(new Error(wrong), { key: "strategy.windows" });
    return rowsToWindows({
      days: Object.fromEntries(WEEKDAYS.map((d) => [d, lines[d].map((pair) => pair.map((box) => parseClock(box.value)))])),
      holidays: hols.map((h) => parseDate(h.value)),
    });
  };
  return { node, read };
}

/** The retry delays' editor: per outcome, a delay with its unit (hours, minutes, seconds
 *  or the next day), rows added or removed; outcomes left out are final. */
export function retriesEditor(i18n, spec) {
  const rows = [];
  const body = el("tbody");
  const units = () => [["s", i18n.t("adm.retry.s")], ["min", i18n.t("adm.retry.min")],
                       ["h", i18n.t("adm.retry.h")], [NEXT_DAY, i18n.t("adm.retry.next_day")]];
  const add = ([outcome, amount, unit]) => {
    const known = OUTCOMES.includes(outcome) ? OUTCOMES : [outcome, ...OUTCOMES];
    const what = select(known.map((o) => [o, i18n.tOr(`outcome.${o}`, o)]), outcome, { "data-testid": "adm-retry-outcome" });
    const size = input(amount, { size: "5", inputmode: "decimal", "data-testid": "adm-retry-amount" });
    const per = select(units(), unit, { "data-testid": "adm-retry-unit" });
    const sync = () => { size.disabled = per.value === NEXT_DAY; };
    per.addEventListener("change", sync);
    sync();
    const row = [what, size, per];
    const tr = el("tr", { attrs: { "data-testid": "adm-retry" } }, ...row.map((c) => el("td", {}, c)),
      el("td", {}, button(i18n, "adm.remove", "adm-retry-remove", () => {
        rows.splice(rows.indexOf(row), 1);
        tr.remove();
      }, "btn ghost small")));
    rows.push(row);
    body.append(tr);
  };
  for (const r of retriesToRows(spec)) add(r);
  const heads = ["adm.retry.outcome", "adm.retry.after", "adm.retry.unit", ""];
  const node = el("div", { cls: "adm-retries", attrs: { "data-testid": "adm-retries" } },
    el("table", { cls: "grid" }, el("thead", {}, el("tr", {}, ...heads.map((k) =>
      (k ? el("th", { text: i18n.t(k), ct: k }) : el("th"))))), body),
    button(i18n, "adm.retry.add", "adm-retry-add", () => {
      const used = new Set(rows.map(([o]) => o.value));
      add([OUTCOMES.find((o) => !used.has(o)) || "busy", "10", "min"]);
    }, "btn ghost small"));
  const read = () => rowsToRetries(rows.map(([o, a, u]) => [o.value, a.value, u.value]));
  return { node, read };
}
