import type { WorkerRecord } from './registry';

/** A worker's state as operators see it: one per worker at a time, in this order of precedence. */
export const WORKER_STATES = ['up', 'slow_starting', 'draining', 'ejected', 'unhealthy'] as const;
export type WorkerStateName = (typeof WORKER_STATES)[number];

/** Who took a worker out of rotation on purpose: itself (deregistration), an operator, or the heartbeat TTL. */
export type DrainedBy = 'worker' | 'admin' | 'ttl';

export interface Drain {
  /** ms epoch */
  readonly since: number;
  readonly by: DrainedBy;
}

/**
 * The one reading of a worker's fields as a state, for /metrics, /status and the dashboard alike.
 * Draining wins (someone decided), then the health checks' verdict, then a passive ejection (which
 * panic mode may override for routing; the state still says ejected), then slow start's ramp.
 * Called at scrape time, never per request.
 */
export function workerState(w: WorkerRecord, now: number, slowStartMs: number): WorkerStateName {
  if (w.drain !== undefined) return 'draining';
  if (!w.healthy) return 'unhealthy';
  if (w.ejectedUntil > now) return 'ejected';
  if (slowStartMs > 0 && w.inRotation && now - w.rotationSince < slowStartMs) return 'slow_starting';
  return 'up';
}

/**
 * The share of traffic a worker's weight buys now: its weight while in rotation, scaled over the slow
 * start window as chooseWorker() keeps its picks (age / window), 0 out of rotation or draining.
 * Called at scrape time, never per request.
 */
export function effectiveWeight(w: WorkerRecord, now: number, slowStartMs: number): number {
  if (!w.inRotation || w.drain !== undefined) return 0;
  const age = now - w.rotationSince;
  if (slowStartMs <= 0 || age >= slowStartMs) return w.weight;
  return (w.weight * Math.max(0, age)) / slowStartMs;
}
