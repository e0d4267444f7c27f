import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import { ReplayGuard, SIGNATURE_HEADER, verifySignature } from '../utils/auth';
import type { Logger } from './logger';
import { checkWorkerUrl, deregistrationSchema, describeSchemaError, registrationSchema } from './registration';
import { RegistryUnavailableError, type RegistryBackend } from './registry-backend/types';
import { registryUnavailable } from './errors';
import { parseAbsoluteTarget } from './proxy/request-target';
import { GatewayStats, type DeregistrationOutcome, type RegistrationRefusal } from './stats/gateway-stats';
import { WorkerAddressPolicy } from './worker-address';

/** Paths the gateway answers itself; every other path goes to the data plane without touching Express. */
export const CONTROL_PATHS: readonly string[] = ['/workers', '/register-worker', '/deregister-worker'];

const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;
const HASH = 0x23;

/**
 * Whether a request target names a control path in any spelling Express's router (router 2 with its
 * defaults: case-insensitive, not strict) routes to a route of that name, so a worker's own route of
 * that name is never reached through the balancer: the path before `?` or `#`, ASCII letters in any
 * case, with or without one trailing slash; an absolute-form target (`http://host/workers`) by its
 * path, as Express reads it. Express folds nothing else (percent-encoding, `//`, dot segments), and
 * test/integration/control-paths-in-any-spelling.test.ts holds this against a real Express app.
 * Called for every request (the listener's isProxied, the node:http handler): an unrelated target
 * fails a length or one-character check; nothing is allocated.
 */
export function isControlPath(target: string): boolean {
  if (target.charCodeAt(0) !== SLASH) {
    // Rare (node:http only); another scheme or a malformed one is refused by the proxy (invalid_target).
    const absolute = parseAbsoluteTarget(target);
    return absolute !== undefined && isControlPath(absolute.path);
  }
  for (let i = 0; i < CONTROL_PATHS.length; i++) if (spellsPath(target, CONTROL_PATHS[i])) return true;
  return false;
}

/** Whether `target` (starting with "/") is `path` (lower-case) in any letter case, then an optional "/", then its end, "?" or "#". */
function spellsPath(target: string, path: string): boolean {
  let end = path.length;
  if (target.length < end) return false;
  if (end < target.length && target.charCodeAt(end) === SLASH) end++;
  if (end < target.length) {
    const c = target.charCodeAt(end);
    if (c !== QUESTION_MARK && c !== HASH) return false;
  }
  for (let i = 1; i < path.length; i++) {
    const c = target.charCodeAt(i);
    const l = path.charCodeAt(i);
    // Only a lower-case letter of `path` may match the same letter in upper case.
    if (c !== l && !(l >= 0x61 && l <= 0x7a && c === l - 0x20)) return false;
  }
  return true;
}

export interface ControlPlaneDeps {
  /** Where registrations are written and nonces claimed; /workers reads its local registry. */
  backend: RegistryBackend;
  secret: string;
  log: Logger;
  replayGuard?: ReplayGuard;
  /** Which addresses a worker may be reached at; the default forbids the metadata set and allows the rest. */
  addresses?: WorkerAddressPolicy;
  /** Counts registrations and deregistrations by outcome; createBalancer passes the one /metrics reads. */
  stats?: GatewayStats;
}

const MAX_BODY = '64kb';

/** A refused control request: the JSON answer (`error`, `message`) and the outcome it is counted under. */
type Refusal = { status: 400 | 401 | 403 | 413 | 503; error: string; message: string; outcome: RegistrationRefusal };
type Verified<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

/**
 * Checks a signed control request in the order that leaks least: signature first (a caller without
 * the secret learns nothing else), then shape, then freshness (timestamp window and nonce), then the url's
 * syntax, then the addresses its host stands for (resolved, so this is the one asynchronous step).
 */
async function verifySigned<S extends typeof registrationSchema | typeof deregistrationSchema>(
  req: Request,
  schema: S,
  secret: string,
  guard: ReplayGuard,
  backend: RegistryBackend,
  addresses: WorkerAddressPolicy | undefined,
): Promise<Verified<z.infer<S> & { origin: string }>> {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  if (!verifySignature(body, req.get(SIGNATURE_HEADER), secret)) {
    return { ok: false, refusal: { status: 401, error: 'bad_signature', message: `missing or wrong ${SIGNATURE_HEADER} header`, outcome: 'bad_signature' } };
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, refusal: { status: 400, error: 'malformed_json', message: 'body is not valid JSON', outcome: 'malformed_json' } };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return { ok: false, refusal: { status: 400, error: 'invalid_field', message: describeSchemaError(parsed.error), outcome: 'invalid_field' } };
  const freshness = guard.check(parsed.data.timestamp, parsed.data.nonce);
  if (freshness === 'stale')
    return {
      ok: false,
      refusal: { status: 401, error: 'stale_timestamp', message: 'timestamp is more than 30 s from the balancer clock', outcome: 'stale_timestamp' },
    };
  if (freshness === 'before_start') {
    return {
      ok: false,
      refusal: {
        status: 401,
        error: 'signed_before_start',
        message: 'timestamp is from before this balancer started; sign a fresh request',
        outcome: 'signed_before_start',
      },
    };
  }
  // Fresh here; with a fleet (PROCESSES, REDIS_URL) another process may have taken it: the backend decides once for all of them.
  if (freshness === 'replayed' || !(await backend.claimNonce(parsed.data.nonce, guard.keepsFor(parsed.data.timestamp))))
    return { ok: false, refusal: { status: 401, error: 'replayed_nonce', message: 'nonce was already used', outcome: 'replayed_nonce' } };
  const url = checkWorkerUrl(parsed.data.url);
  if ('problem' in url) return { ok: false, refusal: { status: 400, error: 'invalid_url', message: url.problem, outcome: 'invalid_url' } };
  const refusal = addresses === undefined ? undefined : await addresses.check(url.hostname);
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: { ...(parsed.data as z.infer<S>), origin: url.origin } };
}

