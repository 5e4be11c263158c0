// desk.js - the agent desktop (/desk): one page, live over the WebSocket /api/ws, every
// action through the HTTP API (docs/dialer-service.md, docs/agent-desk.md).
//
// Stable hooks for tests, benchmarks and other modules:
// - data-testid="screen-pop" is the contact card; its data-contact-id and data-call
//   attributes are set when a call pops (or a preview shows), before its content is drawn
//   complete: a benchmark can wait for [data-testid=screen-pop][data-contact-id="42"];
//   data-popped-at is the browser's clock (epoch ms) when that contact was drawn.
//   data-testid="agent-state" carries data-state (ready, paused, talking, wrap_up...).
// - Every WebSocket event is re-dispatched on `document` as a CustomEvent
//   "trunkline:event" (detail = the event), after the page handled it.
// - window.trunklineDesk = { state, socket, api, i18n }: the page's state, its
//   EventSocket, Api client and I18n, for tests and companion modules to read.
// - The `browser` position (the softphone): a module loaded by this page may set
//   `window.trunklineSoftphone = { address: async () => "...", ready: () => bool }`;
//   desk.js then asks it for the position's address at login. Without it, the desk
//   refuses a browser position and the page shows the server's reason.
//
// Data from the service (contact columns, scripts, notes, labels) is only ever put in
// the page as text (textContent, option.text, attribute values), never as HTML.

import { Api, ApiError, EventSocket } from "./api.js";
import { I18n } from "./i18n.js";
import { languagePicker } from "./lang-picker.js";
import { STRINGS } from "./strings.js";
import { DispositionForm } from "./desk-form.js";
import { dateBox, parseDate } from "./date-box.js";
import { clockBox, parseClock } from "./console-admin-clock.js";
import { isoDateTime, isoTime } from "./when.js";

const i18n = new I18n(STRINGS);
const api = new Api();
const $ = (id) => document.getElementById(id);

/** Everything the page knows; redrawn from here. */
const S = {
  me: null,
  seat: null,            // {state, reason, since, then, position, address, ...} or null
  campaigns: [],         // GET /api/desk/campaigns
  pauseCodes: [],
  card: null,            // the contact on the screen (a call or a preview)
  call: null,
  campaign: null,
  script: "",
  dispositions: [],
  wrapDeadline: null,
  preview: null,         // {contact, deadline}
  held: false,
  consulting: false,     // an attended transfer is ringing or talking to its number
  consultAnswered: false,
  consultedBy: null,     // the agent consulting this one about its call (not ours yet)
  saved: false,          // the current call's disposition is saved
  skew: 0,               // server clock minus ours (seconds), from the pings
  socket: "closed",
};

const ON_CALL = new Set(["talking", "reserved"]);
const form = new DispositionForm($("dispo-fields"), i18n);

// The callback's day and time: an ISO date box and a 24-hour time box (date-box.js,
// console-admin-clock.js), not <input type=datetime-local>, which writes both in the
// browser's locale (12/16/2026, 10:30 AM on an en-US browser showing the zh page).
// Seconds are taken as typed (HH:MM:SS); 24:00 is not a time a call is made at.
const CB_CLOCK = { seconds: true, endOfDay: false };
const cbBad = new Map();                 // box -> what is wrong with its text
function cbReport(box, why) {
  if (why) cbBad.set(box, why); else cbBad.delete(box);
  form.setError(form.find("callback.at"), [...cbBad.values()][0] || "");
}
function callbackBoxes() {
  const day = dateBox(i18n, "", { testid: "callback-date", label: i18n.t("cb.date"), report: cbReport });
  day.input.id = "cb-date";
  const time = clockBox(i18n, "", {
    testid: "callback-time", label: i18n.t("cb.time"), report: cbReport, accept: CB_CLOCK,
    words: { hhmm: "time.hhmm", bad: "time.bad", none: "time.none" } });
  time.id = "cb-time";
  $("cb-at").replaceChildren(day, time);
}

// -- helpers ---------------------------------------------------------------------------

const now = () => Date.now() / 1000 + S.skew;

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("data-") || key === "type" || key === "value") node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

