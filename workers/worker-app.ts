import type { IncomingMessage, ServerResponse } from 'node:http';

export interface WorkerAppOptions {
  name: string;
  delayMs: number;
  /** Read by /healthz: false once the worker is shutting down, so health checks stop sending to it. */
  isReady: () => boolean;
}

/**
 * The seed's worker: GET / answers after `delayMs` with its name and how many requests it has served.
 * GET /healthz answers at once, for the balancer's health checks and Docker's HEALTHCHECK.
 * Plain node:http rather than Express: with WORKER_DELAY_MS=0 the benchmark measures the gateway
 * against this worker, and an Express router here would be the bottleneck being measured instead.
 */
export function createWorkerApp({ name, delayMs, isReady }: WorkerAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  let served = 0;
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const reply = (res: ServerResponse) => send(res, 200, 'text/plain; charset=utf-8', `Server: ${name}, Request count: ${++served}`);

  return (req, res) => {
    const path = req.url === undefined ? '/' : req.url.split('?', 1)[0];
    const readable = req.method === 'GET' || req.method === 'HEAD';
    if (path === '/' && readable) {
      if (delayMs === 0) reply(res);
      else setTimeout(reply, delayMs, res);
    } else if (path === '/healthz' && readable) {
      const ready = isReady();
      send(res, ready ? 200 : 503, 'application/json', JSON.stringify({ status: ready ? 'ok' : 'draining', name }));
    } else if (path === '/' || path === '/healthz') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'application/json', JSON.stringify({ error: 'method_not_allowed' }));
    } else {
      send(res, 404, 'application/json', JSON.stringify({ error: 'not_found', path }));
    }
    // A body nobody reads would stall a keep-alive connection; drain it.
    req.resume();
  };
}
