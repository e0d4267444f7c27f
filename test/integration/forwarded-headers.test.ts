import { request } from 'node:http';
import { startBalancer, type RunningProcess } from '../helpers/processes';
import { signedPost, startEchoServer } from '../helpers/registration';

type Echo = Awaited<ReturnType<typeof startEchoServer>>;

/** Sends a GET with exactly these raw headers (fetch forbids hop-by-hop ones) and returns the response headers. */
function rawGet(url: string, headers: Record<string, string>): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers));
    });
    req.on('error', reject);
    req.end();
  });
}

async function setup(env: Record<string, string>): Promise<{ balancer: RunningProcess; echo: Echo }> {
  const echo = await startEchoServer();
  const balancer = await startBalancer(env);
  expect((await signedPost(balancer.url, 'register-worker', { url: echo.url, name: 'echo' })).status).toBe(201);
  return { balancer, echo };
}

describe('forwarded headers', () => {
  let direct: { balancer: RunningProcess; echo: Echo };
  let behindProxy: { balancer: RunningProcess; echo: Echo };

  beforeAll(async () => {
    direct = await setup({});
    behindProxy = await setup({ TRUST_PROXY: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const s of [direct, behindProxy]) {
      await s?.balancer.stop();
      await s?.echo.close();
    }
  });

  it('sets X-Forwarded-For/-Host/-Proto and keeps Host and end-to-end headers', async () => {
    await rawGet(`${direct.balancer.url}/path`, { Host: 'shop.example', 'X-Request-Id': 'abc-123' });
    const seen = direct.echo.seen.at(-1)!;
    expect(seen.headers.host).toBe('shop.example');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe('shop.example');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.rawHeaders).toContain('X-Request-Id'); // original case kept
    expect(seen.headers['x-request-id']).toBe('abc-123');
  });

  it('replaces X-Forwarded-* sent by an untrusted client', async () => {
    await rawGet(`${direct.balancer.url}/`, {
      'X-Forwarded-For': '6.6.6.6',
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Proto': 'https',
      Forwarded: 'for=6.6.6.6',
    });
    const seen = direct.echo.seen.at(-1)!;
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).not.toBe('evil.example');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers.forwarded).toBeUndefined();
  });

  it('appends to X-Forwarded-For from a trusted proxy and keeps its host and proto', async () => {
    await rawGet(`${behindProxy.balancer.url}/`, { 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Host': 'public.example', 'X-Forwarded-Proto': 'https' });
    const seen = behindProxy.echo.seen.at(-1)!;
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe('public.example');
    expect(seen.headers['x-forwarded-proto']).toBe('https');
  });

  it('strips hop-by-hop headers, and those named in Connection, in both directions', async () => {
    const responseHeaders = await rawGet(`${direct.balancer.url}/`, {
      Connection: 'keep-alive, X-Hop-Private',
      'X-Hop-Private': 'drop me',
      'Keep-Alive': 'timeout=5',
      TE: 'trailers',
      'Proxy-Authorization': 'Basic Zm9vOmJhcg==',
      'X-End-To-End': 'keep me',
    });
    const seen = direct.echo.seen.at(-1)!;
    for (const name of ['x-hop-private', 'keep-alive', 'te', 'proxy-authorization']) expect(seen.headers[name]).toBeUndefined();
    expect(seen.headers['x-end-to-end']).toBe('keep me');
    // The echo server answers with Connection: keep-alive, x-upstream-private and Keep-Alive: timeout=5.
    expect(responseHeaders['x-upstream-private']).toBeUndefined();
    expect(responseHeaders['x-echo']).toBeDefined();
  });
});
