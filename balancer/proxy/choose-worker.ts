import type { PickContext, RequestOutcome, Strategy } from '../../strategies';
import type { WorkerRecord } from '../registry';

export interface SlowStart {
  /** Ramp-up window in ms; 0 disables slow start. */
  readonly windowMs: number;
  readonly now: () => number;
  readonly random: () => number;
}

/**
 * Asks the strategy for a worker; undefined means none is eligible (the caller answers 503).
 * Slow start, for every strategy alike: a worker that entered the rotation `age` ms ago keeps a pick
 * with probability age/window, otherwise the pick goes to another worker, so its share ramps up
 * over the window (linearly for random pickers, a little faster for rotations) instead of arriving
 * all at once to cold caches and JIT.
 */
export function chooseWorker(
  strategy: Strategy<WorkerRecord>,
  ctx: PickContext,
  avoid: ReadonlySet<WorkerRecord> | undefined,
  slowStart: SlowStart,
): WorkerRecord | undefined {
  const worker = strategy.pick(ctx, avoid);
  if (!worker || slowStart.windowMs === 0) return worker;
  const age = slowStart.now() - worker.rotationSince;
  if (age >= slowStart.windowMs || slowStart.random() * slowStart.windowMs < age) return worker;
  const elsewhere = new Set(avoid);
  elsewhere.add(worker);
  return strategy.pick(ctx, elsewhere) ?? worker;
}

/**
 * Counts a request (or an open WebSocket) against its worker, for both the proxy and the upgrade
 * handler: load-aware strategies read `inflight`, and hear of the start right after it changes.
 */
export function claimWorker(strategy: Strategy<WorkerRecord>, worker: WorkerRecord): void {
  worker.inflight++;
  strategy.onRequestStart?.(worker);
}

/** The other half of claimWorker, once per claim, with how the exchange went. */
export function releaseWorker(strategy: Strategy<WorkerRecord>, worker: WorkerRecord, outcome: RequestOutcome): void {
  worker.inflight--;
  strategy.onRequestEnd?.(worker, outcome);
}
