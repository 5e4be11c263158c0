// console-admin-clock.js - a 24-hour "HH:MM" time box for the calling windows' editor.
// Chromium's <input type=time> draws its field in the *browser's* locale, not the page's:
// a zh-CN page on an en-US browser shows "01:30 PM", and the call centres this serves
// write times in 24-hour form (13:30), as the strategy stores them. So the box is a text
// input that takes what people type ("9", "930", "0930", "9:30", "09：30" from a Chinese
// IME, "24:00" for a window ending at midnight), shows it as HH:MM once it is left,
// steps the hour or minute under the caret with the arrow keys (as the native picker
// does), and names in the page's language what is wrong with text that is not a time.
// The desk's callback time uses it too (with its own words, seconds allowed, no 24:00).
// The pure parts are exported for the round-trip test (tests/desk_web).

/** Full-width digits and colon (what a Chinese IME types) as ASCII. */
function ascii(text) {
  return String(text).trim()
    .replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xFF10 + 48))
    .replace(/[\uFF1A.]/g, ":");
}

const pad = (n) => String(n).padStart(2, "0");

/** The time of day in `text` as "HH:MM" (00:00 to 23:59, and 24:00, the end of a day,
 *  unless `endOfDay` is false), or null if it is not one. Takes "H", "HH", "HMM", "HHMM",
 *  "H:MM" and "HH:MM"; with `seconds`, "H:MM:SS" and "HH:MM:SS" too (as "HH:MM:SS"). */
export function parseClock(text, { seconds = false, endOfDay = true } = {}) {
  const t = ascii(text);
  const s = seconds ? /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(t) : null;
  if (s) {
    const ok = Number(s[1]) <= 23 && Number(s[2]) <= 59 && Number(s[3]) <= 59;
    return ok ? `${pad(Number(s[1]))}:${s[2]}:${s[3]}` : null;
  }
  let m = /^(\d{1,2}):(\d{2})$/.exec(t) || /^(\d{1,2})(\d{2})$/.exec(t);
  if (!m) {
    const h = /^(\d{1,2})$/.exec(t);
    m = h ? [t, h[1], "0"] : null;
  }
  if (!m) return null;
  const hour = Number(m[1]), minute = Number(m[2]);
  const ok = (hour <= 23 && minute <= 59) || (endOfDay && hour === 24 && minute === 0);
  return ok ? `${pad(hour)}:${pad(minute)}` : null;
}

/** `text` moved by `delta` hours (`part` "h") or minutes ("m"), round the clock (00:00 to
 *  23:59; 24:00 counts as 00:00 of the next day); null if `text` is not a time. */
export function stepClock(text, part, delta) {
  const at = parseClock(text);
  if (at === null) return null;
  const [h, m] = at.split(":").map(Number);
  const day = 24 * 60;
  const total = ((((h * 60 + m + (part === "h" ? 60 : 1) * delta) % day) + day) % day);
  return `${pad(Math.floor(total / 60))}:${pad(total % 60)}`;
}

/** The i18n keys of a time box's words: its format's name, a text that is not a time,
 *  no text (the console's; the desk has its own strings). */
const ADMIN_WORDS = { hhmm: "adm.win.hhmm", bad: "adm.win.bad_time", none: "adm.win.no_time" };

/** A text box for a time of day in 24-hour "HH:MM". `label` names it for screen readers
 *  and in its error ("Monday, start"); `report(box, message)` is told when its text stops
 *  or starts being a time (message "" when it is one again). `box.clockError()` gives the
 *  message for its text now ("" if it is a time). `words` (i18n keys, as ADMIN_WORDS)
 *  and `accept` (parseClock's options) fit it to another page. */
export function clockBox(i18n, value, { testid, label, report, words = ADMIN_WORDS, accept = {} }) {
  const box = document.createElement("input");
  Object.entries({
    type: "text", inputmode: "numeric", autocomplete: "off", spellcheck: "false", size: "5",
    maxlength: accept.seconds ? "8" : "5", placeholder: "HH:MM",
    ...(accept.seconds ? {} : { pattern: "([01][0-9]|2[0-3]):[0-5][0-9]|24:00" }),
    "data-testid": testid, "aria-label": `${label} (${i18n.t(words.hhmm)})`,
  }).forEach(([k, v]) => box.setAttribute(k, v));
  box.classList.add("adm-clock");
  box.value = value ?? "";
  const message = () => (parseClock(box.value, accept) !== null ? ""
    : i18n.t(box.value.trim() ? words.bad : words.none, { what: label, text: box.value.trim() }));
  const check = () => {
    const why = message();
    box.setCustomValidity(why);
    box.toggleAttribute("aria-invalid", Boolean(why));
    box.classList.toggle("invalid", Boolean(why));
    report(box, why);
  };
  box.clockError = message;
  // While typing, only clear a shown error (no scolding for "1" on the way to "13:30");
  // on leaving the box, write the time out in full or say what is wrong.
  box.addEventListener("input", () => { if (box.classList.contains("invalid") && !message()) check(); });
  box.addEventListener("change", () => {
    const at = parseClock(box.value, accept);
    if (at !== null) box.value = at;
    check();
  });
  box.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    const part = (box.selectionStart ?? 0) <= 2 ? "h" : "m";
    const next = stepClock(box.value, part, e.key === "ArrowUp" ? 1 : -1);
    if (next === null) return;
    e.preventDefault();
    const caret = box.selectionStart;
    box.value = next;
    box.setSelectionRange(caret, caret);
    box.dispatchEvent(new Event("input", { bubbles: true }));
    check();
  });
  if (box.value !== "") check();
  return box;
}
