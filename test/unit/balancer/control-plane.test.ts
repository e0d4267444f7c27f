import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import request from 'supertest';
import type { WorkerPool } from '../../../balancer/upstream/pool';
import { createControlPlane, isControlPath } from '../../../balancer/control-plane';
import { WorkerRegistry, type WorkerRecord } from '../../../balancer/registry';
import { GatewayStats } from '../../../balancer/stats/gateway-stats';
import type { Strategy } from '../../../strategies';
import { ReplayGuard, sign } from '../../../utils/auth';
import { MemoryBackend } from '../../../balancer/registry-backend/memory';
import { signedBody } from '../../helpers/signing';

const SECRET = 'control-plane-secret-0123456789';
const NOW = 1_700_000_000_000;
const WORKER = 'http://127.0.0.1:8081';
/** What every refusal answers (the JSON contract of balancer/errors.ts). */
type ErrorBody = { error: string; message: string };

interface Harness {
  url: string;
  registry: WorkerRegistry;
  events: string[];
  poolCloses: jest.Mock;
  /** The counters behind lb_registrations_total and lb_deregistrations_total. */
  stats: GatewayStats;
  /** Registry and strategy state, to compare before and after a refused request. */
  snapshot(): { urls: string[]; events: string[]; poolsCreated: number };
}

let server: Server;
let h: Harness;

