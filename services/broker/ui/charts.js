// Two tiny SVG charts, drawn from scratch on each change (a few dozen points:
// cheaper than a chart library and no dependency).

const NS = "http://www.w3.org/2000/svg";
const W = 600;
const H = 120;
const PAD = { l: 34, r: 6, t: 6, b: 16 };

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function frame(max, unit) {
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart-svg", role: "img" });
  const y0 = H - PAD.b;
  for (const f of [0, 0.5, 1]) {
    const y = y0 - f * (y0 - PAD.t);
    root.append(svg("line", { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: PAD.l - 4, y: y + 3, class: "axis", "text-anchor": "end" }, `${+(max * f).toPrecision(3)}${f === 1 ? unit : ""}`));
  }
  return root;
}

/** Lines over the samples (at least `slots` wide, so a fresh page does not stretch two points), newest at the right: `series` is [{ values, className, label }]. */
export function lineChart(container, series, unit = "", slots = 12) {
  const n = Math.max(slots, ...series.map((s) => s.values.length));
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const root = frame(max, unit);
  const x = (i) => PAD.l + (i / (n - 1)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / max) * (H - PAD.b - PAD.t);
  series.forEach((s, k) => {
    if (s.values.length === 0) return;
    const offset = n - s.values.length;
    const d = s.values.map((v, i) => `${i === 0 ? "M" : "L"}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join("");
    root.append(svg("path", { d, class: `line ${s.className}` }));
    root.append(svg("text", { x: PAD.l + 6 + k * 110, y: H - 3, class: `legend ${s.className}` }, `${s.label} ${s.values.at(-1).toFixed(0)}`));
  });
  container.replaceChildren(root);
}

/** One bar per detection (newest right), labelled with the provider. */
export function barChart(container, bars, unit = "") {
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const root = frame(max, unit);
  if (bars.length === 0) root.append(svg("text", { x: W / 2, y: H / 2, class: "axis", "text-anchor": "middle" }, "no provider lost yet"));
  const slot = (W - PAD.l - PAD.r) / Math.max(bars.length, 10);
  bars.forEach((b, i) => {
    const h = (b.value / max) * (H - PAD.b - PAD.t);
    const rect = svg("rect", { x: PAD.l + i * slot + 2, y: H - PAD.b - h, width: Math.max(2, slot - 4), height: h, class: "bar" });
    rect.append(svg("title", {}, `${b.label}: ${b.value.toFixed(0)} ${unit}`));
    root.append(rect);
  });
  container.replaceChildren(root);
}