/** The control plane: registration and introspection routes, on Express because none of them is hot. */
export function createControlPlane({
  backend,
  secret,
  log,
  replayGuard = new ReplayGuard(),
  addresses = new WorkerAddressPolicy(),
  stats = new GatewayStats(),
}: ControlPlaneDeps): express.Express {
  const registry = backend.registry;
  const app = express();
  app.disable('x-powered-by');
  const rawBody = express.raw({ type: () => true, limit: MAX_BODY });

  const refuse = (req: Request, res: Response, refusal: Refusal) => {
    countRefusal(req.path, refusal.outcome);
    log.warn({ route: req.path, ip: req.socket.remoteAddress, error: refusal.error, reason: refusal.message }, 'control request refused');
    res.status(refusal.status).json({ error: refusal.error, message: refusal.message });
  };

  /** Counted under the route it was sent to; a deregistration is never address-checked, so those outcomes cannot occur for it. */
  const countRefusal = (path: string, outcome: RegistrationRefusal) => {
    const route = path.toLowerCase();
    if (route.startsWith('/register-worker')) stats.registrations[outcome]++;
    else if (route.startsWith('/deregister-worker') && outcome in stats.deregistrations) stats.deregistrations[outcome as DeregistrationOutcome]++;
  };

  // The seed's exact shape by default (tools depend on it); ?details=1 adds each worker's state for operators.
  app.get('/workers', (req, res) => {
    if (req.query.details === undefined) return res.json(registry.urls());
    res.json({ panic: registry.inPanic, workers: registry.describe() });
  });

  app.post('/register-worker', rawBody, async (req, res) => {
    const verified = await verifySigned(req, registrationSchema, secret, replayGuard, backend, addresses);
    if (!verified.ok) {
      refuse(req, res, verified.refusal);
      return;
    }
    const { origin, name, weight } = verified.value;
    const outcome = await backend.register({ url: origin, name, weight });
    stats.registrations[outcome]++;
    res.status(outcome === 'created' ? 201 : 200).json({ url: origin, status: outcome });
  });

  // A worker leaving needs no address check: it only ever removes what the registry already holds.
  app.post('/deregister-worker', rawBody, async (req, res) => {
    const verified = await verifySigned(req, deregistrationSchema, secret, replayGuard, backend, undefined);
    if (!verified.ok) {
      refuse(req, res, verified.refusal);
      return;
    }
    const removed = await backend.deregister(verified.value.origin);
    stats.deregistrations[removed ? 'removed' : 'unknown_worker']++;
    if (!removed) return res.status(404).json({ error: 'unknown_worker', message: `${verified.value.origin} is not registered` });
    res.status(200).json({ url: verified.value.origin, status: 'draining' });
  });

  const allowed: Record<string, string> = { '/workers': 'GET, HEAD', '/register-worker': 'POST', '/deregister-worker': 'POST' };
  app.all([...CONTROL_PATHS], (req, res) => {
    // Routed in any letter case and with a trailing slash (see isControlPath): looked up in its plain spelling.
    const path = req.path.toLowerCase().replace(/\/$/, '');
    res
      .set('Allow', allowed[path])
      .status(405)
      .json({ error: 'method_not_allowed', message: `${req.method} is not allowed on ${path}` });
  });

  app.use((err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = err.status ?? 500;
    if (status === 413) {
      refuse(req, res, { status: 413, error: 'body_too_large', message: `body exceeds ${MAX_BODY}`, outcome: 'body_too_large' });
      return;
    }
    if (err instanceof RegistryUnavailableError) {
      // Expected while the primary is gone or stuck: one line, no stack; the worker's next heartbeat retries.
      log.warn({ route: req.path, reason: err.message }, 'control request not applied: registry unavailable');
      const { status: unavailable, code, message, retryAfter } = registryUnavailable;
      res.status(unavailable).set('Retry-After', String(retryAfter)).json({ error: code, message });
      return;
    }
    if (status >= 500) log.error({ err }, 'control plane error');
    res.status(status).json({ error: status >= 500 ? 'internal_error' : 'bad_request', message: status >= 500 ? 'internal error' : err.message });
  });
  return app;
}
