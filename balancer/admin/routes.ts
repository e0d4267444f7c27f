import type { Logger } from '../logger';
import type { MetricsSource } from '../metrics';
import { sendJson } from './answers';
import type { WorkerRegistry } from '../registry';
import { auditChange, peerOf } from './audit';
import type { AdminRoute } from './router';
import { statusRoutes, type StatusTarget } from './status-routes';
import { workerRoutes } from './worker-routes';

/** What the admin routes read and act on; supplied by createBalancer. */
export interface AdminTarget {
  /** False from the moment a drain began (SIGTERM, SIGINT or POST /admin/drain) until the process exits. */
  isReady(): boolean;
  /** Starts the balancer's drain, as SIGTERM does; `by` names who asked, for the shutdown log line. */
  drain(by: string): void;
  /** GET /status, /status/stream and /dashboard read this (balancer/admin/status-routes.ts). */
  readonly status: StatusTarget;
  /** The workers: the admin worker routes (worker-routes.ts) act on them. */
  readonly registry: WorkerRegistry;
  /** What GET /metrics reads (admin/metrics-routes.ts). */
  metrics: MetricsSource;
}

/**
 * The routes of this slice of issue 12. /healthz says the process runs and its event loop turns (a
 * liveness probe: restart me if not); /readyz says it takes new traffic (a readiness probe: send me
 * none while 503), as Kubernetes and Envoy's /ready read them.
 */
export function adminRoutes(target: AdminTarget, log: Logger): AdminRoute[] {
  return [
    { method: 'GET', path: '/healthz', changes: false, handle: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    {
      method: 'GET',
      path: '/readyz',
      changes: false,
      handle: (_req, res) => (target.isReady() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'draining' })),
    },
    {
      method: 'POST',
      path: '/admin/drain',
      changes: true,
      // 202: the drain has begun, not finished (RFC 9110 section 15.3.3). Answered before the drain starts,
      // so the answer is on its way before the listeners close. A repeat changes nothing and says so.
      handle: (req, res) => {
        const before = target.isReady() ? 'serving' : 'draining';
        sendJson(res, 202, { status: 'draining' });
        auditChange(log, { who: peerOf(req), action: 'drain the balancer', before, after: 'draining' });
        target.drain('POST /admin/drain');
      },
    },
    ...statusRoutes(target.status, log),
    ...workerRoutes(target.registry, log),
  ];
}
