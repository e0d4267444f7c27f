import type { RunningProcess } from '../helpers/processes';
import { sendRaw } from '../helpers/raw-http';
import { startBalancerFronting, startEchoServer } from '../helpers/registration';

/**
 * A worker is sent exactly one Host, the one the balancer routed by (RFC 9112 section 3.2): a request
 * with two is a 400, and with an absolute-form target the Host sent is the target's authority and the
 * path its origin-form (section 3.2.2), so the worker and X-Forwarded-Host agree with what node read.
 */
describe('one Host is sent upstream', () => {
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  let balancer: RunningProcess;

  beforeAll(async () => {
    echo = await startEchoServer();
    balancer = await startBalancerFronting(echo.url, 'echo');
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  it('refuses two Host headers with 400 and sends the worker nothing', async () => {
    const before = echo.seen.length;
    const res = await sendRaw(balancer.port, 'GET /two HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n');
    expect(res?.status).toBe(400);
    expect(res?.headers.connection).toBe('close');
    expect(JSON.parse(res!.body)).toMatchObject({ error: 'invalid_host' });
    expect(echo.seen.length).toBe(before);
  });

  it("sends an absolute-form target's authority as the one Host, and its origin-form path", async () => {
    const res = await sendRaw(balancer.port, 'GET http://a.example:8080/x?q=1 HTTP/1.1\r\nHost: b.example\r\n\r\n');
    expect(res?.status).toBe(200);
    const seen = echo.seen.at(-1)!;
    expect(seen.url).toBe('/x?q=1');
    const hosts = seen.rawHeaders.filter((_, i) => i % 2 === 1 && seen.rawHeaders[i - 1].toLowerCase() === 'host');
    expect(hosts).toEqual(['a.example:8080']);
    expect(seen.headers['x-forwarded-host']).toBe('a.example:8080');
  });

  it.each(['ftp://a.example/x', 'http://user@a.example/x'])('refuses the absolute-form target %s with 400', async (target) => {
    const before = echo.seen.length;
    const res = await sendRaw(balancer.port, `GET ${target} HTTP/1.1\r\nHost: a.example\r\n\r\n`);
    expect(res?.status).toBe(400);
    expect(JSON.parse(res!.body)).toMatchObject({ error: 'invalid_target' });
    expect(echo.seen.length).toBe(before);
  });

  it('answers 400 to an HTTP/1.1 request without Host (node:http refuses it before the proxy)', async () => {
    const before = echo.seen.length;
    const res = await sendRaw(balancer.port, 'GET /none HTTP/1.1\r\n\r\n');
    expect(res?.status).toBe(400);
    expect(echo.seen.length).toBe(before);
  });
});