let toastTimer = null;
function toast(text, bad = false) {
  const box = $("toast");
  box.textContent = text;
  box.classList.toggle("bad", bad);
  box.classList.remove("hidden");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.add("hidden"), bad ? 8000 : 4000);
}

/** The contact's zone (else the browser's) for showing and entering times. */
function zoneOf(card) {
  const campaign = card && S.campaigns.find((c) => c.name === card.campaign);
  return (card && card.time_zone) || (campaign && campaign.time_zone)
    || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** ``epoch`` in ``zone`` as "YYYY-MM-DD HH:MM" (or "HH:MM"), the same in both languages
 *  (when.js: Intl's "en" wrote 12/04/2026 on the English page). */
function localTime(epoch, zone, withDate = true) {
  return withDate ? isoDateTime(epoch, { zone, seconds: false }) : isoTime(epoch, { zone, seconds: false });
}

/** "YYYY-MM-DDTHH:MM" of ``epoch`` in ``zone`` (for a datetime-local input). */
function inputTime(epoch, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  }).formatToParts(new Date(epoch * 1000)).map((p) => [p.type, p.value]));
  const hour = parts.hour === "24" ? "00" : parts.hour;
  return `${parts.year}-${parts.month}-${parts.day}T${hour}:${parts.minute}`;
}

function stateLabel(state) {
  return i18n.t(`state.${state || "logged_out"}`);
}

function pauseLabel(code) {
  const found = S.pauseCodes.find((p) => p.code === code);
  if (code === "login" || code === "audio_lost") return i18n.t(`pause.${code}`);
  return found ? (found.label || found.code) : code;
}

/** Show an API refusal at the right place. */
function refusal(err, where) {
  const message = err instanceof ApiError ? err.message : String(err);
  if (err instanceof ApiError && err.status === 401) return;   // back to the login page
  if (where) where.textContent = message;
  else toast(message, true);
}

async function act(path, body, where) {
  if (where) where.textContent = "";
  try {
    await api.post(path, body);
    return true;
  } catch (err) {
    if (err instanceof ApiError && where === null) {
      // a form: the field the server names
      form.showError(fieldOf(err), err.message);
    } else {
      refusal(err, where);
    }
    return false;
  }
}

/** The form field a 422 names ("body.fields" -> "fields"; "callback.at"...). */
function fieldOf(err) {
  const named = err.fields && err.fields[0] && err.fields[0].field;
  if (named) return named.replace(/^body\./, "");
  const match = /^[a-z_]+: (\S+?): /.exec(err.message || "");
  return match ? match[1] : "code";
}

// -- drawing ---------------------------------------------------------------------------

function drawBar() {
  const state = S.seat ? S.seat.state : "logged_out";
  const badge = $("state");
  badge.className = `badge state-${state}`;
  badge.dataset.state = state;
  badge.textContent = stateLabel(state);
  $("state-reason").textContent = S.seat && state === "paused" ? pauseLabel(S.seat.reason)
    : S.seat && S.seat.then === "logout" ? i18n.t("state.then_logout")
      : S.seat && S.seat.then && S.seat.then.startsWith("pause:") && state !== "ready"
        ? i18n.t("state.then_pause", { reason: pauseLabel(S.seat.then.slice(6)) }) : "";
  const where = S.seat && S.seat.position ? ` · ${S.seat.position} ${S.seat.address || ""}` : "";
  $("who").textContent = S.me ? `${S.me.name}${where}` : "";
  const atDesk = Boolean(S.seat) && state !== "logged_out";
  const owes = state === "wrap_up" && !S.saved;
  $("btn-ready").disabled = !atDesk || ["ready", "connecting", "preview"].includes(state) || owes
    || ON_CALL.has(state);
  $("btn-ready").title = owes ? i18n.t("dispo.required_first") : "";
  $("btn-pause").disabled = !atDesk || state === "connecting";
  $("btn-leave").disabled = !atDesk;
  $("position-panel").classList.toggle("hidden", atDesk);
  $("work").classList.toggle("hidden", !atDesk);
  const conn = $("conn");
  conn.textContent = S.socket === "open" ? i18n.t("conn.live") : i18n.t("conn.reconnecting");
  conn.classList.toggle("open", S.socket === "open");
}

