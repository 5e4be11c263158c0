// date-box.js - an ISO "YYYY-MM-DD" date box with a calendar in the page's language, for
// every date the console and the desk take (holidays, the report's day, a disposition's
// date field, a callback's day).
// Chromium's <input type=date> draws its field in the *browser's* locale, not the page's:
// a zh-CN page on an en-US browser shows "10/01/2026", and an operator cannot tell the
// month from the day (nor, on a zh-CN browser, read an English page's 2026/10/01 as
// the same thing). The service stores and takes ISO 8601 dates (YYYY-MM-DD), which read
// the same in both languages, so the box is a text input that shows exactly that. It
// takes what people type ("2026-10-01", "2026-10-1", "2026/10/01", "2026.10.1",
// "20261001", "2026年10月1日", full-width digits from a Chinese IME), shows the ISO date once
// it is left, steps the year, month or day under the caret with the arrow keys (as the
// native field does), and names in the page's language what is wrong with text that is
// not a date. A button beside it opens a month calendar drawn by the page, in the page's
// language (Monday first, as calendars in China are), so picking a day by mouse stays.
// The pure parts are exported for the property test (tests/desk_web).

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** Full-width digits and separators (what a Chinese IME types) as ASCII. */
function ascii(text) {
  return String(text).trim()
    .replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xFF10 + 48))
    .replace(/[\uFF0D\uFF0F\uFF0E\u2010-\u2015\u2212]/g, "-");
}

/** Midnight UTC of `year`-`month`-`day`, months and days past their ends carried over
 *  (day 0 is the month before's last). Date.UTC would read years 0-99 as 1900-1999, and
 *  a stand-in year then moved is off by a day across 29 February: set all three at once. */
function utcDay(year, month, day) {
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  return at;
}

function daysIn(year, month) {
  return utcDay(year, month + 1, 0).getUTCDate();
}

/** The date in `text` as "YYYY-MM-DD", or null if it is not one: year first, four
 *  digits (ISO 8601's order, the one order both languages read alike), then month and
 *  day, separated by "-", "/", "." or 年/月/日, or written together as YYYYMMDD. A day that
 *  the month does not have (2026-02-30) is not a date. */
export function parseDate(text) {
  const t = ascii(text);
  const m = /^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$/.exec(t)
    || /^(\d{4})(\d{2})(\d{2})$/.exec(t);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** `text` moved by `delta` years (`part` "y"), months ("m", the day kept or cut to the
 *  month's last) or days ("d"); null if `text` is not a date or the result leaves
 *  years 0001-9999. */
export function stepDate(text, part, delta) {
  const at = parseDate(text);
  if (at === null) return null;
  let [y, m, d] = at.split("-").map(Number);
  if (part === "d") {
    const next = utcDay(y, m, d + delta);
    [y, m, d] = [next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate()];
  } else {
    const months = y * 12 + (m - 1) + (part === "y" ? 12 : 1) * delta;
    [y, m] = [Math.floor(months / 12), (months % 12) + 1];
    d = Math.min(d, daysIn(y, m));
  }
  return y >= 1 && y <= 9999 ? `${pad(y, 4)}-${pad(m)}-${pad(d)}` : null;
}

/** The 6 x 7 days (ISO dates) of the calendar page of `year`-`month` (1-12): Monday
 *  first, from the Monday on or before the month's first day. */
export function monthGrid(year, month) {
  const first = utcDay(year, month, 1);
  const back = (first.getUTCDay() + 6) % 7;          // days since Monday
  const out = [];
  for (let i = 0; i < 42; i += 1) {
    const d = new Date(first.getTime() + (i - back) * 86_400_000);
    out.push(`${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`);
  }
  return out;
}

/** Today in the browser's clock, as "YYYY-MM-DD" (the calendar's starting page). */
function today() {
  const d = new Date();
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** A small calendar drawn in SVG for the button: an emoji (📅) needs a colour-emoji font,
 *  which headless Chromium and many Linux desks lack (it showed as an empty box). */
function calendarIcon() {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 16 16", width: "14", height: "14", "aria-hidden": "true",
                                        fill: "none", stroke: "currentColor", "stroke-width": "1.5" })) svg.setAttribute(k, v);
  const shapes = [["rect", { x: "1.75", y: "3", width: "12.5", height: "11.25", rx: "1.5" }],
                  ["path", { d: "M1.75 6.5h12.5M5 1.5v3M11 1.5v3" }],
                  ["path", { d: "M4.5 9h1M7.5 9h1M10.5 9h1M4.5 11.5h1M7.5 11.5h1", "stroke-linecap": "round" }]];
  for (const [tag, attrs] of shapes) {
    const shape = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) shape.setAttribute(k, v);
    svg.append(shape);
  }
  return svg;
}

