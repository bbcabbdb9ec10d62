// The console's entry point: the login form, the shell (top bar, navigation) and the hash router
// that renders one view at a time into <main>. A view module exports `title` and
// `render(main, params)`, which may return a function that stops its timers when the view is left.

import * as api from './api.js';
import { announce, message } from './dom.js';
import * as overview from './views/overview.js';
import * as artifacts from './views/artifacts.js';
import * as endpoints from './views/endpoints.js';
import * as proxies from './views/proxies.js';
import * as capps from './views/capps.js';
import * as logs from './views/logs.js';
import * as traffic from './views/traffic.js';
import * as fleet from './views/fleet.js';

const VIEWS = { overview, artifacts, endpoints, proxies, capps, logs, traffic, fleet };
const DEFAULT_VIEW = 'overview';

const $ = (id) => document.getElementById(id);

// Counts Content-Security-Policy violations on the root element (the browser tests read it; the
// console must run under its strict policy with nothing blocked).
document.documentElement.dataset.cspViolations = '0';
document.addEventListener('securitypolicyviolation', (event) => {
  const root = document.documentElement;
  root.dataset.cspViolations = String(Number(root.dataset.cspViolations) + 1);
  root.dataset.cspLast = `${event.violatedDirective} ${event.blockedURI}`;
});

let stopView = null;
let renderCount = 0;

function showLogin(note) {
  leaveView();
  $('shell').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = note || '';
  document.title = 'Sign in · Conflux console';
  $('login-user').focus();
}

function showShell() {
  $('login').hidden = true;
  $('shell').hidden = false;
  $('user-name').textContent = api.user();
  loadInstanceName();
  route();
}

async function loadInstanceName() {
  try {
    const s = await api.call('/console/api/summary');
    $('instance-name').textContent = `${s.name} · offset ${s.offset} · ${s.version}`;
  } catch {
    $('instance-name').textContent = '';
  }
}

function leaveView() {
  if (stopView) {
    try { stopView(); } catch { /* a view's clean-up must not block navigation */ }
  }
  stopView = null;
}

/** Renders the view named by the hash (`#/name/param...`). */
function route() {
  if (!api.token()) {
    showLogin();
    return;
  }
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const name = VIEWS[parts[0]] ? parts[0] : DEFAULT_VIEW;
  const view = VIEWS[name];
  leaveView();
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.view === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const main = $('view');
  main.replaceChildren();
  main.dataset.view = name;
  document.title = `${view.title} · Conflux console`;
  const thisRender = ++renderCount;
  try {
    const stop = view.render(main, parts.slice(1));
    if (typeof stop === 'function') {
      if (thisRender === renderCount) stopView = stop;
      else stop();
    }
  } catch (err) {
    main.textContent = `This view failed: ${message(err)}`;
  }
  // Move focus to the new content only when the user navigated (not on the first load).
  if (route.navigated) main.focus({ preventScroll: true });
  route.navigated = true;
}
route.navigated = false;

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = $('login-submit');
  const name = $('login-user').value.trim();
  const password = $('login-password').value;
  if (!name || !password) {
    $('login-error').textContent = 'Enter a user name and a password.';
    return;
  }
  button.disabled = true;
  $('login-error').textContent = '';
  try {
    await api.login(name, password);
    $('login-password').value = '';
    announce(`Signed in as ${name}`);
    route.navigated = false;
    showShell();
  } catch (err) {
    $('login-error').textContent = message(err);
    $('login-password').select();
  } finally {
    button.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  await api.logout();
  announce('Signed out');
  showLogin('Signed out.');
});

window.addEventListener('conflux:signed-out', (event) => showLogin(event.detail));
window.addEventListener('hashchange', () => {
  if (api.token() && location.hash.startsWith('#/')) route();
});
// The skip link moves focus to the view without touching the route in the hash.
document.querySelector('.skip').addEventListener('click', (event) => {
  event.preventDefault();
  $('view').focus();
});

if (api.token()) showShell();
else showLogin();
