// Overview: server facts and health (/console/api/summary), artifact counts, deployment failures
// with file:line, and the port plan with who holds each port (/console/api/ports, the same plan as
// `conflux ports --check`). Refreshed every 5 s.

import { call } from '../api.js';
import { h, replace, badge, table, duration, num, message, poll } from '../dom.js';

export const title = 'Overview';

const REFRESH_MS = 5000;

export const KIND_LABELS = {
  apis: 'APIs',
  proxy_services: 'Proxy services',
  endpoints: 'Endpoints',
  sequences: 'Sequences',
  capps: 'Carbon apps',
  data_services: 'Data services',
  tasks: 'Tasks',
  local_entries: 'Local entries',
  templates: 'Templates',
  message_stores: 'Message stores',
  message_processors: 'Message processors',
  inbound_endpoints: 'Inbound endpoints',
  faulty_capps: 'Faulty carbon apps',
};

/** Kinds shown even when none is deployed; the others only when some are. */
const ALWAYS = new Set(['apis', 'proxy_services', 'endpoints', 'sequences', 'capps', 'data_services']);

export function render(main) {
  const server = h('section', { 'aria-labelledby': 'ov-server' });
  const ports = h('section', { 'aria-labelledby': 'ov-ports' });
  const status = h('p', { class: 'error', role: 'status', 'data-test': 'overview-error' });
  replace(main, h('h1', {}, 'Overview'), status, server, ports);
  return poll(async () => {
    const [summary, plan] = await Promise.allSettled([
      call('/console/api/summary'),
      call('/console/api/ports'),
    ]);
    status.textContent = [summary, plan]
      .filter((r) => r.status === 'rejected')
      .map((r) => message(r.reason))
      .join(' ');
    if (summary.status === 'fulfilled') renderSummary(server, summary.value);
    if (plan.status === 'fulfilled') renderPorts(ports, plan.value);
  }, REFRESH_MS);
}

export function healthBadge(health) {
  const kind = health === 'ready' ? 'ok' : health === 'starting' ? 'warn' : 'bad';
  return badge(health || 'unknown', kind, 'health');
}

function renderSummary(section, s) {
  const counts = Object.entries(s.artifacts || {}).filter(([kind, n]) => n || ALWAYS.has(kind)).map(([kind, n]) =>
    h('div', { class: 'stat', 'data-test': `count-${kind}` },
      h('span', { class: 'value' }, num(n)),
      h('span', { class: 'label' }, KIND_LABELS[kind] || kind)));
  const failed = s.failed || [];
  replace(section,
    h('div', { class: 'overview-top' },
      h('div', {},
        h('h2', { id: 'ov-server' }, 'Server'),
        h('div', { class: 'card' },
          h('dl', { class: 'facts', 'data-test': 'server-facts' },
            h('dt', {}, 'Health'), h('dd', {}, healthBadge(s.health)),
            h('dt', {}, 'Host'), h('dd', { 'data-test': 'server-name' }, s.name),
            h('dt', {}, 'Version'), h('dd', { 'data-test': 'server-version' }, s.version),
            h('dt', {}, 'Port offset'), h('dd', { 'data-test': 'server-offset' }, String(s.offset)),
            h('dt', {}, 'Home'), h('dd', { class: 'mono' }, s.home),
            h('dt', {}, 'Up for'), h('dd', {}, duration(s.uptime_secs)),
            h('dt', {}, 'Requests'), h('dd', {}, num(s.requests_total)),
            h('dt', {}, 'Errors'), h('dd', {}, num(s.errors_total))))),
      h('div', {},
        h('h2', {}, 'Deployed artifacts'),
        h('div', { class: 'stats', 'data-test': 'artifact-counts' }, counts))),
    failed.length ? h('h2', {}, `Failed to deploy (${failed.length})`) : null,
    failed.length ? failures(failed) : null);
}

/** The list of deployment failures, `file:line:column` first. */
export function failures(failed) {
  return h('ul', { class: 'failures card', 'data-test': 'failures' },
    failed.map((f) => h('li', {}, h('code', {}, f.file), ' ', f.error)));
}

function stateBadge(state) {
  if (state === 'listening') return badge('listening', 'ok');
  if (state === 'failed') return badge('failed', 'bad');
  return badge(state || 'off', 'plain');
}

function renderPorts(section, plan) {
  const rows = (plan.ports || []).map((p) =>
    h('tr', { 'data-test': 'port-row', 'data-key': p.key },
      h('td', {}, p.name),
      h('td', { class: 'num mono', 'data-test': 'port-number' }, String(p.port)),
      h('td', {}, p.protocol),
      h('td', { class: 'mono' }, p.bind),
      h('td', {}, stateBadge(p.state)),
      h('td', {}, p.holder || '–')));
  replace(section,
    h('h2', { id: 'ov-ports' }, `Port plan (offset ${plan.offset})`),
    table({
      caption: 'Every port of this instance: base port plus the offset, and who holds it now.',
      headers: ['Listener', ['Port', 'num'], 'Protocol', 'Bind address', 'State', 'Held by'],
      rows,
      test: 'ports-table',
    }));
}
