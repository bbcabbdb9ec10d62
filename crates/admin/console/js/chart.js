// A small SVG line chart for the traffic view: time on x (the last few minutes), one line per
// series, a y axis rounded to 1/2/5 steps, a legend, and an aria-label that says the latest value
// of each line. Colours come from console.css classes (s0..s7), so no inline style is needed.

import { h, svg, num } from './dom.js';

/** The drawing's width in SVG units: a wide chart spans the whole row. */
const W_NARROW = 600;
const W_WIDE = 1000;
const H = 230;
const PAD = { left: 52, right: 12, top: 12, bottom: 26 };
/** Series drawn at most (one colour class each); the table beside the charts lists every one. */
export const MAX_LINES = 8;

/** `−10 min`, `−90 s`: how long ago a time on the x axis is. */
function ago(ms) {
  const s = Math.round(ms / 1000);
  return s >= 120 ? `−${Math.round(s / 60)} min` : `−${s} s`;
}

/** The smallest 1, 2 or 5 times a power of ten at or above `v` (at least `floor`). */
function niceMax(v, floor) {
  const x = Math.max(v, floor);
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/**
 * `series`: [{name, values: [[unixMs, value|null], ...]}], at most MAX_LINES; `wide` spans the row.
 * Returns a card with the title, the chart and its legend; `test` names it for the browser tests
 * and `data-total` holds the sum of every plotted value (the tests watch it move).
 */
export function lineChart({ title, unit, series, now, windowMs, test, floor = 1, digits = 1, wide = false }) {
  const W = wide ? W_WIDE : W_NARROW;
  const x0 = now - windowMs;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  let max = 0;
  let total = 0;
  for (const s of series) {
    for (const [, v] of s.values) {
      if (v === null || v === undefined) continue;
      max = Math.max(max, v);
      total += v;
    }
  }
  const top = niceMax(max, floor);
  const x = (t) => PAD.left + ((t - x0) / windowMs) * innerW;
  const y = (v) => PAD.top + innerH - (v / top) * innerH;

  const grid = [];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    grid.push(svg('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    grid.push(svg('text', { class: 'axis-label', x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, num(v, 2)));
  }
  for (const [frac, label] of [[0, ago(windowMs)], [0.5, ago(windowMs / 2)], [1, 'now']]) {
    const anchor = frac === 0 ? 'start' : frac === 1 ? 'end' : 'middle';
    grid.push(svg('text', { class: 'axis-label', x: PAD.left + frac * innerW, y: H - 6, 'text-anchor': anchor }, label));
  }

  const lines = series.map((s, i) => {
    const pts = s.values.filter(([t, v]) => t >= x0 && v !== null && v !== undefined);
    const cls = `s${i % MAX_LINES}`;
    const d = pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const last = pts[pts.length - 1];
    return svg('g', { 'data-series': s.name },
      svg('polyline', { class: cls, points: d }),
      last ? svg('circle', { class: cls, cx: x(last[0]).toFixed(1), cy: y(last[1]).toFixed(1), r: 3 }) : null);
  });

  const latest = series.map((s) => {
    const vals = s.values.filter(([, v]) => v !== null && v !== undefined);
    return `${s.name} ${vals.length ? num(vals[vals.length - 1][1], digits) : 'no data'}`;
  });
  const label = series.length
    ? `${title} over the last ${ago(windowMs).slice(1)}, latest ${unit}: ${latest.join('; ')}`
    : `${title}: no traffic yet`;

  const chart = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label,
    'data-test': test, 'data-total': total.toFixed(3), 'data-max': max,
  }, grid, lines);

  return h('div', { class: `card chart${wide ? ' wide' : ''}` },
    h('h2', {}, `${title} `, h('span', { class: 'muted' }, `(${unit})`)),
    chart,
    h('ul', { class: 'legend', 'aria-hidden': 'true' },
      series.map((s, i) => h('li', {}, h('span', { class: `swatch s${i % MAX_LINES}` }), s.name))));
}
