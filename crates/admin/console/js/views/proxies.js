// Proxy services: each proxy's state (the detail's isRunning) with start and stop
// (POST /management/proxy-services {"name", "status": "active"|"inactive"}, MI's
// ProxyServiceResource). A stopped proxy answers no requests until it is started again.

import { call, query } from '../api.js';
import { h, replace, badge, table, message, announce, poll } from '../dom.js';

export const title = 'Proxy services';

const REFRESH_MS = 5000;

export function render(main) {
  const status = h('p', { class: 'muted', role: 'status', 'data-test': 'proxies-status' });
  const box = h('div');
  replace(main, h('h1', {}, 'Proxy services'), status, box);
  let busy = false;

  /** Redraws the table; focus stays on the control with data-test `keep` (or the focused one). */
  async function load(keep) {
    if (busy) return;
    let list;
    try {
      list = ((await call('/management/proxy-services')) || {}).list || [];
    } catch (err) {
      status.textContent = message(err);
      return;
    }
    // The list has no state: one detail call per proxy (few on one instance).
    const details = await Promise.all(list.map((p) =>
      call(`/management/proxy-services${query({ proxyServiceName: p.name })}`).catch(() => null)));
    if (busy) return;
    const focused = typeof keep === 'string' ? keep : document.activeElement && document.activeElement.dataset.test;
    const rows = list.map((p, i) => {
      const running = details[i] ? details[i].isRunning : null;
      return h('tr', { 'data-test': 'proxy-row', 'data-name': p.name },
        h('th', { scope: 'row' }, p.name),
        h('td', { class: 'mono' }, ((details[i] && details[i].eprs) || []).map((epr) => h('div', {}, epr))),
        h('td', {}, running === null ? badge('unknown', 'plain')
          : running ? badge('running', 'ok', `proxy-state-${p.name}`)
            : badge('stopped', 'bad', `proxy-state-${p.name}`)),
        h('td', {}, h('button', {
          type: 'button',
          class: running ? 'danger' : 'primary',
          'data-test': `proxy-toggle-${p.name}`,
          'aria-label': `${running ? 'Stop' : 'Start'} proxy service ${p.name}`,
          onclick: (event) => toggle(event.currentTarget, p.name, !running),
        }, running ? 'Stop' : 'Start')));
    });
    replace(box, table({
      caption: 'Proxy services deployed on this instance.',
      headers: ['Name', 'Endpoint references', 'State', 'Action'],
      rows,
      test: 'proxies-table',
      empty: 'No proxy services deployed.',
    }));
    if (focused) {
      const again = box.querySelector(`[data-test="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  async function toggle(button, name, start) {
    busy = true;
    button.disabled = true;
    try {
      const answer = await call('/management/proxy-services', {
        method: 'POST',
        body: { name, status: start ? 'active' : 'inactive' },
      });
      status.textContent = (answer && answer.Message) || `${name} ${start ? 'started' : 'stopped'}`;
    } catch (err) {
      status.textContent = `${name}: ${message(err)}`;
    } finally {
      announce(status.textContent);
      busy = false;
      await load(button.dataset.test);
    }
  }

  return poll(load, REFRESH_MS);
}
