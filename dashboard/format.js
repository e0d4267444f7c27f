// How numbers read on the dashboard; every function takes what /status gives (null for "no data").

/** @param {number} n */
export function rate(n) {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** @param {number | null} ms */
export function millis(ms) {
  if (ms === null) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** @param {number} share 0-1 */
export function percent(share) {
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)} %`;
}

/** @param {number} n */
export function count(n) {
  return n.toLocaleString('en-US');
}

/** @param {number} seconds */
export function duration(seconds) {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ${minutes % 60} min` : `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/**
 * As the states are named in the rows: the JSON's names with the underscore gone.
 * @param {string} state
 */
export function stateLabel(state) {
  return state.replace('_', ' ');
}
