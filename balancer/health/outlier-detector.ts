/**
 * Passive health (outlier detection, as Envoy's consecutive_5xx): a worker whose last N exchanges all
 * failed (connection error or 5xx) is ejected for a while, longer each time it is ejected again.
 * Pure bookkeeping on the fields it is given; the registry acts on its verdicts.
 */
export interface OutlierState {
  consecutiveFailures: number;
  ejections: number;
}

export interface OutlierOptions {
  consecutiveFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
}

/** Called by the registry after every proxied exchange; returns how long to eject for, or 0. */
export function recordOutcome(state: OutlierState, failed: boolean, opts: OutlierOptions): number {
  if (!failed) {
    state.consecutiveFailures = 0;
    return 0;
  }
  if (++state.consecutiveFailures < opts.consecutiveFailures) return 0;
  state.consecutiveFailures = 0;
  state.ejections++;
  return Math.min(opts.maxEjectionMs, opts.baseEjectionMs * state.ejections);
}
