import type { WorkerRecord } from '../registry';
import type { ExchangeHandler } from '../upstream/connection';
import type { UpstreamRequest } from './upstream-request';

/** Hands the request to the worker's keep-alive pool; the handler receives the response as it streams. */
export function forward(worker: WorkerRecord, request: UpstreamRequest, handler: ExchangeHandler): void {
  worker.pool.dispatch(request, handler);
}
