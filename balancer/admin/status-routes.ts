import type { Logger } from '../logger';
import type { StatusDocument } from '../stats/status-document';
import { sendJson } from './answers';
import { dashboardRoutes } from './dashboard-routes';
import { createEventStream } from './event-stream';
import type { AdminRoute } from './router';

/** What the status routes read: the document builder (balancer/stats/status.ts) and the stream cap. */
export interface StatusTarget {
  document(): StatusDocument;
  /** ADMIN_MAX_STREAMS */
  readonly maxStreams: number;
}

/** Every second, as the issue asks; heartbeats every 15 s; a reader stuck for 30 s is let go. */
const STREAM_TIMING = { intervalMs: 1000, heartbeatEveryTicks: 15, maxSkippedTicks: 30 };

/**
 * GET /status (the JSON of status-document.ts), GET /status/stream (the same document as server-sent
 * events) and GET /dashboard (the page that reads the stream). All read-only: no token.
 */
export function statusRoutes(target: StatusTarget, log: Logger): AdminRoute[] {
  const stream = createEventStream({ build: () => JSON.stringify(target.document()), maxStreams: target.maxStreams, log, ...STREAM_TIMING });
  return [
    { method: 'GET', path: '/status', changes: false, handle: (_req, res) => sendJson(res, 200, target.document()) },
    { method: 'GET', path: '/status/stream', changes: false, handle: stream.handle },
    ...dashboardRoutes(log),
  ];
}
