// Carbon applications: the deployed .car files with their version and artifacts, and the faulty
// ones with the reason (GET /management/applications, MI's CarbonAppResource).

import { call } from '../api.js';
import { h, replace, table, message } from '../dom.js';

export const title = 'Carbon apps';

export function render(main) {
  const status = h('p', { class: 'error', role: 'status', 'data-test': 'capps-error' });
  const box = h('div');
  replace(main, h('h1', {}, 'Carbon applications'), status, box);
  let live = true;

  call('/management/applications').then((a) => {
    if (!live) return;
    const artifacts = (app) => (app.artifacts || []).map((x) => `${x.name} (${x.type})`).join(', ');
    replace(box,
      h('h2', {}, `Deployed (${a.activeCount || 0})`),
      table({
        headers: ['Name', 'Version', 'Artifacts'],
        rows: (a.activeList || []).map((app) => h('tr', { 'data-test': 'capp-row', 'data-name': app.name },
          h('th', { scope: 'row' }, app.name), h('td', {}, app.version || '–'), h('td', {}, artifacts(app)))),
        test: 'capps-table',
        empty: 'No carbon applications deployed (repository/deployment/server/carbonapps/).',
      }),
      (a.faultyList || []).length ? [
        h('h2', {}, `Faulty (${a.faultyCount})`),
        table({
          headers: ['Name', 'Version', 'Error'],
          rows: a.faultyList.map((app) => h('tr', { 'data-test': 'capp-faulty-row', 'data-name': app.name },
            h('th', { scope: 'row' }, app.name), h('td', {}, app.version || '–'),
            h('td', { class: 'mono' }, app.error || ''))),
          test: 'capps-faulty-table',
        }),
      ] : null);
  }).catch((err) => {
    if (live) status.textContent = message(err);
  });
  return () => { live = false; };
}
