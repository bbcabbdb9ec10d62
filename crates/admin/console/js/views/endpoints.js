// Endpoints: each named endpoint's state with a button to deactivate or activate it
// (POST /management/endpoints {"name", "status": "active"|"inactive"}, MI's EndpointResource).
// An inactive endpoint refuses to send: the APIs that call it fail until it is activated again.

import { call } from '../api.js';
import { h, replace, badge, table, message, announce, poll } from '../dom.js';

export const title = 'Endpoints';

const REFRESH_MS = 5000;

export function render(main) {
  const status = h('p', { class: 'muted', role: 'status', 'data-test': 'endpoints-status' });
  const box = h('div');
  replace(main, h('h1', {}, 'Endpoints'), status, box);
  let busy = false;

  /** Redraws the table; focus stays on the control with data-test `keep` (or the focused one). */
  async function load(keep) {
    if (busy) return;
    const answer = await call('/management/endpoints').catch((err) => {
      status.textContent = message(err);
      return null;
    });
    if (!answer || busy) return;
    const focused = typeof keep === 'string' ? keep : document.activeElement && document.activeElement.dataset.test;
    const rows = (answer.list || []).map((e) => h('tr', { 'data-test': 'endpoint-row', 'data-name': e.name },
      h('th', { scope: 'row' }, e.name),
      h('td', {}, e.type),
      h('td', {}, e.isActive
        ? badge('active', 'ok', `endpoint-state-${e.name}`)
        : badge('inactive', 'bad', `endpoint-state-${e.name}`)),
      h('td', {}, h('button', {
        type: 'button',
        class: e.isActive ? 'danger' : 'primary',
        'data-test': `endpoint-toggle-${e.name}`,
        'aria-label': `${e.isActive ? 'Deactivate' : 'Activate'} endpoint ${e.name}`,
        onclick: (event) => toggle(event.currentTarget, e.name, !e.isActive),
      }, e.isActive ? 'Deactivate' : 'Activate'))));
    replace(box, table({
      caption: 'Named endpoints (and HTTP connections) deployed on this instance.',
      headers: ['Name', 'Type', 'State', 'Action'],
      rows,
      test: 'endpoints-table',
      empty: 'No named endpoints deployed.',
    }));
    if (focused) {
      const again = box.querySelector(`[data-test="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  async function toggle(button, name, activate) {
    busy = true;
    button.disabled = true;
    try {
      const answer = await call('/management/endpoints', {
        method: 'POST',
        body: { name, status: activate ? 'active' : 'inactive' },
      });
      const text = (answer && answer.Message) || `${name} ${activate ? 'activated' : 'deactivated'}`;
      status.textContent = text;
      announce(text);
    } catch (err) {
      status.textContent = `${name}: ${message(err)}`;
      announce(status.textContent);
    } finally {
      busy = false;
      await load(button.dataset.test);
    }
  }

  return poll(load, REFRESH_MS);
}
