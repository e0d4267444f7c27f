import type { Dispatcher } from 'undici';
import type { WorkerRecord } from '../registry';
import type { UpstreamRequest } from './upstream-request';

/** Hands the request to the worker's keep-alive pool; the handler receives the response as it streams. */
export function forward(worker: WorkerRecord, request: UpstreamRequest, handler: Dispatcher.DispatchHandler): void {
  worker.pool.dispatch(
    { origin: worker.url, method: request.method as Dispatcher.HttpMethod, path: request.path, headers: request.headers, body: request.body },
    handler,
  );
}
