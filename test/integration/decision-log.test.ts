import { startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost, startEchoServer } from '../helpers/registration';

/** At LOG_LEVEL=debug every proxied request is one JSON line saying where it went and why. */
describe('decision log', () => {
  let balancer: RunningProcess;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;

  beforeAll(async () => {
    echo = await startEchoServer();
    balancer = await startBalancer({ LOG_LEVEL: 'debug', STRATEGY: 'least-connections' });
    expect((await signedPost(balancer.url, 'register-worker', { url: echo.url, name: 'echo' })).status).toBe(201);
  });
  afterAll(async () => {
    await balancer?.stop();
    await echo?.close();
  });

  it('logs the strategy, the worker, the attempt, the status and the latency of each request', async () => {
    await (await fetch(`${balancer.url}/orders/42?x=1`)).arrayBuffer();
    const line = await waitFor(
      () =>
        balancer
          .output()
          .split('\n')
          .find((l) => l.includes('"msg":"proxied"') && l.includes('/orders/42')),
      'the decision line',
      3000,
    );
    expect(JSON.parse(line)).toMatchObject({
      method: 'GET',
      path: '/orders/42?x=1',
      client: '127.0.0.1',
      strategy: 'least-connections',
      worker: echo.url,
      attempt: 1,
      status: 200,
      latencyMs: expect.any(Number),
    });
  });
});
