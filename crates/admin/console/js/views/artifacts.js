// Artifacts: one tab per kind of the Management API's lists, a search box (MI's searchKey rule:
// case-insensitive part of the name), and a detail panel with the artifact's facts and its
// configuration XML. Artifacts that failed to deploy are listed on top with file:line:column.
// Deep links: #/artifacts/<kind>/<name>.

import { call, query } from '../api.js';
import { h, replace, table, message, announce } from '../dom.js';
import { failures } from './overview.js';

export const title = 'Artifacts';

/** The kinds, with the Management API resource and its detail parameter. */
const KINDS = [
  { key: 'apis', label: 'APIs', detail: 'apiName', extra: (a) => a.url },
  { key: 'proxy-services', label: 'Proxy services', detail: 'proxyServiceName', extra: (a) => a.wsdl1_1 },
  { key: 'endpoints', label: 'Endpoints', detail: 'endpointName', extra: (a) => `${a.type}${a.isActive === false ? ' (inactive)' : ''}` },
  { key: 'sequences', label: 'Sequences', detail: 'sequenceName', extra: () => '' },
  { key: 'local-entries', label: 'Local entries', detail: 'name', extra: (a) => a.type },
  { key: 'data-services', label: 'Data services', detail: 'dataServiceName', extra: (a) => a.wsdl1_1 },
  { key: 'tasks', label: 'Tasks', detail: 'taskName', extra: () => '' },
  { key: 'message-stores', label: 'Message stores', detail: 'name', extra: (a) => a.type },
  { key: 'message-processors', label: 'Message processors', detail: 'name', extra: (a) => `${a.type || ''} ${a.status || ''}`.trim() },
];

export function render(main, params) {
  let kind = KINDS.find((k) => k.key === params[0]) || KINDS[0];
  let items = [];
  let selected = params[1] || null;
  let generation = 0;

  const failedBox = h('section', { 'aria-label': 'Deployment failures' });
  const tabs = h('div', { role: 'tablist', 'aria-label': 'Artifact kinds' });
  const search = h('input', {
    type: 'search', id: 'artifact-search', 'data-test': 'artifact-search',
    placeholder: 'Name contains…', autocomplete: 'off',
  });
  const count = h('span', { class: 'muted', 'aria-live': 'polite', 'data-test': 'artifact-count' });
  const listBox = h('div', { id: 'artifact-list', role: 'tabpanel', 'data-test': 'artifact-list' });
  const detailBox = h('section', { 'aria-label': 'Artifact detail', 'data-test': 'artifact-detail' });
  const error = h('p', { class: 'error', role: 'status', 'data-test': 'artifacts-error' });

  const tabButtons = KINDS.map((k) => h('button', {
    type: 'button', role: 'tab', id: `tab-${k.key}`, 'aria-controls': 'artifact-list',
    'data-test': `tab-${k.key}`,
    onclick: () => select(k, true),
    onkeydown: (event) => {
      const i = KINDS.indexOf(k);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: KINDS.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      select(KINDS[(next + KINDS.length) % KINDS.length], true);
    },
  }, k.label));
  replace(tabs, tabButtons);

  replace(main,
    h('h1', {}, 'Artifacts'),
    error,
    failedBox,
    tabs,
    h('div', { class: 'toolbar' },
      h('label', { for: 'artifact-search' }, 'Search'), search, count),
    h('div', { class: 'split' }, listBox, detailBox));

  search.addEventListener('input', () => drawList());

  function setHash() {
    const tail = selected ? `/${encodeURIComponent(selected)}` : '';
    history.replaceState(null, '', `#/artifacts/${kind.key}${tail}`);
  }

  function select(k, focus) {
    if (k !== kind) selected = null;
    kind = k;
    for (const b of tabButtons) {
      const on = b.id === `tab-${k.key}`;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      if (on && focus) b.focus();
    }
    listBox.setAttribute('aria-labelledby', `tab-${k.key}`);
    setHash();
    loadList();
  }

  async function loadList() {
    const mine = ++generation;
    replace(listBox, h('p', { class: 'muted' }, 'Loading…'));
    replace(detailBox);
    error.textContent = '';
    try {
      const answer = await call(`/management/${kind.key}`);
      if (mine !== generation) return;
      items = (answer && answer.list) || [];
      drawList();
      if (selected) showDetail(selected, false);
    } catch (err) {
      if (mine !== generation) return;
      items = [];
      replace(listBox);
      error.textContent = `${kind.label}: ${message(err)}`;
    }
  }

  function drawList() {
    const key = search.value.trim().toLowerCase();
    const shown = items.filter((a) => !key || String(a.name).toLowerCase().includes(key));
    count.textContent = `${shown.length} of ${items.length} shown`;
    const rows = shown.map((a) => h('tr', { 'data-test': 'artifact-row', 'data-name': a.name },
      h('td', {}, h('button', {
        type: 'button', class: 'link-button', 'data-test': `artifact-${a.name}`,
        'aria-pressed': String(a.name === selected),
        onclick: () => showDetail(a.name, true),
      }, a.name)),
      h('td', { class: 'mono' }, kind.extra(a) || '')));
    replace(listBox, table({
      headers: ['Name', 'Details'],
      rows,
      test: 'artifact-table',
      empty: items.length ? 'No name matches the search.' : `No ${kind.label.toLowerCase()} deployed.`,
    }));
  }

  async function showDetail(name, focus) {
    selected = name;
    setHash();
    for (const b of listBox.querySelectorAll('button[aria-pressed]')) {
      b.setAttribute('aria-pressed', String(b.textContent === name));
    }
    const mine = generation;
    replace(detailBox, h('p', { class: 'muted' }, `Loading ${name}…`));
    try {
      const d = await call(`/management/${kind.key}${query({ [kind.detail]: name })}`);
      if (mine !== generation) return;
      drawDetail(name, d || {});
      announce(`${name} details shown`);
      if (focus) detailBox.querySelector('h2').focus();
    } catch (err) {
      if (mine !== generation) return;
      replace(detailBox, h('p', { class: 'error' }, `${name}: ${message(err)}`));
    }
  }

  function drawDetail(name, d) {
    const facts = [];
    for (const [k, v] of Object.entries(d)) {
      if (k === 'configuration' || k === 'name') continue;
      const scalars = Array.isArray(v) && v.every((x) => typeof x !== 'object');
      const text = scalars ? v.join(', ')
        : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
      facts.push(h('dt', {}, k), h('dd', { class: typeof v === 'object' && !scalars ? 'mono' : null }, text));
    }
    replace(detailBox,
      h('div', { class: 'card' },
        h('h2', { tabindex: '-1', 'data-test': 'detail-name' }, name),
        h('dl', { class: 'facts' }, facts),
        d.configuration ? h('h3', {}, 'Configuration') : null,
        d.configuration ? h('pre', { class: 'xml', 'data-test': 'detail-configuration', tabindex: '0', 'aria-label': `${name} configuration` },
          h('code', {}, String(d.configuration).trim())) : null));
  }

  loadFailures(failedBox);
  select(kind, false);
  return () => { generation += 1; };
}

async function loadFailures(box) {
  try {
    const s = await call('/console/api/summary');
    const failed = (s && s.failed) || [];
    replace(box, failed.length ? [h('h2', {}, `Failed to deploy (${failed.length})`), failures(failed)] : []);
  } catch {
    replace(box);
  }
}