function drawPauseCodes() {
  const select = $("pause-reason");
  const chosen = select.value;
  select.replaceChildren(...S.pauseCodes.map((p) => el("option", {
    value: p.code, text: (p.label || p.code) + (p.limit ? ` (${Math.round(p.limit / 60)}′)` : ""),
  })));
  if (chosen) select.value = chosen;
}

function drawCampaignChoices() {
  const box = $("position-campaigns");
  const picked = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
  box.replaceChildren();
  for (const c of S.campaigns) {
    const usable = c.state === "running" || c.state === "paused";
    const check = el("input", { type: "checkbox", value: c.name, disabled: !usable,
                                "data-testid": `campaign-${c.name}` });
    check.checked = usable && (picked.size ? picked.has(c.name) : true);
    // the level (high, standard, overflow) is the one an admin assigned: not chosen here
    box.append(el("label", {}, check, el("span", { text: c.name }),
                  el("span", { class: "state", text: `${i18n.tOr(`mode.${c.mode}`, c.mode)} · ${i18n.tOr(`cstate.${c.state}`, c.state)}` })));
  }
  if (!S.campaigns.length) box.append(el("span", { class: "muted", text: i18n.t("pos.no_campaigns") }));
  const dial = $("dial-campaign");
  const names = S.seat && S.seat.campaigns ? S.seat.campaigns.map((c) => c[0])
    : S.campaigns.filter((c) => c.state === "running" || c.state === "paused").map((c) => c.name);
  const current = dial.value;
  dial.replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
  if (S.campaign && names.includes(S.campaign)) dial.value = S.campaign;
  else if (current && names.includes(current)) dial.value = current;
}

function drawPositionHint() {
  const kind = $("position-kind").value;
  $("position-hint").textContent = i18n.t(`pos.hint_${kind}`);
  $("position-address").disabled = kind === "browser";
}

function drawContact() {
  const card = S.card;
  const box = $("contact");
  const id = card ? String(card.contact_id) : "";
  const call = S.call != null ? String(S.call) : "";
  if (id && (id !== box.dataset.contactId || call !== box.dataset.call)) {
    box.dataset.poppedAt = String(Date.now());   // epoch ms, for the benchmarks
  }
  box.dataset.contactId = id;
  box.dataset.call = call;
  box.classList.toggle("popped", Boolean(card));
  $("contact-empty").classList.toggle("hidden", Boolean(card));
  $("contact-body").classList.toggle("hidden", !card);
  if (!card) return;
  const fields = card.fields || {};
  const name = fields.name ?? fields["姓名"] ?? fields.full_name ?? "";
  $("contact-name").textContent = name ? String(name) : i18n.t("contact.unnamed");
  $("contact-number").textContent = card.number;
  const zone = zoneOf(card);
  const meta = [`${i18n.t("contact.id")} ${card.contact_id}`, `${card.campaign}`,
                i18n.t("contact.local", { zone, time: localTime(now(), zone, false) })];
  if (card.attempt != null) meta.push(i18n.t("contact.attempt", { n: card.attempt }));
  if (card.callback_owner) meta.push(i18n.t("contact.cb_owner", { owner: card.callback_owner }));
  $("contact-meta").textContent = meta.join(" · ");
  $("contact-fields").replaceChildren(...Object.entries(fields).map(([key, value]) =>
    el("tr", { "data-column": key }, el("th", { text: key }),
       el("td", { text: value == null ? "" : String(value) }))));
  const numbers = card.numbers && card.numbers.length ? card.numbers : [card.number];
  $("contact-numbers").replaceChildren(...numbers.map((n) => {
    const b = el("button", { class: "btn mono", type: "button", text: n, title: i18n.t("dial.use") });
    b.addEventListener("click", () => { $("dial-number").value = n; $("dial-number").focus(); });
    return b;
  }));
  $("dial-numbers").replaceChildren(...numbers.map((n) => el("option", { value: n })));
  const history = card.history || [];
  $("contact-history").replaceChildren(...(history.length ? history.map((h) => el("tr", {},
    el("td", { text: h.at ? localTime(h.at, zone) : "" }),
    el("td", { text: h.outcome ? i18n.tOr(`outcome.${h.outcome}`, h.outcome) : "" }),
    el("td", { text: h.agent || "" }),
    el("td", { text: h.talk != null ? clock(h.talk) : "" }),
    el("td", { text: [h.disposition || "", fieldsText(h.fields)].filter(Boolean).join(" ") }),
    el("td", { text: h.notes || "" }),
  )) : [el("tr", {}, el("td", { colSpan: 6, class: "muted", text: i18n.t("contact.no_history") }))]));
}

