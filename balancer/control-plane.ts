import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import { ReplayGuard, SIGNATURE_HEADER, verifySignature } from '../utils/auth';
import type { Logger } from './logger';
import { checkWorkerUrl, deregistrationSchema, describeSchemaError, registrationSchema } from './registration';
import type { WorkerRegistry } from './registry';

/** Paths the gateway answers itself; every other path goes to the data plane without touching Express. */
export const CONTROL_PATHS: ReadonlySet<string> = new Set(['/workers', '/register-worker', '/deregister-worker']);

export interface ControlPlaneDeps {
  registry: WorkerRegistry;
  secret: string;
  log: Logger;
  replayGuard?: ReplayGuard;
}

const MAX_BODY = '64kb';

type Refusal = { status: 400 | 401 | 413; error: string; message: string };
type Verified<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/**
 * Checks a signed control request in the order that leaks least: signature first (a caller without
 * the secret learns nothing else), then shape, then freshness (timestamp window and nonce), then the url.
 */
function verifySigned<S extends typeof registrationSchema | typeof deregistrationSchema>(
  req: Request,
  schema: S,
  secret: string,
  guard: ReplayGuard,
): Verified<z.infer<S> & { origin: string }> {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (!verifySignature(body, req.get(SIGNATURE_HEADER), secret)) {
    return { ok: false, refusal: { status: 401, error: 'bad_signature', message: `missing or wrong ${SIGNATURE_HEADER} header` } };
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, refusal: { status: 400, error: 'malformed_json', message: 'body is not valid JSON' } };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, refusal: { status: 400, error: 'invalid_field', message: describeSchemaError(parsed.error) } };
  const freshness = guard.check(parsed.data.timestamp, parsed.data.nonce);
  if (freshness === 'stale') return { ok: false, refusal: { status: 401, error: 'stale_timestamp', message: 'timestamp is more than 30 s from the balancer clock' } };
  if (freshness === 'replayed') return { ok: false, refusal: { status: 401, error: 'replayed_nonce', message: 'nonce was already used' } };
  const url = checkWorkerUrl(parsed.data.url);
  if ('problem' in url) return { ok: false, refusal: { status: 400, error: 'invalid_url', message: url.problem } };
  return { ok: true, value: { ...(parsed.data as z.infer<S>), origin: url.origin } };
}

/** The control plane: registration and introspection routes, on Express because none of them is hot. */
export function createControlPlane({ registry, secret, log, replayGuard = new ReplayGuard() }: ControlPlaneDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const rawBody = express.raw({ type: () => true, limit: MAX_BODY });

  const refuse = (req: Request, res: Response, refusal: Refusal) => {
    log.warn({ route: req.path, ip: req.socket.remoteAddress, error: refusal.error, reason: refusal.message }, 'control request refused');
    res.status(refusal.status).json({ error: refusal.error, message: refusal.message });
  };

  // The seed's exact shape by default (tools depend on it); ?details=1 adds each worker's state for operators.
  app.get('/workers', (req, res) => {
    if (req.query.details === undefined) return res.json(registry.urls());
    res.json({ panic: registry.inPanic, workers: registry.describe() });
  });

  app.post('/register-worker', rawBody, (req, res) => {
    const verified = verifySigned(req, registrationSchema, secret, replayGuard);
    if (!verified.ok) {
      refuse(req, res, verified.refusal);
      return;
    }
    const { origin, name, weight } = verified.value;
    const outcome = registry.register({ url: origin, name, weight });
    res.status(outcome === 'created' ? 201 : 200).json({ url: origin, status: outcome });
  });

  app.post('/deregister-worker', rawBody, (req, res) => {
    const verified = verifySigned(req, deregistrationSchema, secret, replayGuard);
    if (!verified.ok) {
      refuse(req, res, verified.refusal);
      return;
    }
    const removed = registry.deregister(verified.value.origin);
    if (!removed) return res.status(404).json({ error: 'unknown_worker', message: `${verified.value.origin} is not registered` });
    res.status(200).json({ url: verified.value.origin, status: 'draining' });
  });

  const allowed: Record<string, string> = { '/workers': 'GET, HEAD', '/register-worker': 'POST', '/deregister-worker': 'POST' };
  app.all(['/workers', '/register-worker', '/deregister-worker'], (req, res) => {
    res.set('Allow', allowed[req.path]).status(405).json({ error: 'method_not_allowed', message: `${req.method} is not allowed on ${req.path}` });
  });

  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status ?? 500;
    if (status === 413) {
      refuse(req, res, { status: 413, error: 'body_too_large', message: `body exceeds ${MAX_BODY}` });
      return;
    }
    if (status >= 500) log.error({ err }, 'control plane error');
    res.status(status).json({ error: status >= 500 ? 'internal_error' : 'bad_request', message: status >= 500 ? 'internal error' : err.message });
  });
  return app;
}
