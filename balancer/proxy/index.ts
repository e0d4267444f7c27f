import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Strategy } from '../../strategies';
import { noWorker } from '../errors';
import type { Logger } from '../logger';
import type { WorkerRecord } from '../registry';
import { chooseWorker } from './choose-worker';
import { clientAddress, type TrustPolicy } from './forwarding';
import { forward } from './forward';
import { failExchange, sendProxyError } from './handle-failure';
import { ResponseRelay } from './relay-response';
import { buildUpstreamRequest } from './upstream-request';

export interface ProxyDeps {
  strategy: Strategy<WorkerRecord>;
  trust: TrustPolicy;
  log: Logger;
  now?: () => number;
}

export type ProxyHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The data plane: choose a worker, build the upstream request, forward it, relay the response, and
 * handle a failure. Each step is its own module; this function only wires them and keeps the
 * worker's in-flight count, which load-aware strategies read.
 */
export function createProxy({ strategy, trust, log, now = Date.now }: ProxyDeps): ProxyHandler {
  return function proxy(req, res) {
    const clientIp = clientAddress(req.socket.remoteAddress);
    const worker = chooseWorker(strategy, { req, clientIp });
    if (!worker) {
      sendProxyError(res, noWorker);
      return;
    }
    const upstream = buildUpstreamRequest(req, clientIp, trust);
    const startedAt = now();
    let latencyMs = 0;
    worker.inflight++;
    strategy.onRequestStart?.(worker);
    const relay = new ResponseRelay(res, {
      onResponseStart() {
        latencyMs = now() - startedAt;
      },
      onEnd(err, responseStarted) {
        worker.inflight--;
        if (!responseStarted) latencyMs = now() - startedAt;
        strategy.onRequestEnd?.(worker, { ok: err === undefined, latencyMs });
        if (err === undefined || (err as { code?: string }).code === 'CLIENT_GONE') return;
        const error = failExchange(res, err, responseStarted);
        log.warn({ worker: worker.url, method: req.method, path: req.url, status: error.status, code: (err as { code?: string }).code ?? err.message }, 'upstream request failed');
      },
    });
    forward(worker, upstream, relay);
  };
}

/**
 * The same data plane as an Express/Connect middleware, for applications that embed the balancer.
 * It never calls next(): every request it sees is proxied.
 */
export function proxyMiddleware(deps: ProxyDeps): (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void {
  const proxy = createProxy(deps);
  return (req, res) => proxy(req, res);
}