function fieldsText(fields) {
  if (!fields || typeof fields !== "object") return "";
  return Object.entries(fields).map(([k, v]) => {
    const value = v && typeof v === "object" && "amount" in v ? `${v.amount} ${v.currency || ""}`.trim() : String(v);
    return `${k}=${value}`;
  }).join(", ");
}

function drawScript() {
  $("script").textContent = S.script || (S.card ? "" : i18n.t("script.none"));
}

function drawCall() {
  const state = S.seat ? S.seat.state : "logged_out";
  const onCall = ON_CALL.has(state);
  // consulted in another agent's attended transfer: the hang-up ends our part (F4 too)
  const consulted = Boolean(S.consultedBy) && !onCall;
  $("btn-hangup").disabled = !(onCall || consulted);
  $("btn-hangup").querySelector("[data-i18n]").textContent = i18n.t(consulted ? "call.end_consult" : "call.hangup");
  $("btn-hold").disabled = !onCall;
  $("btn-hold").querySelector("[data-i18n]").textContent = i18n.t(S.held ? "call.unhold" : "call.hold");
  $("btn-transfer").disabled = !onCall;
  $("consult").classList.toggle("hidden", !(onCall && S.consulting));
  // complete and conference once the consulted number answered (refused before)
  $("btn-complete").disabled = !S.consultAnswered;
  $("btn-conference").disabled = !S.consultAnswered;
  for (const b of $("keypad").querySelectorAll("button")) b.disabled = !onCall;
  $("btn-dial").disabled = !(state === "ready" || state === "paused" || state === "preview");
  if (!onCall && !S.consulting) {
    $("call-status").textContent = state === "wrap_up" ? i18n.t("call.ended") : "";
  }
}

function drawDispositions() {
  const state = S.seat ? S.seat.state : "logged_out";
  const active = Boolean(S.card) && S.call != null && (ON_CALL.has(state) || state === "wrap_up");
  const list = S.dispositions.filter((d) => d.code !== "wrap_timeout");
  $("dispo-buttons").replaceChildren(...list.map((d) => {
    const button = el("button", { class: "btn", type: "button", disabled: !active || S.saved,
                                  "data-code": d.code, "data-testid": `disposition-${d.code}` },
                      el("span", { text: d.label || d.code }));
    if (d.hotkey) button.append(el("span", { class: "kbd", text: d.hotkey.toUpperCase() }));
    if (form.code === d.code) button.classList.add("active");
    button.addEventListener("click", () => choose(d.code));
    return button;
  }));
  $("dispo-form").classList.toggle("hidden", !active || S.saved || !form.code);
  $("dispo-status").textContent = S.saved ? i18n.t("dispo.saved")
    : active ? (form.code ? "" : i18n.t("dispo.choose")) : i18n.t("dispo.idle");
  const zone = zoneOf(S.card);
  $("cb-zone").textContent = S.card ? i18n.t("cb.zone", { zone, time: localTime(now(), zone, false) }) : "";
}

function choose(code) {
  const d = S.dispositions.find((x) => x.code === code);
  if (!d) return;
  form.build(d);
  $("cb-required").classList.toggle("hidden", d.callback !== "required");
  $("dispo-callback").classList.toggle("hidden", d.callback === "none" && !S.card);
  // the callback's time stays empty unless the agent sets one (an optional callback is
  // not scheduled by accident); its minimum is now, in the contact's zone
  if (S.card) $("cb-date").min = inputTime(now(), zoneOf(S.card)).slice(0, 10);
  drawDispositions();
  form.focusFirst() || $("dispo-notes").focus();
}