function node(tag, attrs = {}, text = "") {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text) n.textContent = text;
  return n;
}

/** The calendar under `box`: a month's days as buttons, the month named in `lang`. */
function openCalendar(i18n, box, anchor, onPick) {
  const lang = i18n.lang;
  const start = parseDate(box.value) ?? (box.min && parseDate(box.min)) ?? today();
  let [year, month] = start.split("-").map(Number);
  const pop = node("div", { class: "date-pop", role: "dialog", "data-testid": `${box.dataset.testid}-calendar`,
                            "aria-label": box.getAttribute("aria-label") || "" });
  const title = node("span", { class: "date-pop-title", "data-testid": "date-pop-title" });
  const move = (delta) => { const n = year * 12 + month - 1 + delta; [year, month] = [Math.floor(n / 12), (n % 12) + 1]; draw(); };
  const prev = node("button", { type: "button", class: "btn ghost small", "data-testid": "date-pop-prev",
                                "aria-label": i18n.t("date.prev") }, "‹");
  const next = node("button", { type: "button", class: "btn ghost small", "data-testid": "date-pop-next",
                                "aria-label": i18n.t("date.next") }, "›");
  prev.addEventListener("click", () => move(-1));
  next.addEventListener("click", () => move(1));
  const grid = node("table", { class: "date-pop-grid" });
  pop.append(node("div", { class: "date-pop-head" }), grid);
  pop.firstChild.append(prev, title, next);
  // Weekday names in the page's language: 2024-01-01 was a Monday.
  const weekday = new Intl.DateTimeFormat(lang, { weekday: "narrow", timeZone: "UTC" });
  const heads = node("tr");
  for (let i = 0; i < 7; i += 1) heads.append(node("th", { scope: "col" }, weekday.format(Date.UTC(2024, 0, 1 + i))));
  const chosen = parseDate(box.value);
  const now = today();
  const draw = () => {
    const named = utcDay(year, month, 1);
    title.textContent = new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", timeZone: "UTC" }).format(named);
    const body = node("tbody");
    const days = monthGrid(year, month);
    for (let w = 0; w < 6; w += 1) {
      const tr = node("tr");
      for (const day of days.slice(w * 7, w * 7 + 7)) {
        const b = node("button", { type: "button", "data-date": day, class: "date-pop-day" }, String(Number(day.slice(8))));
        if (Number(day.slice(5, 7)) !== month) b.classList.add("other");
        if (day === chosen) b.setAttribute("aria-pressed", "true");
        if (day === now) b.classList.add("today");
        if (box.min && day < box.min) b.disabled = true;
        b.addEventListener("click", () => { onPick(day); close(); });
        tr.append(node("td", {}, ""));
        tr.lastChild.append(b);
      }
      body.append(tr);
    }
    grid.replaceChildren(node("thead"), body);
    grid.firstChild.append(heads);
  };
  const outside = (e) => { if (!pop.contains(e.target) && e.target !== anchor) close(); };
  // The days by keyboard, as a date picker's grid is walked (WAI-ARIA APG, "Date Picker
  // Dialog"): arrows a day or a week, Page Up/Down a month, Enter/Space pick (buttons).
  const MOVES = { ArrowLeft: ["d", -1], ArrowRight: ["d", 1], ArrowUp: ["d", -7], ArrowDown: ["d", 7],
                  PageUp: ["m", -1], PageDown: ["m", 1] };
  const key = (e) => {
    if (e.key === "Escape") { e.stopPropagation(); close(); box.focus(); return; }
    const day = e.target.dataset && e.target.dataset.date;
    if (!day || !MOVES[e.key]) return;
    const next = stepDate(day, ...MOVES[e.key]);
    if (next === null) return;
    e.preventDefault();
    e.stopPropagation();                   // not a page shortcut (the desk's keys)
    const [y, m] = next.split("-").map(Number);
    if (y !== year || m !== month) { [year, month] = [y, m]; draw(); }
    const target = pop.querySelector(`[data-date="${next}"]`);
    if (target && !target.disabled) target.focus();
  };
  function close() {
    pop.remove();
    document.removeEventListener("mousedown", outside, true);
    anchor.setAttribute("aria-expanded", "false");
  }
  draw();
  pop.addEventListener("keydown", key);
  anchor.after(pop);
  anchor.setAttribute("aria-expanded", "true");
  document.addEventListener("mousedown", outside, true);
  (pop.querySelector("[aria-pressed=true]") || pop.querySelector(".today:not(.other)")
    || pop.querySelector(".date-pop-day:not(.other)")).focus();
  return close;
}

