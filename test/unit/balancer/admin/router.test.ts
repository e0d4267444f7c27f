import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sendJson } from '../../../../balancer/admin/answers';
import { createRouter, type AdminRoute } from '../../../../balancer/admin/router';

/** The admin router behind a real node:http server on 127.0.0.1: each route answers what it matched. */
const routes: AdminRoute[] = [
  { method: 'GET', path: '/healthz', changes: false, handle: (_req, res, params) => sendJson(res, 200, { route: 'healthz', params }) },
  { method: 'POST', path: '/admin/workers/:worker/drain', changes: true, handle: (_req, res, params) => sendJson(res, 200, { route: 'drain', params }) },
  { method: 'DELETE', path: '/admin/workers/:worker', changes: true, handle: (_req, res, params) => sendJson(res, 200, { route: 'delete', params }) },
  { method: 'GET', path: '/admin/workers/:worker', changes: false, handle: (_req, res, params) => sendJson(res, 200, { route: 'show', params }) },
  { method: 'GET', path: '/admin/workers/list', changes: false, handle: (_req, res, params) => sendJson(res, 200, { route: 'list', params }) },
];

let server: Server;
let port: number;
let guarded: string[];

beforeAll(async () => {
  guarded = [];
  const router = createRouter(routes, (_req, res, route) => {
    guarded.push(`${route.method} ${route.path}`);
    if (_req.headers.authorization === 'Bearer ok') return true;
    sendJson(res, 401, { error: 'unauthorized' });
    return false;
  });
  server = createServer(router);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends `path` byte for byte (no URL normalisation on the way) and returns the status, Allow and JSON body. */
function send(method: string, path: string, authorization = 'Bearer ok'): Promise<{ status: number; allow?: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { authorization } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the admin router', () => {
  it('routes an exact path as before, with HEAD for GET and an empty parameter set', async () => {
    expect(await send('GET', '/healthz?x=1')).toMatchObject({ status: 200, body: { route: 'healthz', params: {} } });
    expect(await send('HEAD', '/healthz')).toMatchObject({ status: 200, body: undefined });
    expect(await send('POST', '/healthz')).toMatchObject({ status: 405, allow: 'GET, HEAD' });
  });

  it('reads a :worker segment, percent-decoded once, so an encoded URL is one segment', async () => {
    const url = 'http://127.0.0.1:8081';
    expect(await send('POST', `/admin/workers/${encodeURIComponent(url)}/drain`)).toEqual({ status: 200, body: { route: 'drain', params: { worker: url } } });
    expect(await send('DELETE', '/admin/workers/a%20b')).toEqual({ status: 200, body: { route: 'delete', params: { worker: 'a b' } } });
    // Decoded once only: %2541 is "%41", not "A".
    expect(await send('GET', '/admin/workers/%2541')).toEqual({ status: 200, body: { route: 'show', params: { worker: '%41' } } });
  });

  it('prefers an exact path over a pattern that would also match it', async () => {
    expect(await send('GET', '/admin/workers/list')).toEqual({ status: 200, body: { route: 'list', params: {} } });
  });

  it('answers a matched pattern with another method 405, listing the methods of that pattern', async () => {
    expect(await send('PUT', '/admin/workers/a')).toMatchObject({ status: 405, allow: 'DELETE, GET, HEAD' });
    expect(await send('GET', '/admin/workers/a/drain')).toMatchObject({ status: 405, allow: 'POST' });
  });

  it('refuses a parameter that is not valid percent-encoding with 400, before the guard runs', async () => {
    guarded.length = 0;
    for (const bad of ['%zz', '%', '%E2%82', 'a%2']) {
      expect(await send('POST', `/admin/workers/${bad}/drain`)).toMatchObject({ status: 400, body: { error: 'malformed_path' } });
    }
    expect(guarded).toEqual([]);
  });

  it('answers 404 for an empty segment, an unencoded URL (more segments) and literal segments in another spelling', async () => {
    for (const path of ['/admin/workers//drain', '/admin/workers/http://127.0.0.1:8081/drain', '/admin/%77orkers/a/drain', '/admin/workers/a/drain/']) {
      expect({ path, ...(await send('POST', path)) }).toMatchObject({ path, status: 404, body: { error: 'not_found' } });
    }
  });

  it('runs the guard before a changing pattern route, which may answer instead of it', async () => {
    guarded.length = 0;
    expect(await send('POST', '/admin/workers/a/drain', 'Bearer no')).toMatchObject({ status: 401 });
    expect(guarded).toEqual(['POST /admin/workers/:worker/drain']);
    expect(await send('GET', '/admin/workers/a', 'Bearer no')).toMatchObject({ status: 200 });
    expect(guarded).toEqual(['POST /admin/workers/:worker/drain']);
  });

  it('refuses at start a pattern whose parameters share a name', () => {
    const twice: AdminRoute = { method: 'GET', path: '/a/:x/:x', changes: false, handle: () => {} };
    expect(() => createRouter([twice], () => true)).toThrow(/distinct names/);
  });
});
