// Logs: the logger levels, changed at run time (GET and PATCH /management/logging, MI's
// LoggingResource: {"loggerName", "loggingLevel"}), and a live tail of wso2carbon.log
// (/console/api/logs?after=<byte offset>, polled every 2 s; administrators only).

import { call, query } from '../api.js';
import { h, replace, table, message, announce, poll } from '../dom.js';

export const title = 'Logs';

/** MI's (log4j2) level names. */
const LEVELS = ['OFF', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const TAIL_MS = 2000;
/** Lines kept on the page; older ones are dropped. */
const MAX_LINES = 2000;

export function render(main) {
  const levelsStatus = h('p', { class: 'muted', role: 'status', 'data-test': 'logging-status' });
  const levelsBox = h('div');
  const tail = h('pre', {
    class: 'log', role: 'log', 'aria-live': 'off', tabindex: '0',
    'aria-label': 'wso2carbon.log, newest lines last', 'data-test': 'log-tail',
  });
  const tailStatus = h('p', { class: 'muted', role: 'status', 'data-test': 'log-tail-status' });
  const pause = h('button', { type: 'button', 'aria-pressed': 'false', 'data-test': 'log-pause' }, 'Pause');
  replace(main,
    h('h1', {}, 'Logs'),
    h('section', { 'aria-labelledby': 'logs-levels' },
      h('h2', { id: 'logs-levels' }, 'Log levels'),
      levelsStatus, levelsBox, addForm()),
    h('section', { 'aria-labelledby': 'logs-tail' },
      h('h2', { id: 'logs-tail' }, 'Live tail'),
      h('div', { class: 'toolbar' }, pause, tailStatus),
      tail));

  let live = true;
  let paused = false;
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
    announce(paused ? 'Live tail paused' : 'Live tail resumed');
  });

  async function loadLevels() {
    try {
      const answer = await call('/management/logging');
      if (!live) return;
      drawLevels((answer && answer.list) || []);
    } catch (err) {
      if (live) levelsStatus.textContent = message(err);
    }
  }

  function drawLevels(loggers) {
    const rows = loggers.map((l) => {
      const id = `level-${l.loggerName}`;
      const select = h('select', { id, 'data-test': id },
        LEVELS.map((v) => h('option', { value: v, selected: v === l.level }, v)));
      const apply = h('button', {
        type: 'button', disabled: true, 'data-test': `level-apply-${l.loggerName}`,
        'aria-label': `Apply the level to ${l.loggerName}`,
      }, 'Apply');
      select.addEventListener('change', () => { apply.disabled = select.value === l.level; });
      apply.addEventListener('click', () => setLevel(l, select.value, apply));
      return h('tr', { 'data-test': 'logger-row', 'data-name': l.loggerName },
        h('th', { scope: 'row' }, h('label', { for: id }, l.loggerName)),
        h('td', { class: 'mono' }, l.componentName || '(root)'),
        h('td', { 'data-test': `level-current-${l.loggerName}` }, l.level),
        h('td', {}, select, ' ', apply));
    });
    replace(levelsBox, table({
      caption: 'Loggers of conf/log4j2.properties; a change applies at once and lasts until restart.',
      headers: ['Logger', 'Component', 'Level', 'New level'],
      rows,
      test: 'logging-table',
      empty: 'No loggers.',
    }));
  }

  /** MI's "add logger": a new logger name for a category (PATCH with loggerClass). */
  function addForm() {
    const name = h('input', { id: 'new-logger-name', required: true, autocomplete: 'off', 'data-test': 'new-logger-name' });
    const category = h('input', {
      id: 'new-logger-class', required: true, autocomplete: 'off', class: 'mono',
      placeholder: 'conflux::audit', 'data-test': 'new-logger-class',
    });
    const level = h('select', { id: 'new-logger-level', 'data-test': 'new-logger-level' },
      LEVELS.map((v) => h('option', { value: v, selected: v === 'INFO' }, v)));
    const form = h('form', { class: 'toolbar add-logger', 'aria-label': 'Add a logger', 'data-test': 'add-logger' },
      h('label', { for: 'new-logger-name' }, 'New logger'), name,
      h('label', { for: 'new-logger-class' }, 'Category'), category,
      h('label', { for: 'new-logger-level' }, 'Level'), level,
      h('button', { type: 'submit' }, 'Add logger'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!name.value.trim() || !category.value.trim()) {
        levelsStatus.textContent = 'A new logger needs a name and a category.';
        return;
      }
      try {
        const answer = await call('/management/logging', {
          method: 'PATCH',
          body: { loggerName: name.value.trim(), loggerClass: category.value.trim(), loggingLevel: level.value },
        });
        levelsStatus.textContent = (answer && answer.message) || `${name.value} added`;
        name.value = '';
        category.value = '';
      } catch (err) {
        levelsStatus.textContent = `${name.value}: ${message(err)}`;
      }
      announce(levelsStatus.textContent);
      await loadLevels();
    });
    return form;
  }

  async function setLevel(logger, level, button) {
    button.disabled = true;
    try {
      const answer = await call('/management/logging', {
        method: 'PATCH',
        body: { loggerName: logger.loggerName, loggingLevel: level },
      });
      levelsStatus.textContent = (answer && answer.message) || `${logger.loggerName} set to ${level}`;
    } catch (err) {
      levelsStatus.textContent = `${logger.loggerName}: ${message(err)}`;
    }
    announce(levelsStatus.textContent);
    await loadLevels();
    const again = document.getElementById(`level-${logger.loggerName}`);
    if (again) again.focus();
  }

  let offset = null;
  let stopTail = null;

  function note(text) {
    tail.appendChild(h('span', { class: 'log-note' }, `--- ${text} ---\n`));
  }

  async function readTail() {
    if (paused) return;
    let answer;
    try {
      answer = await call(`/console/api/logs${query({ after: offset })}`);
    } catch (err) {
      tailStatus.textContent = message(err);
      if (err.status === 403 && stopTail) stopTail();
      return;
    }
    if (!live || !answer) return;
    const atBottom = tail.scrollTop + tail.clientHeight >= tail.scrollHeight - 4;
    if (offset !== null) {
      if (answer.offset < offset) note('the log file was rotated: reading it from its start');
      else if (answer.truncated) note('older lines skipped: more was written than one read returns');
    }
    offset = answer.offset;
    for (const line of answer.lines || []) {
      const level = /^\[[^\]]*\]\s+(WARN|ERROR|FATAL)\b/.exec(line);
      tail.appendChild(h('span', { class: level ? `log-${level[1].toLowerCase()}` : null }, `${line}\n`));
    }
    while (tail.childNodes.length > MAX_LINES) tail.removeChild(tail.firstChild);
    if (atBottom) tail.scrollTop = tail.scrollHeight;
    tailStatus.textContent = `Following wso2carbon.log (byte ${offset}); updated ${new Date().toLocaleTimeString()}.`;
    tail.dataset.offset = String(offset);
  }

  loadLevels();
  stopTail = poll(readTail, TAIL_MS);
  return () => {
    live = false;
    stopTail();
  };
}
