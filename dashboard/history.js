// The charts' memory: the last HISTORY_POINTS values of each series, kept in this page only (the
// balancer keeps no history for the page), one point per status event.

/** @typedef {import('../balancer/stats/status-document').StatusDocument} StatusDocument */

/** Five minutes at one event a second. */
export const HISTORY_POINTS = 300;

/** @param {number[]} series @param {number} value */
function push(series, value) {
  series.push(value);
  if (series.length > HISTORY_POINTS) series.shift();
}

export class History {
  constructor() {
    /** @type {number[]} */
    this.totalRps = [];
    /** @type {Map<string, { rps: number[]; p99: number[] }>} */
    this.workers = new Map();
  }

  /**
   * Adds one event's values; forgets the series of workers no longer listed.
   * @param {StatusDocument} doc
   */
  record(doc) {
    push(this.totalRps, doc.totals.requestsPerSecond.last10s);
    const listed = new Set();
    for (const w of doc.workers) {
      listed.add(w.url);
      let series = this.workers.get(w.url);
      if (series === undefined) {
        series = { rps: [], p99: [] };
        this.workers.set(w.url, series);
      }
      push(series.rps, w.requestsPerSecond.last10s);
      push(series.p99, w.headerTimeMs.p99 ?? 0);
    }
    for (const url of this.workers.keys()) if (!listed.has(url)) this.workers.delete(url);
  }

  /** @param {string} url */
  of(url) {
    return this.workers.get(url) ?? { rps: [], p99: [] };
  }
}