function drawTimers() {
  if (S.seat && S.seat.since) $("state-timer").textContent = clock(now() - S.seat.since);
  else $("state-timer").textContent = "00:00";
  const wrap = $("wrap-timer");
  if (S.seat && S.seat.state === "wrap_up" && S.wrapDeadline && !S.saved) {
    const left = S.wrapDeadline - now();
    wrap.textContent = i18n.t("dispo.wrap_left", { t: clock(left) });
    wrap.classList.toggle("late", left < 15);
  } else {
    wrap.textContent = "";
  }
  if (S.preview && S.preview.deadline) {
    $("preview-countdown").textContent = clock(S.preview.deadline - now());
  }
}

function drawPreview() {
  const box = $("preview");
  box.classList.toggle("hidden", !S.preview);
  if (!S.preview) return;
  const c = S.preview.contact;
  const name = c.fields && (c.fields.name ?? c.fields["姓名"]);
  $("preview-who").textContent = `${name ? name + " · " : ""}${c.number}`;
  $("preview-countdown").textContent = S.preview.deadline ? clock(S.preview.deadline - now()) : "";
}

function drawAll() {
  i18n.apply();
  document.title = i18n.t("desk.page_title");
  drawBar();
  drawPauseCodes();
  drawCampaignChoices();
  drawPositionHint();
  drawPreview();
  drawContact();
  drawScript();
  drawCall();
  drawDispositions();
  drawTimers();
  form.relabel();
}

// -- events ----------------------------------------------------------------------------

function clearCall() {
  S.card = null; S.call = null; S.script = ""; S.wrapDeadline = null; S.held = false;
  S.consulting = false; S.consultAnswered = false; S.consultedBy = null; S.saved = false;
  form.clear();
  $("cb-date").value = ""; $("cb-time").value = ""; cbBad.clear();
  $("cb-note").value = ""; $("dispo-notes").value = "";
}

function campaignConfig(name) {
  return S.campaigns.find((c) => c.name === name);
}

function setSeat(seat) {
  // a desk.state event does not repeat the position: keep it from the login or snapshot
  S.seat = seat ? { ...(S.pending || {}), ...S.seat, ...seat } : null;
}

