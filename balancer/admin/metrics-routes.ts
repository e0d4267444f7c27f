import type { ServerResponse } from 'node:http';
import type { Logger } from '../logger';
import { writeBalancerMetrics, type MetricsSource } from '../metrics';
import { EXPOSITION_CONTENT_TYPE, processMetrics } from '../metrics/process-metrics';
import { sendError } from './answers';
import type { AdminRoute } from './router';

function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/**
 * GET /metrics: the balancer's lb_* series, then Node's process metrics, for Prometheus to scrape. With
 * PROCESSES > 1 (in the primary) the counters of every serving process are gathered first. Read-only, no token.
 */
export function metricsRoutes(source: MetricsSource, log: Logger): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      changes: false,
      handle: (_req, res) => {
        const fleet = source.gatherFleet?.() ?? processMetrics().then((proc) => ({ extra: '', processMetrics: proc }));
        fleet.then(
          ({ extra, processMetrics: proc }) => sendText(res, writeBalancerMetrics(source, Date.now()) + extra + proc),
          (err: unknown) => {
            log.warn({ err: err instanceof Error ? err.message : String(err) }, 'process metrics failed');
            sendError(res, 500, 'metrics_failed', 'the process metrics could not be collected');
          },
        );
      },
    },
  ];
}
