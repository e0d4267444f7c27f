import type { WorkerRecord } from '../registry';

/**
 * A worker's load now, as /metrics and /status show it: in a process that proxies, its record and pool;
 * in the primary of PROCESSES > 1, the sum over the serving processes at the last gather. Read at
 * scrape time only.
 */
export function inflightOf(w: WorkerRecord): number {
  return w.stats.gathered?.inflight ?? w.inflight;
}

export function connectionsOf(w: WorkerRecord): { open: number; idle: number; queued: number } {
  const g = w.stats.gathered;
  return g === undefined ? w.pool.stats : { open: g.open, idle: g.idle, queued: g.queued };
}
