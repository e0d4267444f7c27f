// The header and the totals cards: the balancer's own facts and the fleet's sums.

import { sparkline } from './chart.js';
import { byId, setText } from './dom.js';
import { count, duration, percent, rate, stateLabel } from './format.js';
import { HISTORY_POINTS } from './history.js';

/** @typedef {import('../balancer/stats/status-document').StatusDocument} StatusDocument */
/** @typedef {import('./history.js').History} History */

export function createSummary() {
  const field = (/** @type {string} */ id) => byId(id, HTMLElement);
  const chart = byId('total-rps-chart', SVGSVGElement);
  const panic = field('panic');
  return {
    /**
     * @param {StatusDocument} doc
     * @param {History} history
     */
    update(doc, history) {
      const { balancer, totals } = doc;
      setText(field('version'), `v${balancer.version}`);
      setText(field('strategy'), balancer.strategy);
      setText(field('uptime'), duration(balancer.uptimeS));
      setText(field('ready'), balancer.ready ? 'accepting' : 'draining: /readyz answers 503');
      panic.hidden = !balancer.panic;
      setText(field('total-rps'), rate(totals.requestsPerSecond.last10s));
      setText(field('total-rps-1m'), rate(totals.requestsPerSecond.last1m));
      setText(field('total-inflight'), count(totals.inflight));
      setText(field('total-error-rate'), percent(totals.errorRate1m));
      setText(field('total-errors'), count(totals.errors));
      setText(field('total-requests'), count(totals.requests));
      const { workers } = balancer;
      setText(field('total-workers'), `${workers.byState.up} up of ${workers.registered}`);
      const states = Object.entries(workers.byState)
        .filter(([, n]) => n > 0)
        .map(([state, n]) => `${n} ${stateLabel(state)}`);
      setText(field('total-states'), `${workers.inRotation} in rotation${states.length > 0 ? `; ${states.join(', ')}` : ''}`);
      sparkline(chart, history.totalRps, HISTORY_POINTS);
    },
  };
}
