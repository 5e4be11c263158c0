// console-waveform.js - the waveform of a stereo recording in the console's Recordings tab,
// with a playhead that follows the page's <audio> player and click-to-seek.
//
//   const wave = new Waveform(container, audio, { label });   // label(key) -> text
//   wave.show(data);      // data: GET /api/recordings/{id}/waveform (the server's peaks)
//   wave.clear();
//
// Why the server's peaks and not the audio decoded here: a 30-minute stereo recording is
// 14.4 million frames (57 MB as PCM16); the service reads it once, a chunk at a time
// (dialer/review/wavfile.py peaks), and sends the lowest and highest sample of a bounded
// number of equal stretches (BUCKETS), about 30 kB of JSON whatever the length. The page
// then draws two SVG paths (customer: the left channel, agent: the right), so nothing is
// decoded or kept in memory here and the drawing costs the same for 10 s or an hour.
// SVG built with DOM calls only (the CSP allows no inline style or script); colours are
// classes in console.css.

const NS = "http://www.w3.org/2000/svg";
/** Stretches of time the server summarises: about one per pixel of a wide screen. */
export const BUCKETS = 1000;
/** Height of one channel's lane in the viewBox (the width is the bucket count). */
const LANE = 60;
const GAP = 8;
/** Seconds the arrow keys move the playhead (the waveform is a focusable slider). */
const STEP = 5;

function node(tag, attrs = {}) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
}

/**
 * The outline of one channel in a lane centred at `mid`: along the highest samples left to
 * right, back along the lowest, so one closed path fills the whole envelope. A silent
 * stretch still has a hairline (at least 0.6 units) so the lane reads as "quiet", not
 * missing. Exported for tests of the page's drawing.
 */
export function envelope(min, max, mid, half) {
  const n = Math.min(min.length, max.length);
  if (!n) return "";
  const his = new Array(n), los = new Array(n);
  for (let i = 0; i < n; i += 1) {
    let hi = mid - max[i] * half, lo = mid - min[i] * half;
    if (lo - hi < 0.6) { const c = (hi + lo) / 2; hi = c - 0.3; lo = c + 0.3; }
    his[i] = hi.toFixed(1);
    los[i] = lo.toFixed(1);
  }
  const points = [];
  for (let i = 0; i < n; i += 1) points.push(`${i} ${his[i]}`, `${i + 1} ${his[i]}`);
  for (let i = n - 1; i >= 0; i -= 1) points.push(`${i + 1} ${los[i]}`, `${i} ${los[i]}`);
  return `M${points.join("L")}Z`;
}

export class Waveform {
  /**
   * @param {HTMLElement} box where the SVG goes
   * @param {HTMLAudioElement} audio the player it follows and seeks
   * @param {{ label: (key: string, params?: object) => string }} opts
   */
  constructor(box, audio, { label }) {
    this.box = box;
    this.audio = audio;
    this.label = label;
    this.data = null;
    this.svg = null;
    this.head = null;
    this.frame = 0;
    const follow = () => this.place();
    for (const ev of ["timeupdate", "seeked", "loadedmetadata", "pause", "ended"]) {
      audio.addEventListener(ev, follow);
    }
    audio.addEventListener("play", () => this.animate());
  }

  /** The length the playhead is a share of: the player's once it knows, else the file's. */
  duration() {
    const d = this.audio.duration;
    return Number.isFinite(d) && d > 0 ? d : (this.data ? this.data.duration : 0);
  }

  clear() {
    this.data = null;
    this.svg = null;
    this.head = null;
    this.box.replaceChildren();
    this.box.dataset.state = "empty";
  }

  /** Draw the server's peaks; the lanes are the channels in the file's order. */
  show(data) {
    this.data = data;
    const lanes = data.peaks.length;
    const width = Math.max(1, data.buckets);
    const height = lanes * LANE + (lanes - 1) * GAP;
    const svg = node("svg", {
      viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", class: "waveform",
      role: "slider", tabindex: "0", "aria-label": this.label("rec.wave.seek"),
      "aria-valuemin": "0", "aria-valuemax": data.duration.toFixed(1),
      "data-testid": "rec-waveform", "data-buckets": data.buckets,
      "data-duration": data.duration });
    data.peaks.forEach((ch, i) => {
      const mid = i * (LANE + GAP) + LANE / 2;
      const name = data.channel_names[i] || `channel ${i + 1}`;
      const peak = Math.max(0, ...ch.max.map(Math.abs), ...ch.min.map(Math.abs));
      svg.append(node("rect", { x: 0, y: mid - LANE / 2, width, height: LANE, class: "lane" }));
      svg.append(node("line", { x1: 0, x2: width, y1: mid, y2: mid, class: "zero" }));
      svg.append(node("path", { d: envelope(ch.min, ch.max, mid, LANE / 2 - 1),
                                class: `wave wave-${name.replace(/\W+/g, "-")}`,
                                "data-channel": name, "data-peak": peak.toFixed(4) }));
    });
    this.head = node("line", { x1: 0, x2: 0, y1: 0, y2: height, class: "playhead",
                               "data-testid": "rec-playhead", "data-time": "0" });
    svg.append(this.head);
    svg.addEventListener("click", (e) => {
      const box = svg.getBoundingClientRect();
      if (box.width > 0) this.seek(((e.clientX - box.left) / box.width) * this.duration());
    });
    svg.addEventListener("keydown", (e) => {
      const by = { ArrowLeft: -STEP, ArrowRight: STEP, Home: -Infinity, End: Infinity }[e.key];
      if (by === undefined) return;
      e.preventDefault();
      this.seek((this.audio.currentTime || 0) + by);
    });
    this.svg = svg;
    this.box.replaceChildren(svg);
    this.box.dataset.state = "ready";
    this.place();
  }

  seek(seconds) {
    const d = this.duration();
    if (!(d > 0)) return;
    this.audio.currentTime = Math.min(Math.max(0, seconds), d);
    this.place();
  }

  /** Move the playhead to the player's time. */
  place() {
    if (!this.head || !this.data) return;
    const d = this.duration();
    const t = this.audio.currentTime || 0;
    const x = d > 0 ? Math.min(1, t / d) * this.data.buckets : 0;
    this.head.setAttribute("x1", x.toFixed(2));
    this.head.setAttribute("x2", x.toFixed(2));
    this.head.dataset.time = t.toFixed(2);
    this.svg.setAttribute("aria-valuenow", t.toFixed(1));
  }

  /** While playing, follow every frame (timeupdate alone moves it only ~4 times a second). */
  animate() {
    cancelAnimationFrame(this.frame);
    const step = () => {
      this.place();
      if (!this.audio.paused && !this.audio.ended) this.frame = requestAnimationFrame(step);
    };
    this.frame = requestAnimationFrame(step);
  }
}
