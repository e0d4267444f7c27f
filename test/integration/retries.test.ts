import { freePort, startBalancer, type RunningProcess } from '../helpers/processes';
import { signedPost, startEchoServer } from '../helpers/registration';

type Echo = Awaited<ReturnType<typeof startEchoServer>>;

/**
 * Retries only what is safe to repeat. Round robin over [dead, echo]: every other first attempt hits
 * the dead worker (connection refused), so each request below is sent twice in a row to cover both.
 */
describe('retries on another worker', () => {
  let balancer: RunningProcess;
  let echo: Echo;

  beforeAll(async () => {
    echo = await startEchoServer();
    // Outlier detection and health checks off, so the dead worker stays in rotation for the whole test.
    balancer = await startBalancer({ OUTLIER_CONSECUTIVE_FAILURES: '0', HEALTH_CHECK_INTERVAL_MS: '0' });
    const dead = `http://127.0.0.1:${await freePort()}`;
    expect((await signedPost(balancer.url, 'register-worker', { url: dead, name: 'dead' })).status).toBe(201);
    expect((await signedPost(balancer.url, 'register-worker', { url: echo.url, name: 'echo' })).status).toBe(201);
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  const twice = async (init: RequestInit & { path?: string }) => {
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${balancer.url}${init.path ?? '/'}`, init);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    return statuses.sort();
  };

  it('retries GET and DELETE on the live worker', async () => {
    expect(await twice({ method: 'GET' })).toEqual([200, 200]);
    expect(await twice({ method: 'DELETE' })).toEqual([200, 200]);
  });

  it('replays a small PUT body byte for byte', async () => {
    const before = echo.seen.length;
    expect(await twice({ method: 'PUT', body: 'replay me', path: '/put' })).toEqual([200, 200]);
    const puts = echo.seen.slice(before);
    expect(puts.map((s) => s.bytes)).toEqual([9, 9]);
  });

  it('never retries a POST without an Idempotency-Key', async () => {
    expect(await twice({ method: 'POST', body: 'once only' })).toEqual([200, 502]);
  });

  it('retries a POST that carries an Idempotency-Key', async () => {
    expect(await twice({ method: 'POST', body: 'safe', headers: { 'idempotency-key': 'k-1' } })).toEqual([200, 200]);
  });

  it('does not retry a PUT whose body is too large to have been kept', async () => {
    expect(await twice({ method: 'PUT', body: Buffer.alloc(70_000, 1) })).toEqual([200, 502]);
  });
});