const handlers = {
  hello() {},
  ping(e) { if (typeof e.ts === "number") S.skew = e.ts - Date.now() / 1000; },
  async "desk.snapshot"(e) {
    const seat = (e.seats || []).find((s) => s.agent === S.me.name) || null;
    setSeat(seat);
    S.consultedBy = (seat && seat.consulted_by) || null;
    if (seat && (seat.contact || seat.preview)) await loadScreen();
    else if (!seat) clearCall();
  },
  "desk.state"(e) {
    const before = S.seat ? S.seat.state : null;
    setSeat({ state: e.state, reason: e.reason, since: e.since, then: e.then });
    if (e.state === "logged_out") {
      S.seat = null; S.pending = null; clearCall(); S.preview = null;
      refreshCampaigns();
    } else if ((e.state === "ready" || e.state === "paused") && before !== e.state) {
      if (before === "wrap_up" || ON_CALL.has(before)) clearCall();
    }
  },
  "desk.screen_pop"(e) {
    clearCall();
    S.preview = null;
    S.card = e.contact; S.call = e.call; S.campaign = e.campaign;
    S.script = e.script || "";
    S.dispositions = e.dispositions || campaignConfig(e.campaign)?.dispositions || [];
    $("call-status").textContent = i18n.t("call.connected", { number: e.contact.number });
  },
  "desk.preview"(e) {
    clearCall();
    S.preview = { contact: e.contact, deadline: e.deadline };
    S.card = e.contact; S.campaign = e.campaign; S.script = e.script || "";
    S.dispositions = campaignConfig(e.campaign)?.dispositions || [];
  },
  "desk.preview_closed"(e) {
    S.preview = null;
    if (e.how !== "dialled" && e.how !== "expired_dialled") {
      if (S.card && String(S.card.contact_id) === String(e.contact_id) && S.call == null) clearCall();
    }
    toast(i18n.tOr(`preview.${e.how}`, e.how));
  },
  "desk.wrap_up"(e) {
    S.wrapDeadline = e.deadline; S.call = e.call; S.held = false; S.consulting = false;
  },
  "desk.disposition_saved"(e) {
    S.saved = true;
    form.clear();
    toast(e.automatic ? i18n.t("dispo.auto_saved", { code: e.code }) : i18n.t("dispo.saved_code", { code: e.code }));
  },
  "desk.callback_scheduled"(e) {
    toast(i18n.t("cb.scheduled", { time: localTime(e.due, zoneOf(S.card)),
                                   owner: e.owner ? e.owner : i18n.t("cb.campaign") }));
  },
  "desk.call"(e) {
    const what = e.what;
    if (what === "held") S.held = true;
    if (what === "resumed") S.held = false;
    if (what === "consulting") { S.consulting = true; S.consultAnswered = false; }
    if (what === "consult_answered") S.consultAnswered = true;
    if (what === "consulted") S.consultedBy = e.detail || "?";
    if (what === "consult_ended") clearCall();   // consulted about a call, not ours
    if (["transferred", "transfer_cancelled"].includes(what)) {
      S.consulting = false; S.consultAnswered = false;
    }
    $("call-status").textContent = i18n.tOr(`callnote.${what}`, `${what} ${e.detail || ""}`, { detail: e.detail || "" });
  },
  "desk.pause_overrun"(e) {
    toast(i18n.t("pause.overrun", { reason: pauseLabel(e.reason), min: Math.round(e.limit / 60) }), true);
  },
  "desk.refused"(e) {
    const where = {
      login: $("position-error"), manual_dial: $("dial-error"), transfer: $("call-error"),
      hang_up: $("call-error"), hold: $("call-error"), resume: $("call-error"),
      send_dtmf: $("call-error"), complete_transfer: $("call-error"),
      cancel_transfer: $("call-error"), conference: $("call-error"),
      end_consult: $("call-error"),
    }[e.command];
    if (e.command === "save_disposition" || e.command === "schedule_callback") {
      form.showError(e.field || "code", e.error);
      if (!e.field || !form.hasField(e.field)) toast(e.error, true);
    } else if (where) {
      where.textContent = e.error;
    } else {
      toast(e.error, true);
    }
  },
  "campaign.started": refreshCampaigns,
  "campaign.stopped": refreshCampaigns,
  "campaign.finished": refreshCampaigns,
  "campaign.paused": refreshCampaigns,
  "campaign.running": refreshCampaigns,
};

async function onEvent(e) {
  // a supervisor at this page also gets every other agent's desk events: not ours
  const mine = !e.type.startsWith("desk.") || e.type === "desk.snapshot" || e.agent === S.me.name;
  const handler = mine ? handlers[e.type] : null;
  if (handler) {
    await handler(e);
    drawAll();
  }
  document.dispatchEvent(new CustomEvent("trunkline:event", { detail: e }));
}

async function loadScreen() {
  try {
    const screen = await api.get("/api/desk/screen");
    if (!screen.seat) return;
    const card = screen.seat.contact || screen.seat.preview;
    S.card = card; S.call = screen.seat.call; S.campaign = screen.campaign;
    S.script = screen.script; S.dispositions = screen.dispositions;
    if (screen.seat.preview && !screen.seat.contact) {
      S.preview = { contact: card, deadline: screen.seat.preview_deadline ?? null };
    }
    if (screen.seat.state === "wrap_up") S.wrapDeadline = screen.seat.wrap_deadline ?? null;
  } catch (err) {
    refusal(err);
  }
}

async function refreshCampaigns() {
  try {
    S.campaigns = await api.get("/api/desk/campaigns");
  } catch (err) {
    refusal(err);
  }
  drawAll();
}

// -- actions ---------------------------------------------------------------------------

function pause() {
  const reason = $("pause-reason").value;
  if (reason) act("/api/desk/pause", { reason });
}

