// Traffic: request rate, error rate and latency per API and proxy service, from
// /console/api/traffic (server-sampled every interval from the counters Prometheus exports;
// points are per-interval deltas). Polled at the server's interval with ?since=<last point>, so
// only new points travel; the last 10 minutes are kept and redrawn without reloading the page.

import { call, query } from '../api.js';
import { h, replace, table, num, message, poll } from '../dom.js';
import { lineChart, MAX_LINES } from '../chart.js';

export const title = 'Traffic';

/** Points kept (the server keeps as many). */
const WINDOW_MS = 10 * 60 * 1000;
/** The charts show the time since the first point, at least this and at most WINDOW_MS. */
const MIN_SPAN_MS = 2 * 60 * 1000;
const DEFAULT_INTERVAL_MS = 2000;

export function render(main) {
  const status = h('p', { class: 'muted', 'aria-live': 'polite', 'data-test': 'traffic-status' });
  const error = h('p', { class: 'error', role: 'status', 'data-test': 'traffic-error' });
  const charts = h('div', { class: 'charts', 'data-test': 'traffic-charts' });
  const tableBox = h('section', { 'aria-labelledby': 'traffic-table-title' });
  replace(main, h('h1', {}, 'Traffic'), status, error, charts, tableBox);

  /** `kind:name` -> {kind, name, points: [...]}, points in time order. */
  const series = new Map();
  let since = null;
  let intervalMs = DEFAULT_INTERVAL_MS;
  let live = true;

  async function load() {
    let answer;
    try {
      answer = await call(`/console/api/traffic${query({ since })}`);
    } catch (err) {
      error.textContent = message(err);
      return;
    }
    if (!live || !answer) return;
    error.textContent = '';
    if (answer.interval_ms > 0) intervalMs = Math.min(Math.max(answer.interval_ms, 1000), 5000);
    for (const s of answer.series || []) {
      const key = `${s.kind}:${s.name}`;
      let entry = series.get(key);
      if (!entry) {
        entry = { kind: s.kind, name: s.name, points: [] };
        series.set(key, entry);
      }
      const lastT = entry.points.length ? entry.points[entry.points.length - 1].t : -Infinity;
      for (const p of s.points || []) {
        if (p.t > lastT) entry.points.push(p);
        if (since === null || p.t > since) since = p.t;
      }
    }
    draw();
  }

  function draw() {
    const now = Math.max(Date.now(), since || 0);
    const from = now - WINDOW_MS;
    const all = [];
    for (const s of series.values()) {
      s.points = s.points.filter((p) => p.t >= from);
      const requests = s.points.reduce((a, p) => a + (p.requests || 0), 0);
      const errors = s.points.reduce((a, p) => a + (p.errors || 0), 0);
      all.push({ ...s, requests, errors });
    }
    all.sort((a, b) => b.requests - a.requests || a.name.localeCompare(b.name));
    const first = Math.min(...all.map((s) => (s.points.length ? s.points[0].t : now)));
    const span = Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, now - first));
    const seconds = intervalMs / 1000;
    const label = (s) => `${s.name}${s.kind === 'proxy' ? ' (proxy)' : ''}`;
    const plotted = all.slice(0, MAX_LINES);
    const values = (s, f) => s.points.map((p) => [p.t, f(p)]);
    const perSecond = (p, field) => (p[field] || 0) / ((p.interval_ms || intervalMs) / 1000);

    replace(charts,
      lineChart({
        title: 'Requests', unit: 'per second', now, windowMs: span, test: 'chart-requests', wide: true,
        series: plotted.map((s) => ({ name: label(s), values: values(s, (p) => perSecond(p, 'requests')) })),
      }),
      lineChart({
        title: 'Errors', unit: 'per second', now, windowMs: span, test: 'chart-errors',
        series: plotted.map((s) => ({ name: label(s), values: values(s, (p) => perSecond(p, 'errors')) })),
      }),
      lineChart({
        // The mean is exact (latency sum / count); MI's histogram buckets start at 190 ms, so
        // quantiles estimated from them say nothing about a fast service.
        title: 'Latency (mean)', unit: 'ms', now, windowMs: span, test: 'chart-latency', floor: 1, digits: 2,
        series: plotted.map((s) => ({ name: label(s), values: values(s, (p) => (p.requests ? p.mean_ms : null)) })),
      }));

    const latest = (s, f) => {
      for (let i = s.points.length - 1; i >= 0; i--) {
        const p = s.points[i];
        if (p.requests) return f(p);
      }
      return null;
    };
    const rows = all.map((s) => {
      const last = s.points[s.points.length - 1];
      return h('tr', { 'data-test': 'traffic-row', 'data-name': s.name, 'data-kind': s.kind },
        h('th', { scope: 'row' }, s.name),
        h('td', {}, s.kind === 'proxy' ? 'Proxy service' : 'API'),
        h('td', { class: 'num', 'data-test': `traffic-requests-${s.name}` }, num(s.requests)),
        h('td', { class: 'num' }, last ? num((last.requests || 0) / seconds, 2) : '–'),
        h('td', { class: 'num', 'data-test': `traffic-errors-${s.name}` }, num(s.errors)),
        h('td', { class: 'num' }, s.requests ? `${num((100 * s.errors) / s.requests, 1)} %` : '–'),
        h('td', { class: 'num' }, num(latest(s, (p) => p.mean_ms), 2)),
        h('td', { class: 'num' }, num(latest(s, (p) => p.p95_ms), 1)));
    });
    replace(tableBox,
      h('h2', { id: 'traffic-table-title' }, 'Per API and proxy service'),
      table({
        caption: 'Totals over the last 10 minutes; rate of the last interval; latency of the last interval with requests.',
        headers: ['Name', 'Kind', ['Requests', 'num'], ['Requests/s', 'num'], ['Errors', 'num'],
          ['Error rate', 'num'], ['Mean ms', 'num'], ['p95 ms (MI buckets)', 'num']],
        rows,
        test: 'traffic-table',
        empty: 'No API or proxy service has served a request in the last 10 minutes.',
      }));
    const total = all.reduce((a, s) => a + s.requests, 0);
    const errors = all.reduce((a, s) => a + s.errors, 0);
    status.textContent = `${num(total)} requests and ${num(errors)} errors in the last 10 minutes, updated every ${num(seconds)} s.`;
  }

  // poll() reads the interval once; re-arm when the server's interval differs from ours.
  let stop = null;
  let armedMs = intervalMs;
  const tick = async () => {
    await load();
    if (live && intervalMs !== armedMs) {
      armedMs = intervalMs;
      stop();
      stop = poll(tick, armedMs);
    }
  };
  stop = poll(tick, armedMs);
  return () => {
    live = false;
    stop();
  };
}
