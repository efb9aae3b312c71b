// Two small SVG charts, drawn without a library: a line of values and stacked shares.
const ns = "http://www.w3.org/2000/svg";
const width = 600;
const height = 160;
const top = 10;
const bottom = 20;

// Colours that stay apart in light and dark themes and for common colour blindness.
export const palette = ["#3b7dd8", "#e0803a", "#2e9e6b", "#c0508a", "#8a6ad0", "#b8a02a", "#4fb3c8", "#d04b4b"];

function node(name, attributes = {}) {
  const element = document.createElementNS(ns, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

function axis(svg, label) {
  svg.append(node("line", { x1: 0, y1: height - bottom, x2: width, y2: height - bottom, class: "axis" }));
  const text = node("text", { x: 4, y: height - 5, class: "tick" });
  text.textContent = label;
  svg.append(text);
}

// A line of `values` (newest on the right), scaled to its maximum, for `capacity` slots.
export function drawLine(svg, values, capacity, format) {
  svg.replaceChildren();
  const highest = Math.max(0, ...values);
  const peak = Math.max(highest, 1e-9);
  const step = width / Math.max(1, capacity - 1);
  const offset = (capacity - values.length) * step;
  const y = (v) => height - bottom - (v / peak) * (height - bottom - top);
  if (values.length > 1) {
    const points = values.map((v, i) => `${(offset + i * step).toFixed(1)},${y(v).toFixed(1)}`);
    svg.append(node("polygon", { points: `${offset},${height - bottom} ${points.join(" ")} ${offset + (values.length - 1) * step},${height - bottom}`, class: "area" }));
    svg.append(node("polyline", { points: points.join(" "), class: "line" }));
  }
  const label = node("text", { x: width - 4, y: top + 10, class: "tick end" });
  label.textContent = `peak ${format(highest)} · now ${format(values.at(-1) ?? 0)}`;
  svg.append(label);
  axis(svg, "5 min ago");
}

// One bar per sample, split by each name's share of that sample's total.
export function drawShares(svg, samples, names, capacity) {
  svg.replaceChildren();
  const barWidth = width / capacity;
  const offset = (capacity - samples.length) * barWidth;
  const span = height - bottom - top;
  samples.forEach((sample, i) => {
    const total = [...sample.values()].reduce((a, b) => a + b, 0);
    if (!total) return;
    let y = height - bottom;
    for (const [name, color] of names) {
      const share = (sample.get(name) ?? 0) / total;
      if (!share) continue;
      const h = share * span;
      y -= h;
      const bar = node("rect", { x: (offset + i * barWidth).toFixed(1), y: y.toFixed(1), width: Math.max(1, barWidth - 0.5).toFixed(1), height: h.toFixed(1) });
      bar.style.fill = color;
      svg.append(bar);
    }
  });
  axis(svg, "5 min ago");
}
