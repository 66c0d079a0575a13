// A small inline SVG line chart of a KPI's series. Drawn only with ≥ 2 numeric points.

import { svg } from "../dom.js";
import { formatDate, formatNumber } from "../format.js";

const WIDTH = 120;
const HEIGHT = 32;
const PAD = 3;

export function sparkline(series, name) {
  const points = (series || [])
    .filter((p) => typeof p?.v === "number" && Number.isFinite(p.v))
    .sort((a, b) => String(a.t).localeCompare(String(b.t)));
  if (points.length < 2) return null;

  const values = points.map((p) => p.v);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (i) => PAD + (i * (WIDTH - 2 * PAD)) / (points.length - 1);
  const y = (v) => (max === min ? HEIGHT / 2 : PAD + ((max - v) * (HEIGHT - 2 * PAD)) / span);
  const coords = points.map((p, i) => `${x(i).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  const first = points[0];
  const last = points[points.length - 1];
  const label =
    `${name} trend, ${points.length} points: ${formatNumber(first.v)} on ${formatDate(first.t)} ` +
    `to ${formatNumber(last.v)} on ${formatDate(last.t)} (min ${formatNumber(min)}, max ${formatNumber(max)})`;

  return svg(
    "svg",
    {
      class: "sparkline",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      width: WIDTH,
      height: HEIGHT,
      role: "img",
      "aria-label": label,
      "data-testid": "sparkline",
      "data-points": points.length,
    },
    svg("title", {}, label),
    svg("polyline", {
      points: coords,
      fill: "none",
      "stroke-width": 1.5,
      "vector-effect": "non-scaling-stroke",
    }),
    svg("circle", { cx: x(points.length - 1).toFixed(1), cy: y(last.v).toFixed(1), r: 2.2 }),
  );
}
