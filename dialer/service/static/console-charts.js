// console-charts.js - small SVG charts for the console's reports, drawn in the browser
// from the report API's rows: no charting library and nothing from the internet (sites are
// offline; the service's CSP allows only its own files). Two shapes cover the reports:
//
//   barChart({ categories, series, lines, stacked, format, max, title })
//   lineChart({ categories, series, lines, format, max, title })
//
// series: [{ name, values: [number|null], cls }] (cls picks the colour in console.css);
// lines: [{ value, label, cls }] horizontal reference lines (the abandon cap, a target).
// format(value) -> text for the axis and the tooltips; minTop: the axis's least top (4
// for counts, so an empty day has no axis at 0.25 calls). Everything is built with DOM
// calls (createElementNS, textContent): labels come from lists and users, never HTML.
// Colours and fonts are classes (console.css), so no inline style is needed.

const NS = "http://www.w3.org/2000/svg";
const W = 560, H = 220;
const PAD = { left: 52, right: 12, top: 12, bottom: 46 };

function node(tag, attrs = {}, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = String(text);
  return n;
}

/** A "nice" top for the value axis: 1, 2, 2.5 or 5 times a power of ten. */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function frame({ categories, lines = [], format, top, title, series }) {
  const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img",
                            "data-categories": categories.length });
  if (title) svg.append(node("title", {}, title));
  const plotW = W - PAD.left - PAD.right, plotH = H - PAD.top - PAD.bottom;
  const y = (v) => PAD.top + plotH - (Math.max(0, v) / top) * plotH;
  // Intervals giving round ticks: 5 for a top of 1, 2.5 or 5 (x 10^n), 4 for 2.
  const mantissa = top / 10 ** Math.floor(Math.log10(top));
  const steps = Math.abs(mantissa - 2) < 1e-9 ? 4 : 5;
  for (let i = 0; i <= steps; i += 1) {
    const v = (top * i) / steps;
    svg.append(node("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "grid-line" }));
    svg.append(node("text", { x: PAD.left - 4, y: y(v) + 4, class: "axis", "text-anchor": "end" }, format(v)));
  }
  const slot = categories.length ? plotW / categories.length : plotW;
  const every = Math.max(1, Math.ceil(categories.length / 12));   // at most ~12 labels
  categories.forEach((c, i) => {
    if (i % every) return;
    const x = PAD.left + slot * (i + 0.5);
    const label = node("text", { x, y: H - PAD.bottom + 14, class: "axis", "text-anchor": "middle" }, c);
    svg.append(label);
  });
  const legend = node("g", { class: "legend" });
  let lx = PAD.left;
  for (const s of [...series, ...lines]) {
    legend.append(node("rect", { x: lx, y: H - 16, width: 10, height: 10, class: s.cls }));
    const t = node("text", { x: lx + 14, y: H - 7, class: "axis" }, s.name ?? s.label);
    legend.append(t);
    // Room for the label: CJK glyphs are about twice as wide as Latin ones at 10px.
    lx += 24 + [...String(s.name ?? s.label)].reduce((w, ch) => w + (ch > "\u2e7f" ? 10 : 6), 0);
  }
  svg.append(legend);
  return { svg, y, slot, plotW };
}

function refLines(svg, y, lines) {
  for (const l of lines) {
    const g = node("g", { class: `ref ${l.cls}`, "data-ref": l.value });
    g.append(node("line", { x1: PAD.left, x2: W - PAD.right, y1: y(l.value), y2: y(l.value) }));
    g.append(node("title", {}, l.label));
    svg.append(g);
  }
}

function empty(svg, message) {
  svg.append(node("text", { x: W / 2, y: H / 2 - 10, class: "empty", "text-anchor": "middle" }, message));
}

/** Bars per category: side by side, or stacked (`stacked: true`). */
export function barChart({ categories, series, lines = [], stacked = false, format = String,
                           max, minTop = 0, title, emptyText = "" }) {
  const totals = categories.map((_, i) => (stacked
    ? series.reduce((a, s) => a + (s.values[i] || 0), 0)
    : Math.max(0, ...series.map((s) => s.values[i] || 0))));
  const top = max ?? niceMax(Math.max(minTop, ...totals, ...lines.map((l) => l.value)));
  const { svg, y, slot } = frame({ categories, lines, format, top, title, series });
  const inner = slot * 0.8, width = stacked ? inner : inner / Math.max(1, series.length);
  categories.forEach((c, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      const x = PAD.left + slot * i + slot * 0.1 + (stacked ? 0 : k * width);
      const y0 = y(base), y1 = y(base + v);
      const bar = node("rect", { x, y: y1, width: Math.max(1, width - 1), height: Math.max(0, y0 - y1),
                                 class: `bar ${s.cls}`, "data-value": v });
      bar.append(node("title", {}, `${c} · ${s.name}: ${format(v)}`));
      svg.append(bar);
      if (stacked) base += v;
    });
  });
  refLines(svg, y, lines);
  if (!categories.length) empty(svg, emptyText);
  return svg;
}

/** A line (with dots) per series across the categories. */
export function lineChart({ categories, series, lines = [], format = String, max, minTop = 0,
                            title, emptyText = "" }) {
  const values = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  const top = max ?? niceMax(Math.max(minTop, ...values, ...lines.map((l) => l.value)));
  const { svg, y, slot } = frame({ categories, lines, format, top, title, series });
  for (const s of series) {
    const points = [];
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      points.push([PAD.left + slot * (i + 0.5), y(v), v, categories[i]]);
    });
    svg.append(node("polyline", { points: points.map(([x, yy]) => `${x},${yy}`).join(" "),
                                  class: `line ${s.cls}` }));
    for (const [x, yy, v, c] of points) {
      const dot = node("circle", { cx: x, cy: yy, r: 3, class: `dot ${s.cls}`, "data-value": v });
      dot.append(node("title", {}, `${c} · ${s.name}: ${format(v)}`));
      svg.append(dot);
    }
  }
  refLines(svg, y, lines);
  if (!categories.length) empty(svg, emptyText);
  return svg;
}
