import type { PickContext, Strategy } from '../../strategies';
import type { WorkerRecord } from '../registry';

/** Asks the strategy for a worker; undefined means none is eligible (the caller answers 503). */
export function chooseWorker(strategy: Strategy<WorkerRecord>, ctx: PickContext, avoid?: ReadonlySet<WorkerRecord>): WorkerRecord | undefined {
  return strategy.pick(ctx, avoid);
}