function ready() {
  if (!$("btn-ready").disabled) act("/api/desk/ready");
}

function hangUp() {
  if ($("btn-hangup").disabled) return;
  const consulted = Boolean(S.consultedBy) && !ON_CALL.has(S.seat ? S.seat.state : "");
  act(consulted ? "/api/desk/consult/end" : "/api/desk/hangup", undefined, $("call-error"));
}

function toggleHold() {
  if ($("btn-hold").disabled) return;
  act(S.held ? "/api/desk/unhold" : "/api/desk/hold", undefined, $("call-error"));
}

function callbackBody() {
  const day = $("cb-date").value.trim();
  const time = $("cb-time").value.trim();
  if (!day && !time) return null;
  return { at: `${parseDate(day) ?? day} ${parseClock(time, CB_CLOCK) ?? time}`,
           owner: $("cb-owner").value, note: $("cb-note").value };
}

/** What is wrong with the callback's day or time, in the page's language ("" when both
 *  are given right or both left empty): shown at the field, nothing sent. */
function callbackRefusal() {
  const day = $("cb-date");
  const time = $("cb-time");
  if (!day.value.trim() && !time.value.trim()) return "";
  return (day.value.trim() ? day.dateError() : i18n.t("date.none", { what: i18n.t("cb.date") }))
    || time.clockError();
}

async function saveDisposition() {
  if (!form.code) return;
  form.clearErrors();
  const then = document.querySelector("input[name=then]:checked").value;
  const d = S.dispositions.find((x) => x.code === form.code);
  const body = {
    code: form.code, fields: form.values(), notes: $("dispo-notes").value,
    callback: d && d.callback !== "none" ? callbackBody() : null, then,
    reason: then === "pause" ? $("pause-reason").value : "",
  };
  if (form.refuseBadDates()) return;
  const late = d && d.callback !== "none" ? callbackRefusal() : "";
  if (late) { form.showError("callback.at", late); return; }
  if (d && d.callback === "required" && !body.callback) {
    form.showError("callback.at", i18n.t("cb.needed"));
    return;
  }
  await act("/api/desk/disposition", body, null);
}

async function positionLogin(event) {
  event.preventDefault();
  $("position-error").textContent = "";
  const position = $("position-kind").value;
  let address = $("position-address").value.trim();
  if (position === "browser" && !window.trunklineSoftphone) {
    // the browser position needs softphone.js on this page (it sets the hook)
    $("position-error").textContent = i18n.t("pos.no_softphone");
    return;
  }
  if (position === "browser") {
    try { address = await window.trunklineSoftphone.address(); } catch (err) {
      $("position-error").textContent = String(err); return;
    }
  }
  const campaigns = [...$("position-campaigns").querySelectorAll("input:checked")].map((i) => ({
    name: i.value,
  }));
  if (!campaigns.length) { $("position-error").textContent = i18n.t("pos.pick_campaign"); return; }
  if (position !== "browser" && !address) { $("position-error").textContent = i18n.t("pos.need_address"); return; }
  if (await act("/api/desk/login", { position, address, campaigns }, $("position-error"))) {
    S.pending = { position, address, campaigns: campaigns.map((c) => [c.name]) };
    $("position-error").textContent = "";
    toast(i18n.t("pos.ringing"));
  }
}

async function leaveService() {
  try { await api.logout(); } catch { /* already ended */ }
  location.assign("/");
}

function sessionEnded() {
  location.assign("/?ended=1");
}

// -- keyboard --------------------------------------------------------------------------

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable
    || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function onKey(event) {
  if (event.key === "Enter" && event.ctrlKey && !$("dispo-form").classList.contains("hidden")) {
    event.preventDefault();
    saveDisposition();
    return;
  }
  if (typing(event.target)) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const keys = {
    F2: ready, F3: pause, F4: hangUp, F8: toggleHold,
    F6: () => S.preview && $("btn-preview-dial").click(),
    F7: () => S.preview && $("btn-preview-skip").click(),
  };
  if (keys[event.key]) {
    event.preventDefault();
    keys[event.key]();
    return;
  }
  if (event.key.length === 1) {
    const d = S.dispositions.find((x) => x.hotkey && x.hotkey.toLowerCase() === event.key.toLowerCase());
    const button = d && $("dispo-buttons").querySelector(`[data-code="${CSS.escape(d.code)}"]`);
    if (button && !button.disabled) {
      event.preventDefault();
      choose(d.code);
    }
  }
}

