import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Logger } from '../logger';
import { describeSchemaError, workerWeight } from '../registration';
import type { WorkerRecord, WorkerRegistry, WorkerState } from '../registry';
import { sendError, sendJson } from './answers';
import { auditChange, peerOf } from './audit';
import { findWorker } from './find-worker';
import { readJsonBody } from './json-body';
import type { AdminRoute, RouteParams } from './router';

/** `{"weight": n}` sets the operator's weight; `{"weight": null}` goes back to the one the worker registers. */
const weightBody = z.object({ weight: workerWeight.nullable() }).strict();
const WEIGHT_HELP = 'send {"weight": n} with n an integer 1-1000, or {"weight": null} to go back to the registered weight';
const WEIGHT_BODY_LIMIT = 1024;

/** What an audit line keeps of a worker's state: what an operator changes, nothing that moves by itself. */
function audited(s: WorkerState) {
  return {
    url: s.url,
    name: s.name,
    weight: s.weight,
    weightOverride: s.weightOverride,
    drain: s.drain?.by ?? null,
    inRotation: s.inRotation,
    leaving: s.leaving,
  };
}

/**
 * The admin worker API (issue 12), every route changing and so behind the token guard. `:worker` is a
 * worker's URL, percent-encoded, or its name (see findWorker). Each answers 200 with the worker's state
 * after the change, as GET /workers?details=1 shows it, and writes one audit line with the state before
 * and after; a repeat changes nothing and says so the same way. The changes themselves are the
 * registry's (drainWorker, readyWorker, overrideWeight, removeWorker), so strategies hear of each.
 */
export function workerRoutes(registry: WorkerRegistry, log: Logger): AdminRoute[] {
  const apply = (req: IncomingMessage, res: ServerResponse, params: RouteParams, action: string, change: (w: WorkerRecord) => void) => {
    const found = findWorker(registry, params.worker);
    if (!('worker' in found)) {
      sendJson(res, found.status, { error: found.error, message: found.message, ...(found.matches && { matches: found.matches }) });
      return;
    }
    const before = registry.stateOf(found.worker);
    change(found.worker);
    const after = registry.stateOf(found.worker);
    sendJson(res, 200, after);
    auditChange(log, { who: peerOf(req), action, before: audited(before), after: audited(after) });
  };
  // A body on the routes that take none is read and dropped, so the connection stays usable.
  const withoutBody = (action: string, change: (w: WorkerRecord) => void) => (req: IncomingMessage, res: ServerResponse, params: RouteParams) => {
    req.resume();
    apply(req, res, params, action, change);
  };
  return [
    { method: 'POST', path: '/admin/workers/:worker/drain', changes: true, handle: withoutBody('drain worker', (w) => registry.drainWorker(w)) },
    { method: 'POST', path: '/admin/workers/:worker/ready', changes: true, handle: withoutBody('ready worker', (w) => registry.readyWorker(w)) },
    { method: 'DELETE', path: '/admin/workers/:worker', changes: true, handle: withoutBody('remove worker', (w) => registry.removeWorker(w)) },
    {
      method: 'PUT',
      path: '/admin/workers/:worker/weight',
      changes: true,
      handle: (req, res, params) =>
        void readJsonBody(req, WEIGHT_BODY_LIMIT).then((body) => {
          if (body === undefined) return;
          if (!body.ok) return sendError(res, body.status, body.error, `${body.message}; ${WEIGHT_HELP}`, body.status === 413 ? { connection: 'close' } : {});
          const parsed = weightBody.safeParse(body.value);
          if (!parsed.success) return sendError(res, 400, 'invalid_weight', `${describeSchemaError(parsed.error)}; ${WEIGHT_HELP}`);
          const weight = parsed.data.weight ?? undefined;
          apply(req, res, params, weight === undefined ? 'reset worker weight' : 'set worker weight', (w) => registry.overrideWeight(w, weight));
        }),
    },
  ];
}
