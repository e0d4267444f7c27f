// The operator's controls. The admin token lives in one variable of this module: never in a cookie,
// localStorage or the URL, so no other site can act through the browser, and a reload forgets it. It
// travels as Authorization: Bearer (RFC 6750 section 2.1) to the admin routes of this same origin only.

import { byId, el } from './dom.js';

/** @type {string | undefined} */
let token;

/** @typedef {{ method: 'POST' | 'PUT'; path: string; body?: unknown; label: string }} Action */

export function isUnlocked() {
  return token !== undefined;
}

/**
 * Wires the token field; `onChange` runs when controls appear or go (to redraw the rows).
 * @param {() => void} onChange
 */
export function setupToken(onChange) {
  const form = byId('token-form', HTMLFormElement);
  const input = byId('token', HTMLInputElement);
  const forget = byId('forget', HTMLButtonElement);
  const set = (/** @type {string | undefined} */ value) => {
    token = value;
    document.body.classList.toggle('locked', token === undefined);
    forget.hidden = token === undefined;
    onChange();
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value.trim();
    input.value = '';
    if (value !== '') set(value);
  });
  forget.addEventListener('click', () => {
    set(undefined);
    report('token forgotten', false);
  });
  return { lock: () => set(undefined) };
}

/**
 * @param {string} text
 * @param {boolean} failed
 */
function report(text, failed) {
  const line = byId('action-result', HTMLElement);
  line.textContent = text;
  line.classList.toggle('failed', failed);
}

/**
 * Sends one admin action and reports its answer in the page. A refused token (401) locks the controls
 * again: the operator pastes it anew.
 * @param {Action} action
 * @param {() => void} lock
 */
export async function send(action, lock) {
  if (token === undefined) return;
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${token}` };
  if (action.body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(action.path, {
      method: action.method,
      headers,
      body: action.body === undefined ? undefined : JSON.stringify(action.body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const answer = /** @type {{ message?: unknown }} */ (await res.json().catch(() => ({})));
    const message = typeof answer.message === 'string' ? `: ${answer.message}` : '';
    report(`${action.label}: ${res.status}${message}`, !res.ok);
    if (res.status === 401) lock();
  } catch (err) {
    report(`${action.label}: ${err instanceof Error ? err.message : String(err)}`, true);
  }
}

/**
 * The buttons of one worker's row: drain, ready, and a weight field with its button. The routes take
 * the worker's URL, percent-encoded as one path segment (encodeURIComponent).
 * @param {import('../balancer/stats/status-document').WorkerStatus} worker
 * @param {() => void} lock
 */
export function workerControls(worker, lock) {
  const base = `/admin/workers/${encodeURIComponent(worker.url)}`;
  const box = el('div', 'actions');
  const drain = el('button', 'drain', 'Drain');
  drain.addEventListener('click', () => void send({ method: 'POST', path: `${base}/drain`, label: `drain ${worker.name}` }, lock));
  const ready = el('button', 'ready', 'Ready');
  ready.addEventListener('click', () => void send({ method: 'POST', path: `${base}/ready`, label: `ready ${worker.name}` }, lock));
  const weight = el('input', 'weight');
  weight.type = 'number';
  weight.min = '1';
  weight.max = '1000';
  weight.step = '1';
  weight.value = String(worker.weight.configured);
  weight.title = 'empty: back to the registered weight';
  weight.setAttribute('aria-label', `weight of ${worker.name}`);
  const setWeight = el('button', 'set-weight', 'Set weight');
  // An empty field resets the weight to the one the worker registers ({"weight": null}).
  setWeight.addEventListener('click', () => {
    const value = weight.value.trim() === '' ? null : Number(weight.value);
    const label = value === null ? `reset the weight of ${worker.name}` : `weight of ${worker.name} = ${value}`;
    void send({ method: 'PUT', path: `${base}/weight`, body: { weight: value }, label }, lock);
  });
  box.append(drain, ready, weight, setWeight);
  return box;
}