/** A text box for a date as "YYYY-MM-DD", in a span with its calendar button (`.input`
 *  is the box). `label` names it for screen readers and in its error ("Holiday");
 *  `report(box, message)` is told when its text stops or starts being a date (message ""
 *  when it is one again, or empty and `required` is false). `box.dateError()` gives the
 *  message for its text now. `min` (an ISO date) greys out earlier days in the calendar;
 *  the service still judges what is sent. */
export function dateBox(i18n, value, { testid, label, report = () => {}, required = false, min = "" }) {
  const box = node("input", {
    type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", size: "10",
    maxlength: "16", placeholder: "YYYY-MM-DD", "data-testid": testid,
    "aria-label": `${label} (${i18n.t("date.iso")})`,
  });
  box.classList.add("date-box");
  box.value = value ?? "";
  if (min) box.min = min;
  const message = () => {
    const text = box.value.trim();
    if (text === "") return required ? i18n.t("date.none", { what: label }) : "";
    return parseDate(text) !== null ? "" : i18n.t("date.bad", { what: label, text });
  };
  const check = () => {
    const why = message();
    box.setCustomValidity(why);
    box.toggleAttribute("aria-invalid", Boolean(why));
    box.classList.toggle("invalid", Boolean(why));
    box.title = why;
    report(box, why);
  };
  box.dateError = message;
  box.addEventListener("input", () => { if (box.classList.contains("invalid") && !message()) check(); });
  box.addEventListener("change", () => {
    const at = parseDate(box.value);
    if (at !== null) box.value = at;
    check();
  });
  box.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    const caret = box.selectionStart ?? 0;
    const part = caret <= 4 ? "y" : caret <= 7 ? "m" : "d";
    const next = stepDate(box.value, part, e.key === "ArrowUp" ? 1 : -1);
    if (next === null) return;
    e.preventDefault();
    box.value = next;
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    check();
  });
  const pick = node("button", { type: "button", class: "btn ghost small date-pick",
                                "data-testid": `${testid}-pick`, "aria-haspopup": "dialog",
                                "aria-expanded": "false", "aria-label": i18n.t("date.pick"), title: i18n.t("date.pick") });
  pick.append(calendarIcon());
  let close = null;
  pick.addEventListener("click", () => {
    if (pick.getAttribute("aria-expanded") === "true" && close) { close(); return; }
    close = openCalendar(i18n, box, pick, (day) => {
      box.value = day;
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.dispatchEvent(new Event("change", { bubbles: true }));
      box.focus();
    });
  });
  const wrap = node("span", { class: "date-field" });
  wrap.append(box, pick);
  wrap.input = box;
  if (box.value !== "") check();
  return wrap;
}
