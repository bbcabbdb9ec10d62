// DOM and formatting helpers shared by the views. Every text goes in through textContent (never
// innerHTML), so names and XML from the server can never become markup.

/** Creates an element: `h('td', {class: 'num', 'data-test': 'x'}, 'text', child)`.
 *  `on<event>` properties with a function add listeners; `value`/`checked`/`selected` are set as
 *  properties; `false`/`null` attributes are left out; arrays of children are flattened. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  const later = [];
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      later.push([key, value]);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  for (const [key, value] of later) el[key] = value;
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child instanceof Node) el.appendChild(child);
    else if (child !== null && child !== undefined) el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Says `text` to screen readers through the page's polite live region. */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A new text node after a tick, so the same message twice is announced twice.
  setTimeout(() => { region.textContent = text; }, 30);
}

/** A status badge: `kind` is ok, bad, warn or plain. */
export function badge(text, kind, test) {
  return h('span', { class: `badge ${kind}`, 'data-test': test }, text);
}

/** A table with a caption, header cells and rows (arrays of cells or `<tr>`s). */
export function table({ caption, headers, rows, test, empty }) {
  const head = h('tr', {}, headers.map((c) => {
    const [text, cls] = Array.isArray(c) ? c : [c, null];
    return h('th', { scope: 'col', class: cls }, text);
  }));
  const body = rows.length
    ? rows.map((r) => (r instanceof Node ? r : h('tr', {}, r)))
    : [h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, empty || 'Nothing to show.'))];
  return h('div', { class: 'table-wrap' },
    h('table', { 'data-test': test },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, head),
      h('tbody', {}, body)));
}

/** `1 d 2 h`, `3 h 4 min`, `5 min 6 s`, `7 s`. */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const d = Math.floor(s / 86400);
  const hrs = Math.floor((s % 86400) / 3600);
  const min = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${hrs} h`;
  if (hrs) return `${hrs} h ${min} min`;
  if (min) return `${min} min ${s % 60} s`;
  return `${s} s`;
}

/** A number with at most `digits` decimals, `–` when absent. */
export function num(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '–';
  const n = Number(value);
  return Number.isInteger(n) ? n.toLocaleString('en') : n.toLocaleString('en', { maximumFractionDigits: digits });
}

/** The message of a failed call, for the page. */
export function message(err) {
  return err && err.message ? err.message : String(err);
}

/** Runs `fn` now and then `ms` after each run ends (never two at once); returns the stop function. */
export function poll(fn, ms) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    try {
      await fn();
    } catch {
      // `fn` shows its own errors; polling goes on.
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