// -- start -----------------------------------------------------------------------------

function wire() {
  languagePicker($("lang"), i18n);
  i18n.onChange(drawAll);
  $("btn-ready").addEventListener("click", ready);
  $("btn-pause").addEventListener("click", pause);
  $("btn-leave").addEventListener("click", () => act("/api/desk/logout"));
  $("btn-logout").addEventListener("click", leaveService);
  $("position-form").addEventListener("submit", positionLogin);
  $("position-kind").addEventListener("change", drawPositionHint);
  $("btn-hangup").addEventListener("click", hangUp);
  $("btn-hold").addEventListener("click", toggleHold);
  $("btn-transfer").addEventListener("click", () => {
    const target = $("xfer-target").value.trim();
    if (!target) { $("call-error").textContent = i18n.t("xfer.need_target"); return; }
    act("/api/desk/transfer", { mode: $("xfer-mode").value, target_kind: $("xfer-kind").value, target },
        $("call-error"));
  });
  // complete / cancel / conference have no HTTP route yet: see docs/agent-desk.md.
  for (const [id, path] of [["btn-complete", "/api/desk/transfer/complete"],
                            ["btn-cancel-xfer", "/api/desk/transfer/cancel"],
                            ["btn-conference", "/api/desk/conference"]]) {
    $(id).addEventListener("click", () => act(path, undefined, $("call-error")));
  }
  $("keypad").append(...[..."123456789*0#"].map((digit) => {
    const b = el("button", { class: "btn mono", type: "button", text: digit, "data-digit": digit });
    b.addEventListener("click", () => act("/api/desk/dtmf", { digits: digit }, $("call-error")));
    return b;
  }));
  $("dial-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const number = $("dial-number").value.trim();
    if (!number) { $("dial-error").textContent = i18n.t("dial.need_number"); return; }
    act("/api/desk/dial", { campaign: $("dial-campaign").value, number }, $("dial-error"));
  });
  $("btn-preview-dial").addEventListener("click", () => S.preview
    && act("/api/desk/preview/dial", { contact_id: String(S.preview.contact.contact_id) }));
  $("btn-preview-skip").addEventListener("click", () => S.preview
    && act("/api/desk/preview/skip", { contact_id: String(S.preview.contact.contact_id) }));
  $("dispo-form").addEventListener("submit", (event) => { event.preventDefault(); saveDisposition(); });
  $("btn-callback-only").addEventListener("click", () => {
    const why = callbackRefusal();
    if (why) { form.showError("callback.at", why); return; }
    const body = callbackBody();
    if (!body) { form.showError("callback.at", i18n.t("cb.needed")); return; }
    act("/api/desk/callback", body, null);
  });
  document.addEventListener("keydown", onKey);
  setInterval(drawTimers, 250);
  // campaigns started or stopped meanwhile (agents get no campaign events)
  setInterval(() => { if (!S.seat && S.me) refreshCampaigns(); }, 10000);
}

async function main() {
  callbackBoxes();
  wire();
  api.onSessionEnded(sessionEnded);
  try {
    S.me = await api.me();
  } catch {
    sessionEnded();
    return;
  }
  try {
    [S.pauseCodes, S.campaigns] = await Promise.all([
      api.get("/api/desk/pause-codes"), api.get("/api/desk/campaigns")]);
  } catch (err) {
    refusal(err);
  }
  drawAll();
  const socket = new EventSocket("/api/ws", {
    onEvent,
    onStatus: (status) => { S.socket = status; drawBar(); },
    onEnded: sessionEnded,
  });
  socket.start();
  // for tests and the softphone: the page's state and its socket (read, do not replace)
  window.trunklineDesk = { state: S, socket, api, i18n };
  document.body.dataset.ready = "1";
}

main();
