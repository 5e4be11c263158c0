// softphone.js - the agent's browser as the agent's phone (issue 19, docs/softphone.md).
//
// Loaded by the desk page (<script type="module" src="/static/softphone.js">), it sets
// `window.trunklineSoftphone`, the hook desk.js asks at a `browser` login:
//   address()  starts the audio (microphone permission, the peer connection) and gives
//              the position's address (none: the position is the agent's own);
//   ready()    true while the audio flows both ways.
// It also offers: mute(on), setMicrophone(id), setSpeaker(id), sendDtmf(keys) (RFC 4733
// telephone-events, else nothing), testCall(seconds) (a beep, the agent recorded and
// played back by the gateway), hangup(), stats(), peakFrequency() and level()
// (the far end's strongest frequency and both sides' levels, from Web Audio analysers:
// the meters, and the browser tests).
//
// Signalling goes over a WebSocket of its own to /api/ws (the session's cookie), opened
// when the audio is wanted: softphone.offer and its answer, as docs/dialer-service.md
// says; the desk's events come from desk.js (`trunkline:event` on document). The panel
// shows only while the agent is at a browser position. The page waits for its ICE candidates
// before it offers (one message, no trickle). Its STUN/TURN servers are the gateway's
// [[webrtc.ice_server]], asked first (softphone.config): none by default, the site's LAN
// (host candidates); a site's TURN is configured on the gateway alone, since the page's
// CSP lets no inline script set options. A reloaded page finds the
// agent at a browser position in the desk snapshot and connects again: the same call,
// the same customer. Another tab taking the audio is said here (softphone.replaced).
//
// Facts this follows (../shared/reference/webrtc-browser.md): the remote stream must be
// attached to an <audio> element or Chromium never decodes it; an analyser's buffer is
// fftSize long; PCMU/PCMA only (setCodecPreferences), telephone-event kept for keys.

import { EventSocket } from "./api.js";
import { I18n } from "./i18n.js";
import { STRINGS } from "./strings.js";

const OPTIONS = Object.assign({
  processing: { echoCancellation: true, noiseSuppression: false, autoGainControl: false },
  retryMs: 500,                 // asking again while the position is being opened
  retryFor: 60000,
  iceWaitMs: 3000,              // the longest wait for the page's own candidates
  connectMs: 15000,             // not connected this long after the answer: ICE failed
}, window.trunklineSoftphoneOptions || {});

const G711 = ["audio/PCMU", "audio/PCMA", "audio/telephone-event"];

// Every word the panel shows is in strings.js ("sp.*", English and Chinese); the desk's
// language picker switches this I18n too (i18n.js, "trunkline:lang").
const i18n = new I18n(STRINGS);

// What the agent is told when the audio goes (docs/softphone.md, "Network faults"): the
// key of the words in strings.js. The customer hears the hold music meanwhile; the page
// reconnects by itself.
const REASONS = {
  failed: "sp.reason.failed",
  disconnected: "sp.reason.disconnected",
  closed: "sp.reason.closed",
  replaced: "sp.reason.replaced",
};

class Softphone {
  constructor() {
    this.pc = null;
    this.mic = null;             // the microphone's MediaStream
    this.remote = null;          // the far end's MediaStream
    this.state = "idle";         // idle, starting, connecting, connected, lost, replaced, ended
    this.call = null;            // the gateway's call id of the position
    this.reason = "";            // why the audio is not up (the panel shows it)
    this.reasonKey = "";         // ... as a strings.js key when it is ours (redrawn on a switch)
    this.muted = false;
    this.wanted = false;         // the agent is at a browser position: keep the audio up
    this.nextId = 1;
    this.waiting = new Map();    // message id -> resolve
    this.audio = document.createElement("audio");
    this.audio.autoplay = true;
    this.audio.dataset.testid = "softphone-audio";
    this.context = null;
    this.micAnalyser = null;
    this.farAnalyser = null;
    this.panel = null;
    this.test = null;            // the last test call's status (redrawn on a switch)
    this.iceServers = [];        // the gateway's STUN/TURN servers, as last given (tests read it)
    // The page's own socket carries the desk's events (desk.js re-dispatches them on
    // `document`); this one, opened when the audio is wanted, carries the signalling.
    this.socket = new EventSocket("/api/ws", { onEvent: (e) => this.onSignal(e) });
    this.socketStarted = false;
    document.addEventListener("trunkline:event", (e) => this.onDeskEvent(e.detail || {}));
  }

  ensureSocket() {
    if (this.socketStarted) return;
    this.socketStarted = true;
    this.socket.start();
  }

  // -- the desk's hook ---------------------------------------------------------------
  async address() {
    // The microphone now (a refusal is said at the login); the connection goes on after
    // the login is posted: the gateway opens the position once the desk has the login.
    this.wanted = true;
    await this.ensureMic();
    this.start().catch((err) => this.fail(err));
    return "";
  }

