// Fleet: one card per instance this one knows (itself, the instances discovered on this host
// through their instance files, and the [console] peers), each with health, version, offset,
// artifact counts and errors, or why it could not be reached (/console/api/fleet, every 5 s).

import { call } from '../api.js';
import { h, replace, badge, num, duration, message, poll } from '../dom.js';
import { healthBadge, KIND_LABELS } from './overview.js';

export const title = 'Fleet';

const REFRESH_MS = 5000;

export function render(main) {
  const status = h('p', { class: 'muted', 'aria-live': 'polite', 'data-test': 'fleet-status' });
  const error = h('p', { class: 'error', role: 'status', 'data-test': 'fleet-error' });
  const cards = h('div', { class: 'cards', 'data-test': 'fleet-cards' });
  replace(main, h('h1', {}, 'Fleet'), status, error, cards);

  async function load() {
    let answer;
    try {
      answer = await call('/console/api/fleet');
    } catch (err) {
      error.textContent = message(err);
      return;
    }
    error.textContent = '';
    const instances = (answer && answer.instances) || [];
    replace(cards, instances.map(card));
    const up = instances.filter((i) => i.reachable).length;
    status.textContent = `${instances.length} instance${instances.length === 1 ? '' : 's'}, ${up} reachable.`;
  }

  return poll(load, REFRESH_MS);
}

function card(instance) {
  const s = instance.summary;
  const counts = s && s.artifacts
    ? Object.entries(s.artifacts).filter(([, n]) => n).map(([k, n]) => `${KIND_LABELS[k] || k.replace(/_/g, ' ')}: ${num(n)}`).join(', ')
    : '';
  const failed = (s && s.failed) || [];
  return h('article', {
    class: 'card instance-card', 'data-test': 'fleet-instance',
    'data-url': instance.url, 'data-self': String(Boolean(instance.self)),
    'data-offset': s ? String(s.offset) : '',
  },
  h('h2', {},
    h('span', { class: 'mono' }, instance.url || 'this instance'),
    instance.self ? badge('this instance', 'plain') : badge(instance.source || 'peer', 'plain'),
    !instance.reachable ? badge('unreachable', 'bad', 'fleet-health')
      : s ? healthBadge(s.health) : null),
  s ? h('dl', { class: 'facts' },
    h('dt', {}, 'Host'), h('dd', {}, s.name),
    h('dt', {}, 'Version'), h('dd', { 'data-test': 'fleet-version' }, s.version),
    h('dt', {}, 'Offset'), h('dd', { 'data-test': 'fleet-offset' }, String(s.offset)),
    h('dt', {}, 'Up for'), h('dd', {}, duration(s.uptime_secs)),
    h('dt', {}, 'Artifacts'), h('dd', { 'data-test': 'fleet-artifacts' }, counts || 'none'),
    h('dt', {}, 'Requests'), h('dd', {}, num(s.requests_total)),
    h('dt', {}, 'Errors'), h('dd', { 'data-test': 'fleet-errors' }, num(s.errors_total)),
    h('dt', {}, 'Failed to deploy'), h('dd', {}, failed.length
      ? h('ul', { class: 'failures' }, failed.map((f) => h('li', {}, h('code', {}, f.file), ' ', f.error)))
      : 'none')) : null,
  instance.error ? h('p', { class: 'error', 'data-test': 'fleet-instance-error' }, instance.error) : null);
}
