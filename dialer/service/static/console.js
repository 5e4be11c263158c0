// console.js - the supervisor console (/console): the live floor from the WebSocket's
// `floor` events (every second), `floor.agents` (the agents that changed, between two
// floors) and `floor.alarm` events, campaign control and pacing,
// agents paused or logged out, and the supervisor's own position to listen, whisper,
// barge in or take a call over (docs/supervisor-console.md). Reuses the desk's api.js,
// i18n.js, lang-picker.js and base.css; its strings are console-strings.js. Everything
// shown is set as text (never HTML): names and numbers come from lists and users.
import { Api, EventSocket } from "./api.js";
import { I18n } from "./i18n.js";
import { languagePicker } from "./lang-picker.js";
import { CONSOLE_STRINGS } from "./console-strings.js";
import { Reports } from "./console-reports.js";
import { Recordings } from "./console-recordings.js";
import { Admin } from "./console-admin.js";
import { el } from "./dom.js";
import { isoTime } from "./when.js";

const i18n = new I18n(CONSOLE_STRINGS);
const api = new Api();
const $ = (id) => document.getElementById(id);
const state = { floor: null, position: null, alarms: [], settingsFor: null, me: null, tab: "floor" };

// -- small DOM helpers (text only) ---------------------------------------------------------


function button(key, testid, onClick, cls = "btn") {
  const b = el("button", { text: i18n.t(key), cls, attrs: { type: "button", "data-testid": testid } });
  b.addEventListener("click", onClick);
  return b;
}

