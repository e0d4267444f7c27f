import { startBalancer, type RunningProcess } from '../helpers/processes';
import { sendRaw } from '../helpers/raw-http';
import { signedPost, startBalancerFronting, startEchoServer } from '../helpers/registration';

/**
 * A client cannot make a worker lose the balancer's X-Forwarded-For (and so trust the balancer's
 * address as the client's) with filler headers: past MAX_REQUEST_HEADERS (100) the request is refused
 * with 431 on both of the balancer's paths, and below it the balancer's own headers come first, where
 * a worker that keeps only its first few header lines (node keeps 1,000) still has them.
 */
describe('forwarding headers cannot be pushed out by filler headers', () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let balancer: RunningProcess;

  beforeAll(async () => {
    echo = await startEchoServer();
    // A worker that keeps only its first 10 header lines, as node keeps its first 1,000.
    echo.server.maxHeadersCount = 10;
    balancer = await startBalancerFronting(echo.url, 'echo');
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  const filler = (n: number) => Array.from({ length: n }, (_, i) => `x-f${i}: 1\r\n`).join('');

  it.each([
    ['the listener', 'GET /filler HTTP/1.1\r\nHost: x\r\n'],
    ['node:http (HTTP/1.0)', 'GET /filler HTTP/1.0\r\nHost: x\r\n'],
    ['node:http (chunked upload)', 'POST /filler HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n'],
  ])('refuses 1,000 filler headers with 431 on %s, and the worker is sent nothing', async (_path, head) => {
    const before = echo.seen.length;
    const body = head.startsWith('POST') ? '0\r\n\r\n' : '';
    const res = await sendRaw(balancer.port, `${head}${filler(1_000)}\r\n${body}`);
    expect(res?.status).toBe(431);
    // One Connection: close, the listener's own answer and node's alike.
    expect(res!.head.match(/^connection:.*$/gim)).toEqual([expect.stringMatching(/^connection: close$/i)]);
    expect(JSON.parse(res!.body)).toMatchObject({ error: 'too_many_headers' });
    expect(echo.seen.length).toBe(before);
  });

  it('sends X-Forwarded-For, -Proto, -Host and Via ahead of 99 client headers', async () => {
    const res = await sendRaw(balancer.port, `GET /kept HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 6.6.6.6\r\n${filler(98)}\r\n`);
    expect(res?.status).toBe(200);
    const seen = echo.seen.at(-1)!;
    expect(seen.url).toBe('/kept');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe('shop.example');
    expect(seen.headers.via).toMatch(/^1\.1 lb-[0-9a-f]{8}$/);
  });
});

describe('the header cap above what node:http keeps by default', () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let balancer: RunningProcess;

  beforeAll(async () => {
    echo = await startEchoServer();
    // node:http keeps 1,000 header lines unless told otherwise: a cap above that must still be counted in full.
    balancer = await startBalancer({ MAX_REQUEST_HEADERS: '1500', HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0', OUTLIER_CONSECUTIVE_FAILURES: '0' });
    expect((await signedPost(balancer.url, 'register-worker', { url: echo.url, name: 'echo' })).status).toBe(201);
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  const lines = (n: number) => Array.from({ length: n }, (_, i) => `f${i}:1\r\n`).join('');

  it('refuses 1,600 header lines read by node:http with 431 instead of forwarding the first 1,000', async () => {
    const before = echo.seen.length;
    const res = await sendRaw(balancer.port, `GET /many HTTP/1.0\r\nHost: x\r\n${lines(1_599)}\r\n`);
    expect(res?.status).toBe(431);
    expect(echo.seen.length).toBe(before);
  });

  it('forwards 1,200 header lines read by node:http', async () => {
    const res = await sendRaw(balancer.port, `GET /many HTTP/1.0\r\nHost: x\r\n${lines(1_199)}\r\n`);
    expect(res?.status).toBe(200);
    expect(echo.seen.at(-1)!.url).toBe('/many');
  });
});
