// The worker table: one row per worker, made when it first appears, updated in place every event,
// removed when it leaves; the state's colour comes from the row's class (state-<name>), the words from
// the status JSON's `reason`.

import { newChart, sparkline } from './chart.js';
import { isUnlocked, workerControls } from './controls.js';
import { el, setText } from './dom.js';
import { count, millis, percent, rate, stateLabel } from './format.js';
import { HISTORY_POINTS } from './history.js';

/** @typedef {import('../balancer/stats/status-document').WorkerStatus} WorkerStatus */
/** @typedef {import('./history.js').History} History */

class WorkerRow {
  /** @param {string} url */
  constructor(url) {
    this.tr = el('tr');
    this.tr.dataset.url = url;
    const cell = (/** @type {string} */ field, className = '') => {
      const td = el('td', className);
      td.dataset.field = field;
      this.tr.append(td);
      return td;
    };
    const worker = cell('worker');
    this.name = el('strong');
    this.url = el('span', 'url');
    worker.append(this.name, this.url);
    this.badge = el('span', 'badge');
    cell('state').append(this.badge);
    this.reason = cell('reason', 'why');
    this.weight = cell('weight', 'num');
    this.rps = cell('rps', 'num');
    this.rpsChart = newChart('chart');
    cell('rps-chart').append(this.rpsChart);
    this.latency = cell('latency', 'num');
    this.p99Chart = newChart('chart p99');
    cell('p99-chart').append(this.p99Chart);
    const share = el('div', 'share');
    const bar = el('div', 'bar');
    this.shareFill = el('span');
    bar.append(this.shareFill);
    this.shareText = el('span');
    share.append(bar, this.shareText);
    cell('share').append(share);
    this.errors = cell('errors', 'num');
    this.inflight = cell('inflight', 'num');
    this.connections = cell('connections', 'num');
    this.actions = cell('actions', 'controls');
  }

  /**
   * @param {WorkerStatus} w
   * @param {{ rps: number[]; p99: number[] }} series
   * @param {() => void} lock
   */
  update(w, series, lock) {
    this.tr.className = `state-${w.state}`;
    this.tr.dataset.state = w.state;
    setText(this.name, w.name);
    setText(this.url, w.url);
    setText(this.badge, stateLabel(w.state));
    setText(this.reason, w.reason);
    const { configured, registered, effective } = w.weight;
    setText(this.weight, effective === configured ? String(configured) : `${configured} \u2192 ${effective}`);
    this.weight.title = configured === registered ? 'as registered' : `set by an operator; registered ${registered}`;
    this.weight.classList.toggle('overridden', configured !== registered);
    setText(this.rps, `${rate(w.requestsPerSecond.last10s)} \u00b7 ${rate(w.requestsPerSecond.last1m)}`);
    sparkline(this.rpsChart, series.rps, HISTORY_POINTS);
    setText(this.latency, `${millis(w.headerTimeMs.p50)} \u00b7 ${millis(w.headerTimeMs.p99)}`);
    sparkline(this.p99Chart, series.p99, HISTORY_POINTS);
    this.shareFill.style.width = `${(w.share1m * 100).toFixed(1)}%`;
    setText(this.shareText, percent(w.share1m));
    setText(this.errors, `${percent(w.errorRate1m)} \u00b7 ${count(w.totals.errors)}`);
    this.errors.classList.toggle('errors-high', w.errorRate1m >= 0.05);
    const reasons = Object.entries(w.totals.errorsByReason).map(([reason, n]) => `${reason}: ${n}`);
    this.errors.title = [`5xx responses: ${w.totals.responses['5xx']}`, ...reasons].join('\n');
    setText(this.inflight, count(w.inflight));
    const { open, idle, queued } = w.connections;
    setText(this.connections, `${open} open, ${idle} idle${queued > 0 ? `, ${queued} queued` : ''}`);
    if (isUnlocked() && this.actions.childElementCount === 0) this.actions.append(workerControls(w, lock));
    if (!isUnlocked() && this.actions.childElementCount > 0) this.actions.replaceChildren();
  }
}

/** By name as a person sorts them (api-2 before api-10), then by URL. */
const collator = new Intl.Collator('en', { numeric: true });
/** @param {WorkerStatus} x @param {WorkerStatus} y */
const byName = (x, y) => collator.compare(x.name, y.name) || collator.compare(x.url, y.url);

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {HTMLElement} empty the line shown when no row is
 * @param {() => void} lock
 */
export function createWorkerTable(tbody, empty, lock) {
  /** @type {Map<string, WorkerRow>} */
  const rows = new Map();
  return {
    /**
     * @param {readonly WorkerStatus[]} workers
     * @param {History} history
     * @param {boolean} onlyNotUp
     */
    update(workers, history, onlyNotUp) {
      const listed = new Set();
      let shown = 0;
      for (const w of [...workers].sort(byName)) {
        listed.add(w.url);
        let row = rows.get(w.url);
        if (row === undefined) {
          row = new WorkerRow(w.url);
          rows.set(w.url, row);
        }
        row.update(w, history.of(w.url), lock);
        row.tr.hidden = onlyNotUp && w.state === 'up';
        if (!row.tr.hidden) shown++;
        // In name order; append() moves a row only when it is not already last.
        if (tbody.lastElementChild !== row.tr) tbody.append(row.tr);
      }
      for (const [url, row] of rows) {
        if (listed.has(url)) continue;
        row.tr.remove();
        rows.delete(url);
      }
      empty.hidden = shown > 0;
      empty.textContent = workers.length === 0 ? 'No worker registered.' : 'Every worker is up.';
    },
  };
}