function pct(x, digits = 1) {
  return x === null || x === undefined ? "–" : `${(x * 100).toFixed(digits)}%`;
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`;
}

let toastTimer = null;
function toast(text, bad = false) {
  const t = $("toast");
  t.textContent = text;
  t.className = bad ? "toast bad" : "toast";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.add("hidden"), 5000);
}

async function act(fn) {
  try {
    return await fn();
  } catch (err) {
    toast(i18n.t("error.generic", { message: err.message }), true);
    return null;
  }
}

// -- texts -----------------------------------------------------------------------------

function applyTexts() {
  for (const node of document.querySelectorAll("[data-ct]")) node.textContent = i18n.t(node.dataset.ct);
  $("lang").setAttribute("aria-label", i18n.t("lang.choose"));
  document.title = i18n.t("page_title");
  reports.render();        // charts and tables in the new language (from the rows held)
  recordings.render();
  admin.render();
  render();
}

// -- the floor -------------------------------------------------------------------------

function gauge(c) {
  const share = c.cap ? Math.min(1, c.window.rate / c.cap) : 0;
  const fill = el("div", { cls: "gauge-fill" });
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  const near = el("div", { cls: "gauge-near" });
  near.style.left = `${(c.cap ? (c.near_at / c.cap) * 100 : 80).toFixed(1)}%`;
  const text = el("div", { cls: "gauge-text" },
    el("span", { cls: "level-tag", text: i18n.t(`level.${c.level}`) }),
    ` ${pct(c.window.rate, 2)} / ${pct(c.cap)} (${i18n.t(`cap.${c.cap_from}`)})`);
  if (c.target_abandon !== undefined && c.target_abandon !== null) {
    text.append(el("span", { cls: "gauge-target", attrs: { "data-testid": "target-abandon" },
                             text: ` · ${i18n.t("gauge.target", { target: pct(c.target_abandon) })}` }));
  }
  if (c.pacing && c.pacing.value !== null) {
    // What the pacing engine holds to now (its risk limit per dial, ratio or level): a
    // changed target shows here as the engine applies it, not only as the setting.
    const value = c.pacing.kind === "risk" ? pct(c.pacing.value) : c.pacing.value.toFixed(2);
    text.append(el("span", { cls: "gauge-pace", attrs: { "data-testid": "pace",
                                                         "data-pace": String(c.pacing.value) },
                             text: ` · ${i18n.t(`pace.${c.pacing.kind}`, { value })}` }));
  }
  return el("div", { cls: `gauge level-${c.level}`, attrs: { "data-testid": "gauge", "data-level": c.level } },
    el("div", { cls: "gauge-track" }, fill, near), text);
}

function campaignActions(c) {
  const box = el("div", { cls: "actions" });
  const control = (verb) => act(async () => {
    try {
      await api.post(`/api/campaigns/${encodeURIComponent(c.name)}/${verb}`);
    } catch (err) {
      // uk/us without an abandon message (abandon_message.py): said in the page's
      // language, not the service's English
      if (err.code !== "abandon_message_required") throw err;
      // the regime from the message's "(regime us)": an idle campaign's floor row has none
      const regime = (/\(regime (\w+)\)/.exec(err.message) || [])[1] || c.regime;
      toast(i18n.t("error.abandon_message_required", {
        campaign: c.name, regime, rule: i18n.tOr(`rule.${regime}`, regime) }), true);
    }
  });
  if (c.state === "idle") box.append(button("act.start", "campaign-start", () => control("start")));
  if (c.state === "running") box.append(button("act.pause", "campaign-pause", () => control("pause")));
  if (c.state === "paused") box.append(button("act.resume", "campaign-resume", () => control("resume")));
  if (["running", "paused"].includes(c.state)) {
    box.append(button("act.stop", "campaign-stop", () => control("stop"), "btn bad"));
  }
  box.append(button("act.settings", "campaign-settings", () => openSettings(c.name)));
  return box;
}

/**
 * Why a running campaign dials nothing (the floor's `idle`, idle_reason.py's data), in
 * the page's language: outside its calling window and when the next one opens, or no
 * contact due yet. Without it a supervisor saw "Running" and no dials, and no reason.
 */
function idleText(idle, t) {
  if (idle.why === "not_due") return t("idle.not_due", idle);
  const day = idle.day === "no_window"
    ? t("idle.no_window", { ...idle, weekday: t(`adm.day.${idle.weekday}`) })
    : t(`idle.${idle.day}`, idle);
  return t(idle.opens === null ? "idle.window_never" : "idle.window", { ...idle, day });
}

function stateCell(c) {
  const cell = el("td", { text: i18n.tOr(`campaign.${c.state}`, c.state) });
  if (c.idle) {
    cell.append(el("div", { cls: "muted campaign-idle", attrs: { "data-testid": "campaign-idle", "data-why": c.idle.why },
                            text: idleText(c.idle, (k, p) => i18n.t(k, p)) }));
  }
  return cell;
}

function renderCampaigns(floor) {
  const rows = floor.campaigns.map((c) => el("tr", { attrs: { "data-campaign": c.name, "data-state": c.state } },
    el("td", { text: c.name }),
    stateCell(c),
    el("td", { text: c.mode ? i18n.tOr(`dialmode.${c.mode}`, c.mode) : "–", attrs: { "data-mode": c.mode || "" } }),
    el("td", { cls: "num", text: c.dials }),
    el("td", { cls: "num", text: c.live }),
    el("td", { cls: "num", text: c.connects }),
    el("td", { cls: "num", text: c.abandoned }),
    el("td", {}, gauge(c)),
    el("td", { cls: "num", text: pct(c.penetration) }),
    el("td", { cls: "num", text: c.ready }),
    el("td", { cls: "num", text: c.predicted_wait === null ? "–" : i18n.t("seconds", { s: c.predicted_wait }) }),
    el("td", {}, campaignActions(c))));
  $("campaign-rows").replaceChildren(...rows);
}

function agentActions(a) {
  const box = el("div", { cls: "actions" });
  const on = state.position && state.position.monitoring === a.agent ? state.position.mode : null;
  for (const mode of ["listen", "whisper", "barge"]) {
    const b = button(`act.${mode}`, `monitor-${mode}`, () => monitor(a.agent, mode),
                     on === mode ? "btn active" : "btn");
    b.disabled = !state.position || a.state !== "talking";
    box.append(b);
  }
  const take = button("act.takeover", "takeover", () => takeover(a.agent), "btn bad");
  take.disabled = !state.position || a.state !== "talking";
  box.append(take);
  box.append(button("act.force_pause", "force-pause", () => agentCommand(a.agent, "pause")));
  box.append(button("act.agent_logout", "agent-logout", () => agentCommand(a.agent, "logout"), "btn ghost"));
  return box;
}

function renderAgents(floor) {
  const rows = floor.agents.map((a) => el("tr", { attrs: { "data-agent": a.agent, "data-state": a.state } },
    el("td", { text: a.agent }),
    el("td", {}, el("span", { cls: `badge state-${a.state}`, text: i18n.tOr(`state.${a.state}`, a.state) }),
      a.reason ? el("span", { cls: "reason", text: ` ${i18n.tOr(`reason.${a.reason}`, a.reason)}` }) : ""),
    el("td", { cls: "num", text: clock(a.seconds), attrs: { "data-testid": "time-in-state" } }),
    el("td", { text: a.campaign || "–" }),
    el("td", { cls: "tel", text: a.number || "–" }),
    el("td", {}, agentActions(a))));
  $("agent-rows").replaceChildren(...rows);
  $("agents-none").classList.toggle("hidden", rows.length > 0);
}

function renderSpans(floor) {
  const rows = floor.spans.map((s) => el("tr", { cls: s.red ? "red" : "", attrs: { "data-span": s.span, "data-alarms": s.alarms } },
    el("td", { text: floor.spans.some((o) => o.gateway !== s.gateway) ? `${s.gateway}:${s.span}` : s.span }),
    el("td", { text: s.kind }),
    el("td", { text: s.alarms === "OK" ? i18n.t("level.ok") : s.alarms }),  // alarm names (RED, AIS) as on the card
    el("td", { cls: "num", text: s.in_use }),
    el("td", { cls: "num", text: s.blocked }),
    el("td", { cls: "num", text: s.idle })));
  $("span-rows").replaceChildren(...rows);
  $("span-totals").textContent = i18n.t("spans.totals", floor.channels);
}

function renderAlarms() {
  const items = state.alarms.map((a) => el("li", { cls: a.severity, attrs: { "data-kind": a.kind } },
    el("time", { text: isoTime(a.ts) }),
    i18n.t(`alarm.${a.kind}`, { ...a, rate: pct(a.rate, 2), cap: pct(a.cap) })));
  $("alarms").replaceChildren(...items);
  $("alarms-none").classList.toggle("hidden", items.length > 0);
}

function renderPosition() {
  const p = state.position;
  $("position-form").classList.toggle("hidden", Boolean(p));
  $("position-actions").classList.toggle("hidden", !p);
  if (!p) {
    $("position-status").textContent = i18n.t("position.none");
    return;
  }
  let text = i18n.t("position.at", { kind: p.position, address: p.address });
  if (p.monitoring) text += ` · ${i18n.t("position.on", { agent: p.monitoring, mode: i18n.t(`mode.${p.mode}`) })}`;
  $("position-status").textContent = text;
  $("position-status").dataset.mode = p.mode || "";
}

// -- tabs: the floor, reports, recordings ------------------------------------------------

const reports = new Reports({
  api, i18n, $, toast: (text, bad) => toast(text, bad),
  campaigns: () => (state.floor ? state.floor.campaigns.map((c) => c.name) : []),
});
const recordings = new Recordings({ api, i18n, $, toast: (text, bad) => toast(text, bad) });
const admin = new Admin($("view-admin"), { api, i18n, toast: (text, bad) => toast(text, bad),
                                           get me() { return state.me; } });

function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll("[data-tab]")) b.classList.toggle("active", b.dataset.tab === tab);
  for (const name of ["floor", "reports", "recordings", "admin"]) $(`view-${name}`).classList.toggle("hidden", name !== tab);
  document.body.dataset.tab = tab;
  if (tab === "reports") reports.load();
  if (tab === "recordings" && !recordings.items.length) recordings.search();
  if (tab === "admin") admin.show();
}

function render() {
  renderPosition();
  renderAlarms();
  const floor = state.floor;
  if (!floor) return;
  renderCampaigns(floor);
  renderAgents(floor);
  renderSpans(floor);
  // a gateway whose runner is stuck: the floor shows the last facts it left, and says so
  const stale = (floor.gateways || []).filter((g) => g.stale);
  $("updated").textContent = i18n.t("floor.updated", { t: isoTime(floor.ts) })
    + stale.map((g) => i18n.t("floor.stale", { gateway: g.gateway, age: Math.round(g.age) })).join("");
  $("updated").dataset.stale = stale.map((g) => g.gateway).join(" ");
  document.body.dataset.ready = "1";
}

// -- control ---------------------------------------------------------------------------

function openSettings(name) {
  state.settingsFor = name;
  $("settings-title").textContent = i18n.t("settings.title", { name });
  $("settings-error").textContent = "";
  for (const id of ["set-mode", "set-target", "set-ratio", "set-precise", "set-wait", "set-windows"]) $(id).value = "";
  $("settings-form").classList.remove("hidden");
}

function number(id) {
  const text = $(id).value.trim().replace(",", ".");
  return text === "" ? undefined : Number(text);
}

async function applySettings(event) {
  event.preventDefault();
  const body = {};
  if ($("set-mode").value) body.mode = $("set-mode").value;
  const target = number("set-target");
  if (target !== undefined) body.target_abandon = target / 100;
  const ratio = number("set-ratio");
  if (ratio !== undefined) body.ratio = ratio;
  const precise = number("set-precise");
  if (precise !== undefined) body.precise_target = precise / 100;
  const wait = number("set-wait");
  if (wait !== undefined) body.agent_wait_target = wait;
  const windows = $("set-windows").value.split(",").map((w) => w.trim()).filter(Boolean);
  if (windows.length) body.windows = { default: windows };
  if (!Object.keys(body).length) {
    $("settings-error").textContent = i18n.t("settings.empty");
    return;
  }
  const name = state.settingsFor;
  try {
    const result = await api.request("PATCH", `/api/campaigns/${encodeURIComponent(name)}/settings`, body);
    const changes = Object.entries(result.changed).map(([k, [a, b]]) =>
      k === "windows" ? k : `${k} ${a} → ${b}`).join(", ");
    toast(changes ? i18n.t("settings.done", { name, changes }) : i18n.t("settings.nothing", { name }));
    $("settings-form").classList.add("hidden");
  } catch (err) {
    $("settings-error").textContent = err.message;
  }
}

async function agentCommand(agent, command) {
  const path = `/api/agents/${encodeURIComponent(agent)}/${command}`;
  const ok = await act(() => (command === "pause"
    ? api.post(path, { reason: $("pause-reason").value.trim() || "meeting" }) : api.post(path)));
  if (ok) toast(i18n.t("agent.queued", { agent, command: i18n.t(command === "pause" ? "act.force_pause" : "act.agent_logout") }));
}

async function monitor(agent, mode) {
  const p = await act(() => api.post("/api/supervisor/monitor", { agent, mode }));
  if (p) { state.position = p; render(); }
}

async function takeover(agent) {
  const p = await act(() => api.post("/api/supervisor/takeover", { agent }));
  if (p) { state.position = p; render(); }
}

async function positionLogin(event) {
  event.preventDefault();
  const p = await act(() => api.post("/api/supervisor/position", {
    position: $("position-kind").value, address: $("position-address").value.trim() }));
  if (p) { state.position = p; render(); }
}

// -- live events -------------------------------------------------------------------------

function onEvent(event) {
  if (event.type === "floor") {
    state.floor = event;
    render();
  } else if (event.type === "floor.agents" && state.floor && event.ts >= state.floor.ts) {
    // the agents that changed since the last floor (pushed at once, between the floors);
    // a changed row keeps its place, a new one comes last, as on the next floor
    const rows = new Map(state.floor.agents.map((a) => [a.agent, a]));
    for (const name of event.gone) rows.delete(name);
    for (const a of event.agents) rows.set(a.agent, a);
    state.floor = { ...state.floor, agents: [...rows.values()], agent_states: event.agent_states };
    renderAgents(state.floor);
  } else if (event.type === "floor.alarm") {
    state.alarms = [event, ...state.alarms].slice(0, 50);
    renderAlarms();
    if (event.severity !== "info") toast(i18n.t(`alarm.${event.kind}`, { ...event, rate: pct(event.rate, 2), cap: pct(event.cap) }), event.severity === "critical");
  } else if (event.type === "supervisor.position" && event.user === state.me?.name) {
    state.position = event.state === "released" ? null : state.position;
    renderPosition();
  }
}

async function main() {
  languagePicker($("lang"), i18n);
  i18n.onChange(applyTexts);
  applyTexts();
  api.onSessionEnded(() => location.assign("/?ended=1&next=/console"));
  try {
    state.me = await api.me();
  } catch {
    location.assign("/?next=/console");
    return;
  }
  $("who").textContent = state.me.name;
  if (!["supervisor", "admin"].includes(state.me.role)) {
    toast(i18n.t("error.role"), true);
    return;
  }
  state.position = await act(() => api.get("/api/supervisor/position"));
  reports.start();
  recordings.start();
  // Only an admin gets the Admin tab; the API refuses a supervisor's changes anyway.
  $("view-admin").dataset.role = state.me.role;
  document.querySelector("[data-tab=admin]").classList.toggle("hidden", state.me.role !== "admin");
  for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("position-form").addEventListener("submit", positionLogin);
  $("settings-form").addEventListener("submit", applySettings);
  $("settings-close").addEventListener("click", () => $("settings-form").classList.add("hidden"));
  $("btn-monitor-stop").addEventListener("click", async () => {
    const p = await act(() => api.post("/api/supervisor/monitor/stop"));
    if (p) { state.position = p; render(); }
  });
  $("btn-position-logout").addEventListener("click", async () => {
    if (await act(() => api.post("/api/supervisor/position/logout"))) { state.position = null; render(); }
  });
  $("btn-logout").addEventListener("click", async () => {
    await act(() => api.logout());
    location.assign("/");
  });
  const socket = new EventSocket("/api/ws", {
    onEvent,
    onStatus: (s) => {
      $("conn").textContent = i18n.t(s === "open" ? "conn.live" : "conn.reconnecting");
      $("conn").classList.toggle("open", s === "open");
    },
    onEnded: () => location.assign("/?ended=1&next=/console"),
  });
  socket.start();
  try {
    state.floor = await api.get("/api/floor");
  } catch { /* the first floor event comes within a second */ }
  render();
}

main();
