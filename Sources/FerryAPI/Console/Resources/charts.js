// SVG charts of metric series: a sparkline for the task list and a line chart with axes for a task.

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];

function svg(tag, attributes, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) element.append(child);
  return element;
}

function path(points, x, y) {
  return points.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
}

/** A small line of `points` ([time, value], oldest first) with no axes; `title` is its tooltip. */
export function sparkline(points, title) {
  const width = 120, height = 28;
  const chart = svg("svg", { class: "sparkline", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "data-points": points.length });
  chart.append(svg("title", {}, title));
  if (points.length < 2) return chart;
  const times = points.map((p) => p[0]), values = points.map((p) => p[1]);
  const t0 = Math.min(...times), t1 = Math.max(...times), top = Math.max(...values, 1);
  const x = (t) => ((t - t0) / (t1 - t0 || 1)) * (width - 2) + 1;
  const y = (v) => height - 2 - (v / top) * (height - 4);
  chart.append(svg("path", { d: path(points, x, y), fill: "none", stroke: COLOURS[0], "stroke-width": 1.5 }));
  return chart;
}

/**
 * A line chart of named series ({ name: [[time, value], …] }) over the last `minutes`, with a value
 * axis and a legend that gives each series' last value in `unit`. Its `data-points` attribute counts
 * the points drawn (tests read it).
 */
export function lineChart(series, unit, minutes = 15) {
  const width = 640, height = 200, left = 48, bottom = 22, right = 8, top = 8;
  const end = Date.now() / 1000, start = end - minutes * 60;
  const names = Object.keys(series);
  const all = names.flatMap((name) => series[name]);
  const highest = Math.max(1, ...all.map((p) => p[1]));
  const scale = niceCeiling(highest);
  const x = (t) => left + ((t - start) / (end - start)) * (width - left - right);
  const y = (v) => height - bottom - (v / scale) * (height - bottom - top);
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "data-points": all.length });
  for (let i = 0; i <= 4; i += 1) {
    const value = (scale * i) / 4;
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" }));
    chart.append(svg("text", { x: left - 4, y: y(value) + 4, "text-anchor": "end", class: "axis" }, formatTick(value)));
  }
  for (let m = 0; m <= minutes; m += 5) {
    const t = start + m * 60;
    chart.append(svg("text", { x: x(t), y: height - 6, "text-anchor": "middle", class: "axis" }, m === minutes ? "now" : `−${minutes - m} min`));
  }
  names.forEach((name, i) => {
    const points = series[name].filter((p) => p[0] >= start);
    if (points.length) {
      chart.append(svg("path", { d: path(points, x, y), fill: "none", stroke: COLOURS[i % COLOURS.length], "stroke-width": 2, "data-series": name }));
    }
  });
  const legend = document.createElement("div");
  legend.className = "legend";
  names.forEach((name, i) => {
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = COLOURS[i % COLOURS.length];
    const last = series[name].at(-1);
    legend.append(swatch, `${name}${last ? ` ${formatTick(last[1])} ${unit}` : " (no data yet)"}`, " ");
  });
  const figure = document.createElement("figure");
  figure.append(chart, legend);
  return figure;
}

function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((candidate) => candidate >= value);
}

function formatTick(value) {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value >= 10 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, "");
}
