// The dashboard's entry point: reads /status/stream (server-sent events, one document a second) and
// redraws the header, the totals and the rows from each. EventSource reconnects by itself after the
// `retry:` delay the balancer sends; the pill says whether the page is live.

import { setupToken } from './controls.js';
import { byId } from './dom.js';
import { History } from './history.js';
import { createWorkerTable } from './rows.js';
import { createSummary } from './summary.js';

/** @typedef {import('../balancer/stats/status-document').StatusDocument} StatusDocument */

const history = new History();
const summary = createSummary();
const onlyNotUp = byId('only-not-up', HTMLInputElement);
const connection = byId('connection', HTMLElement);
/** @type {StatusDocument | undefined} */
let last;

const redraw = () => {
  if (last !== undefined) table.update(last.workers, history, onlyNotUp.checked);
};
const { lock } = setupToken(redraw);
const table = createWorkerTable(byId('worker-rows', HTMLTableSectionElement), byId('empty', HTMLElement), lock);
onlyNotUp.addEventListener('change', redraw);

/** @param {string} text @param {'live' | 'waiting' | 'lost'} kind */
function showConnection(text, kind) {
  connection.textContent = text;
  connection.className = `pill ${kind}`;
}

const source = new EventSource('/status/stream');
source.addEventListener('open', () => showConnection('live', 'live'));
source.addEventListener('error', () => showConnection(source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting', 'lost'));
source.addEventListener('status', (event) => {
  last = /** @type {StatusDocument} */ (JSON.parse(/** @type {MessageEvent<string>} */ (event).data));
  history.record(last);
  summary.update(last, history);
  redraw();
  showConnection('live', 'live');
});