beforeEach(async () => {
  const events: string[] = [];
  const strategy: Strategy<WorkerRecord> = {
    name: 'recording',
    pick: () => undefined,
    onWorkerUp: (w) => void events.push(`up ${w.url}`),
    onWorkerDown: (w) => void events.push(`down ${w.url}`),
    onWeightChange: (w) => void events.push(`weight ${w.url} ${w.weight}`),
  };
  const poolCloses = jest.fn().mockResolvedValue(undefined);
  let poolsCreated = 0;
  const createPool = () => {
    poolsCreated++;
    return { close: poolCloses } as unknown as WorkerPool;
  };
  const log = pino({ level: 'silent' });
  const registry = new WorkerRegistry(strategy, createPool, log, () => NOW);
  const stats = new GatewayStats();
  const app = createControlPlane({ backend: new MemoryBackend(registry), secret: SECRET, log, replayGuard: new ReplayGuard(30_000, () => NOW), stats });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  h = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    registry,
    events,
    poolCloses,
    stats,
    snapshot: () => ({ urls: registry.urls(), events: [...events], poolsCreated }),
  };
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function post(route: string, body: string, signature?: string) {
  const req = request(h.url).post(route).set('content-type', 'application/json');
  if (signature !== undefined) req.set('x-signature', signature);
  return req.send(body);
}

function register(fields: Record<string, unknown> = {}, timestamp = NOW) {
  const { body, signature } = signedBody({ url: `${WORKER}/`, name: 'w1', ...fields }, SECRET, timestamp);
  return post('/register-worker', body, signature);
}

function deregister(url = WORKER) {
  const { body, signature } = signedBody({ url }, SECRET, NOW);
  return post('/deregister-worker', body, signature);
}

describe('POST /register-worker accepted', () => {
  it('creates a worker on a valid signed registration: 201 with the normalised origin', async () => {
    const res = await register({ weight: 3 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ url: WORKER, status: 'created' });
    expect(h.registry.get(WORKER)).toMatchObject({ url: WORKER, name: 'w1', weight: 3 });
    expect(h.events).toEqual([`up ${WORKER}`]);
  });

  it('refreshes the same worker with a new nonce: 200, no second onWorkerUp', async () => {
    expect((await register()).status).toBe(201);
    const res = await register({ name: 'w1-again' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ url: WORKER, status: 'refreshed' });
    expect(h.events).toEqual([`up ${WORKER}`]);
    expect(h.registry.get(WORKER)!.name).toBe('w1-again');
  });

  it('GET /workers lists the registered urls', async () => {
    expect((await request(h.url).get('/workers')).body).toEqual([]);
    await register();
    const res = await request(h.url).get('/workers');
    expect(res.status).toBe(200);
    expect(res.body).toEqual([WORKER]);
  });

  it('accepts a timestamp 30 s off the balancer clock', async () => {
    expect((await register({}, NOW - 30_000)).status).toBe(201);
  });
});

describe('POST /register-worker refused', () => {
  /** Registers one worker first, so "unchanged" is checked against a non-empty registry. */
  async function expectRefusal(send: () => Promise<request.Response>, status: number, error: string): Promise<{ body: ErrorBody }> {
    await register({ url: 'http://127.0.0.1:9999' });
    const before = h.snapshot();
    const res = await send();
    expect(res.status).toBe(status);
    const body = res.body as ErrorBody;
    expect(body.error).toBe(error);
    expect(typeof body.message).toBe('string');
    expect(h.snapshot()).toEqual(before);
    return res;
  }

  it('401 without a signature', async () => {
    const { body } = signedBody({ url: WORKER, name: 'w1' }, SECRET, NOW);
    await expectRefusal(() => post('/register-worker', body), 401, 'bad_signature');
  });

  it('401 with a signature made with another secret', async () => {
    const { body } = signedBody({ url: WORKER, name: 'w1' }, SECRET, NOW);
    await expectRefusal(() => post('/register-worker', body, sign(body, `${SECRET}-other`)), 401, 'bad_signature');
  });

  it('401 when the body was altered after signing', async () => {
    const { body, signature } = signedBody({ url: WORKER, name: 'w1', weight: 1 }, SECRET, NOW);
    await expectRefusal(() => post('/register-worker', body.replace('"weight":1', '"weight":9'), signature), 401, 'bad_signature');
  });

  it('401 for a timestamp more than 30 s old or ahead', async () => {
    await expectRefusal(() => register({}, NOW - 30_001), 401, 'stale_timestamp');
    await expectRefusal(() => register({}, NOW + 30_001), 401, 'stale_timestamp');
  });

  it('401 when the exact same signed body is sent twice', async () => {
    const { body, signature } = signedBody({ url: WORKER, name: 'w1' }, SECRET, NOW);
    expect((await post('/register-worker', body, signature)).status).toBe(201);
    const before = h.snapshot();
    const res = await post('/register-worker', body, signature);
    expect(res.status).toBe(401);
    expect((res.body as ErrorBody).error).toBe('replayed_nonce');
    expect(h.snapshot()).toEqual(before);
  });

  it('400 for a signed body that is not JSON', async () => {
    const body = '{"url": "http://127.0.0.1:8081",';
    await expectRefusal(() => post('/register-worker', body, sign(body, SECRET)), 400, 'malformed_json');
  });

  it('400 naming the field for wrong types', async () => {
    const res = await expectRefusal(() => register({ weight: '3' }), 400, 'invalid_field');
    expect(res.body.message).toMatch(/^weight: /);
    const res2 = await expectRefusal(() => register({ name: 42 }), 400, 'invalid_field');
    expect(res2.body.message).toMatch(/^name: /);
  });

  it('400 naming the field when one is missing', async () => {
    const { body, signature } = signedBody({ url: WORKER }, SECRET, NOW);
    const res = await expectRefusal(() => post('/register-worker', body, signature), 400, 'invalid_field');
    expect(res.body.message).toMatch(/^name: /);
  });

  it('400 for a url with a path, with a message saying so', async () => {
    const res = await expectRefusal(() => register({ url: `${WORKER}/admin` }), 400, 'invalid_url');
    expect(res.body.message).toBe('url must be scheme://host:port with no path, query or fragment');
  });

  it('400 for a link-local url', async () => {
    const res = await expectRefusal(() => register({ url: 'http://169.254.169.254:80' }), 400, 'invalid_url');
    expect(res.body.message).toBe('url host 169.254.169.254 is link-local (cloud metadata at 169.254.169.254)');
  });

  it('400, not 500, for an https url, and no pool is made for it', async () => {
    const res = await expectRefusal(() => register({ url: 'https://127.0.0.1:8443' }), 400, 'invalid_url');
    expect(res.body.message).toContain('https:// workers are not supported yet');
  });

  it('413 for a body over 64 kB', async () => {
    const { body, signature } = signedBody({ url: WORKER, name: 'w1', padding: 'x'.repeat(70_000) }, SECRET, NOW);
    await expectRefusal(() => post('/register-worker', body, signature), 413, 'body_too_large');
  });
});

describe('method checks', () => {
  it('405 for GET /register-worker, with Allow: POST', async () => {
    const res = await request(h.url).get('/register-worker');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect((res.body as ErrorBody).error).toBe('method_not_allowed');
    expect(h.registry.size).toBe(0);
  });

  it('405 for POST /workers, with Allow: GET, HEAD', async () => {
    const res = await request(h.url).post('/workers').send('{}');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});

describe('POST /deregister-worker', () => {
  it('200 and draining for a registered worker, then 404', async () => {
    await register();
    const res = await deregister(`${WORKER}/`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ url: WORKER, status: 'draining' });
    expect(h.registry.urls()).toEqual([]);
    expect(h.events).toEqual([`up ${WORKER}`, `down ${WORKER}`]);
    expect(h.poolCloses).toHaveBeenCalledTimes(1);

    const again = await deregister();
    expect(again.status).toBe(404);
    expect((again.body as ErrorBody).error).toBe('unknown_worker');
    expect(h.events).toEqual([`up ${WORKER}`, `down ${WORKER}`]);
    expect(h.poolCloses).toHaveBeenCalledTimes(1);
  });

  it('401 for an unsigned deregistration, leaving the worker registered', async () => {
    await register();
    const { body } = signedBody({ url: WORKER }, SECRET, NOW);
    const res = await post('/deregister-worker', body);
    expect(res.status).toBe(401);
    expect(h.registry.urls()).toEqual([WORKER]);
    expect(h.poolCloses).not.toHaveBeenCalled();
  });

  it('401 for a replayed deregistration after the worker registered again', async () => {
    await register();
    const { body, signature } = signedBody({ url: WORKER }, SECRET, NOW);
    expect((await post('/deregister-worker', body, signature)).status).toBe(200);
    await register();
    const res = await post('/deregister-worker', body, signature);
    expect(res.status).toBe(401);
    expect((res.body as ErrorBody).error).toBe('replayed_nonce');
    expect(h.registry.urls()).toEqual([WORKER]);
  });
});

describe('registration outcomes, as /metrics counts them', () => {
  const nonZero = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

  it('counts each registration under what became of it, and a forbidden address apart from a malformed url', async () => {
    await register();
    await register();
    await register({ url: 'http://169.254.169.254:80' });
    await register({ url: 'http://127.0.0.1:8081/path' });
    const { body, signature } = signedBody({ url: WORKER, name: 'w1' }, SECRET, NOW);
    await post('/register-worker', body, signature);
    await post('/register-worker', body, signature);
    await post('/register-worker', body, 'sha256=00');
    expect(nonZero(h.stats.registrations)).toEqual({ created: 1, refreshed: 2, forbidden_address: 1, invalid_url: 1, replayed_nonce: 1, bad_signature: 1 });
    expect(nonZero(h.stats.deregistrations)).toEqual({});
  });

  it('counts deregistrations apart from registrations', async () => {
    await register();
    await deregister();
    await deregister();
    await post('/deregister-worker', '{}', 'sha256=00');
    expect(nonZero(h.stats.deregistrations)).toEqual({ removed: 1, unknown_worker: 1, bad_signature: 1 });
    expect(nonZero(h.stats.registrations)).toEqual({ created: 1 });
  });
});

describe('isControlPath', () => {
  it.each([
    '/workers',
    '/Workers',
    '/WORKERS/',
    '/workers?details=1',
    '/workers/?x',
    '/workers#f',
    '/Register-Worker',
    '/deregister-worker/',
    'http://x/workers',
    'HTTPS://x:1/Workers/?q',
  ])('is true for %s', (target) => expect(isControlPath(target)).toBe(true));

  it.each([
    '/',
    '/workers//',
    '//workers',
    '/%77orkers',
    '/workersx',
    '/worker',
    '/workers/x',
    '/workers.',
    '/x/workers',
    '*',
    'ftp://x/workers',
    'http://u@x/workers',
    'http://x//workers',
    '',
  ])('is false for %s', (target) => expect(isControlPath(target)).toBe(false));
});