  ready() { return this.state === "connected"; }

  // -- signalling over the socket ------------------------------------------------------
  request(message) {
    this.ensureSocket();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const socket = this.socket.socket;
      if (!socket || socket.readyState !== WebSocket.OPEN) {
        reject(Object.assign(new Error(i18n.t("sp.reason.service_down")), { retry: true }));
        return;
      }
      this.waiting.set(id, resolve);
      socket.send(JSON.stringify({ ...message, id }));
    }).then((reply) => {
      if (reply.type === "softphone.error") {
        throw Object.assign(new Error(reply.error), { retry: !!reply.retry });
      }
      return reply;
    });
  }

  onSignal(e) {
    if (e.id !== undefined && this.waiting.has(e.id)) {
      const resolve = this.waiting.get(e.id);
      this.waiting.delete(e.id);
      resolve(e);
      return;
    }
    if (e.type === "softphone.replaced") {
      this.stopPeer();
      this.setReasonKey(REASONS.replaced);
      this.setState("replaced");
    }
  }

  onDeskEvent(e) {
    if (e.type === "desk.snapshot" && !this.wanted) {
      // A reloaded page: the agent is still at a browser position -> take the audio again.
      const mine = (e.seats || []).find((s) => s.position === "browser");
      if (mine) { this.wanted = true; this.start().catch((err) => this.fail(err)); }
      return;
    }
    if (e.type === "desk.state" && e.state === "logged_out") {
      this.wanted = false;
      this.stopPeer();
      this.setState("ended");
    }
  }

  // -- the peer connection -------------------------------------------------------------
  async start() {
    if (this.state === "starting" || this.state === "connecting" || this.state === "connected") return;
    this.setState("starting");
    await this.ensureMic();
    // The gateway's STUN/TURN servers (none: host candidates), asked again at each start:
    // the position's gateway may have changed with a new login.
    const config = await this.retrying(() => this.request({ type: "softphone.config" }));
    if (!this.wanted) { this.setState("idle"); return; }   // logged out meanwhile
    this.iceServers = config.ice_servers || [];
    const pc = this.pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const track = this.mic.getAudioTracks()[0];
    track.enabled = !this.muted;
    const transceiver = pc.addTransceiver(track, { direction: "sendrecv", streams: [this.mic] });
    const codecs = (RTCRtpReceiver.getCapabilities("audio") || { codecs: [] }).codecs
      .filter((c) => G711.includes(c.mimeType));
    if (transceiver.setCodecPreferences && codecs.length) transceiver.setCodecPreferences(codecs);
    pc.ontrack = (event) => this.onTrack(event);
    pc.onconnectionstatechange = () => this.onPeerState(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await this.gathered(pc);
    this.setState("connecting");
    const answer = await this.retrying(() => this.pc === pc
      ? this.request({ type: "softphone.offer", sdp: pc.localDescription.sdp }) : null);
    if (!answer || this.pc !== pc) return;   // stopped or replaced meanwhile
    this.call = answer.call;
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    this.watchConnect(pc);
  }

  // Chromium never reports a failure for a peer connection with no candidate of its own
  // (UDP blocked to everything and no reachable TURN server, or a relay-only network
  // without one): no candidate pair is ever formed, so its ICE state stays "new" for
  // ever (W3C webrtc-pc, RTCIceTransportState: "failed" needs pairs that all failed).
  // Not connected connectMs after the answer is an ICE failure: said, and offered again.
  watchConnect(pc) {
    setTimeout(() => {
      const s = pc.connectionState;
      if (this.pc === pc && (s === "new" || s === "connecting")) this.onPeerState(pc, "failed");
    }, OPTIONS.connectMs);
  }

  // ask() again while the service says to (the position is being opened), up to retryFor.
  async retrying(ask) {
    const started = Date.now();
    for (;;) {
      try {
        return await ask();
      } catch (err) {
        if (!err.retry || Date.now() - started > OPTIONS.retryFor) { this.fail(err); throw err; }
        await new Promise((r) => setTimeout(r, OPTIONS.retryMs));
      }
    }
  }

  async ensureMic() {
    if (this.mic) return;
    this.mic = await navigator.mediaDevices.getUserMedia({ audio: { ...OPTIONS.processing } });
    this.watchMic();
    this.listDevices().catch(() => {});   // labels are shown once permission is given
  }

  gathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, OPTIONS.iceWaitMs);   // offer what was found
    });
  }

  onTrack(event) {
    this.remote = event.streams[0] || new MediaStream([event.track]);
    this.audio.srcObject = this.remote;
    if (!this.audio.isConnected) {
      this.audio.hidden = true;
      document.body.appendChild(this.audio);
    }
    this.audio.play().catch(() => {});
    this.farAnalyser = this.analyser(this.remote);
  }

  onPeerState(pc, timedOut = "") {
    if (this.pc !== pc) return;
    const s = timedOut || pc.connectionState;
    if (s === "connected") { this.setReason(""); this.setState("connected"); return; }
    if (s === "failed" || s === "disconnected" || s === "closed") {
      this.setReasonKey(REASONS[s]);
      this.setState("lost");
      // Connect again with a new offer (the gateway keeps the call [webrtc] reconnect s).
      if (this.wanted && s !== "disconnected") {
        this.stopPeer("lost");    // still "audio lost" (not "off") until the retry starts
        setTimeout(() => { if (this.wanted) this.start().catch((err) => this.fail(err)); }, 1000);
      }
    }
  }

  stopPeer(state = "idle") {
    if (this.pc) { try { this.pc.close(); } catch { /* closed */ } }
    this.pc = null;
    if (this.state !== "replaced") this.setState(state);
  }

  async hangup() {
    this.wanted = false;
    try { await this.request({ type: "softphone.hangup" }); } finally {
      this.stopPeer();
      this.setState("ended");
    }
  }

  async stats() { return this.request({ type: "softphone.status" }); }

  // The test call: a beep, `seconds` of the agent recorded by the gateway, played back
  // (the whole path, as a customer would hear it). Resolves with the recording's level.
  async testCall(seconds = 3) {
    await this.request({ type: "softphone.test", seconds });
    const until = Date.now() + (seconds * 2 + 5) * 1000;
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const status = await this.stats();
      const test = status.test || {};
      this.showTest(test);
      if (test.phase === "done" || test.phase === "stopped" || Date.now() > until) return test;
    }
  }

  showTest(test) {
    if (!this.panel) return;
    const out = this.panel.querySelector("[data-role=test-result]");
    this.test = test;
    out.textContent = !test.phase ? ""
      : test.phase === "done"
        ? i18n.t(test.level_dbfs < -45 ? "sp.test.quiet" : "sp.test.level", { level: test.level_dbfs })
        : i18n.t("sp.test.phase", { phase: i18n.tOr(`sp.phase.${test.phase}`, test.phase) });
  }

  // -- controls ------------------------------------------------------------------------
  mute(on) {
    this.muted = !!on;
    if (this.mic) this.mic.getAudioTracks().forEach((t) => { t.enabled = !this.muted; });
    this.draw();
  }

  async setMicrophone(deviceId) {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { ...OPTIONS.processing, deviceId: { exact: deviceId } } });
    const track = stream.getAudioTracks()[0];
    track.enabled = !this.muted;
    const sender = this.pc && this.pc.getSenders().find((s) => s.track && s.track.kind === "audio");
    if (sender) await sender.replaceTrack(track);
    if (this.mic) this.mic.getTracks().forEach((t) => t.stop());
    this.mic = stream;
    this.watchMic();
  }

  async setSpeaker(deviceId) {
    if (this.audio.setSinkId) await this.audio.setSinkId(deviceId);
  }

  sendDtmf(keys) {
    const sender = this.pc && this.pc.getSenders().find((s) => s.dtmf);
    if (!sender || !sender.dtmf || !sender.dtmf.canInsertDTMF) return false;
    sender.dtmf.insertDTMF(keys, 120, 80);
    return true;
  }

  // -- meters --------------------------------------------------------------------------
  analyser(stream) {
    if (!this.context) this.context = new AudioContext();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
    const node = this.context.createAnalyser();
    node.fftSize = 2048;
    this.context.createMediaStreamSource(stream).connect(node);
    return node;
  }

  watchMic() { this.micAnalyser = this.analyser(this.mic); }

  static rms(node) {
    if (!node) return 0;
    const buf = new Float32Array(node.fftSize);
    node.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const x of buf) sum += x * x;
    return Math.sqrt(sum / buf.length);
  }

  level() { return { mic: Softphone.rms(this.micAnalyser), far: Softphone.rms(this.farAnalyser) }; }

  peakFrequency() {
    const node = this.farAnalyser;
    if (!node) return 0;
    const bins = new Float32Array(node.frequencyBinCount);
    node.getFloatFrequencyData(bins);
    let best = 1;
    for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    return (best * this.context.sampleRate) / node.fftSize;
  }

  // -- the panel -----------------------------------------------------------------------
  setState(state) {
    this.state = state;
    this.draw();
    document.dispatchEvent(new CustomEvent("trunkline:softphone", { detail: { state } }));
  }

  fail(err) {
    // The browser's own refusals are said in the agent's words; the service's are its own.
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") this.setReasonKey("sp.reason.mic_refused");
    else if (name === "NotFoundError" || name === "OverconstrainedError") this.setReasonKey("sp.reason.no_mic");
    else this.setReason(String(err.message || err));
    this.setState("lost");
  }

  setReasonKey(key) {
    this.setReason(i18n.t(key));
    this.reasonKey = key;
  }

  setReason(text) {
    this.reason = text;
    this.reasonKey = "";
    if (this.panel) this.panel.querySelector("[data-role=error]").textContent = text;
  }

  draw() {
    if (!this.panel) return;
    this.panel.hidden = !this.wanted && (this.state === "idle" || this.state === "ended");
    this.panel.dataset.state = this.state;
    this.panel.querySelector("[data-role=state]").textContent = i18n.t(`sp.state.${this.state}`);
    this.panel.querySelector("[data-role=mute]").textContent = i18n.t(this.muted ? "sp.unmute" : "sp.mute");
    this.panel.querySelector("[data-role=take]").hidden = this.state !== "replaced";
  }

  mount() {
    const host = document.getElementById("softphone-panel") || (() => {
      const box = document.createElement("div");
      box.id = "softphone-panel";
      box.style.cssText = "position:fixed;right:8px;bottom:8px;background:#fff;border:1px solid #ccc;"
        + "padding:6px;font:12px sans-serif;z-index:1000";
      document.body.appendChild(box);
      return box;
    })();
    host.dataset.testid = "softphone";
    const el = (tag, attrs = {}, text = "") => {
      const node = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      node.textContent = text;
      return node;
    };
    host.replaceChildren(
      el("strong", { "data-role": "title" }), el("span", { "data-role": "state" }),
      el("meter", { "data-role": "mic-level", min: "0", max: "0.5" }),
      el("meter", { "data-role": "far-level", min: "0", max: "0.5" }),
      el("button", { type: "button", "data-role": "mute" }),
      el("button", { type: "button", "data-role": "take", hidden: "" }),
      el("button", { type: "button", "data-role": "test" }),
      el("span", { "data-role": "test-result" }),
      el("select", { "data-role": "mic" }),
      el("select", { "data-role": "speaker" }),
      el("div", { "data-role": "error" }));
    this.panel = host;
    this.words();
    i18n.onChange(() => { this.words(); this.draw(); this.listDevices().catch(() => {}); });
    host.querySelector("[data-role=mute]").onclick = () => this.mute(!this.muted);
    host.querySelector("[data-role=test]").onclick = () => this.testCall()
      .catch((err) => this.fail(err));
    host.querySelector("[data-role=take]").onclick = () => {
      this.wanted = true; this.setState("idle"); this.start().catch((err) => this.fail(err));
    };
    host.querySelector("[data-role=mic]").onchange = (e) => this.setMicrophone(e.target.value)
      .catch((err) => this.fail(err));
    host.querySelector("[data-role=speaker]").onchange = (e) => this.setSpeaker(e.target.value)
      .catch((err) => this.fail(err));
    this.draw();
    setInterval(() => {
      const { mic, far } = this.level();
      host.querySelector("[data-role=mic-level]").value = mic;
      host.querySelector("[data-role=far-level]").value = far;
    }, 100);
    this.listDevices();
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
      navigator.mediaDevices.addEventListener("devicechange", () => this.listDevices());
    }
  }

  // The panel's fixed words, in the page's language (again at each switch).
  words() {
    const host = this.panel;
    const set = (role, key, attr) => {
      const node = host.querySelector(`[data-role=${role}]`);
      if (attr) node.setAttribute(attr, i18n.t(key)); else node.textContent = i18n.t(key);
    };
    set("title", "sp.title");
    host.querySelector("[data-role=title]").append(" ");   // before the state
    set("mic-level", "sp.mic_level", "title");
    set("far-level", "sp.far_level", "title");
    set("take", "sp.take_back");
    set("test", "sp.test");
    set("mic", "sp.microphone", "title");
    set("speaker", "sp.speaker", "title");
    if (this.reasonKey) host.querySelector("[data-role=error]").textContent = i18n.t(this.reasonKey);
    if (this.test) this.showTest(this.test);
  }

  async listDevices() {
    if (!this.panel || !navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    for (const [role, kind] of [["mic", "audioinput"], ["speaker", "audiooutput"]]) {
      const select = this.panel.querySelector(`[data-role=${role}]`);
      select.replaceChildren(...devices.filter((d) => d.kind === kind).map((d) => {
        const option = document.createElement("option");
        option.value = d.deviceId;
        option.text = d.label || i18n.t(`sp.unnamed_${role}`, { id: d.deviceId.slice(0, 6) });
        return option;
      }));
    }
  }
}

const phone = new Softphone();
window.trunklineSoftphone = phone;
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => phone.mount());
} else {
  phone.mount();
}
