import express from 'express';

export interface WorkerAppOptions {
  name: string;
  delayMs: number;
  /** Read by /healthz: false once the worker is shutting down, so health checks stop sending to it. */
  isReady: () => boolean;
}

/**
 * The seed's worker: GET / answers after `delayMs` with its name and how many requests it has served.
 * GET /healthz answers at once, for the balancer's health checks and Docker's HEALTHCHECK.
 */
export function createWorkerApp({ name, delayMs, isReady }: WorkerAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  let served = 0;

  app.get('/', (_req, res) => {
    const reply = () => {
      served++;
      res.type('text/plain').send(`Server: ${name}, Request count: ${served}`);
    };
    if (delayMs === 0) reply();
    else setTimeout(reply, delayMs);
  });

  app.get('/healthz', (_req, res) => {
    const ready = isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'draining', name });
  });

  return app;
}
