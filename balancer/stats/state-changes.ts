import type { WorkerRecord } from '../registry';
import { workerState, type WorkerStateName } from '../worker-state';

/**
 * Brings a worker's stateChanges and stateSince (its WorkerStats) up to date with its fields at `now`,
 * and returns its state. Called by the registry after every change of eligibility (reconcile()) and by
 * /metrics at scrape time, never per request. The first reading, at registration, is where the worker
 * starts, not a change. Slow start ends with time, not with an event: when a reading finds it over, the
 * change is dated when the window closed (rotationSince + slowStartMs), not when it was noticed.
 */
export function noteState(w: WorkerRecord, now: number, slowStartMs: number): WorkerStateName {
  const stats = w.stats;
  const state = workerState(w, now, slowStartMs);
  const last = stats.lastState;
  if (state === last) return state;
  if (last === undefined) {
    stats.stateSince = w.registeredAt;
  } else if (last === 'slow_starting' && state !== 'up' && w.rotationSince + slowStartMs <= now) {
    // The ramp ended before whatever happened since: up first, then the new state.
    stats.stateChanges += 2;
    stats.stateSince = now;
  } else {
    stats.stateChanges++;
    stats.stateSince = last === 'slow_starting' && state === 'up' ? w.rotationSince + slowStartMs : now;
  }
  stats.lastState = state;
  return state;
}
