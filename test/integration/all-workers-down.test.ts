import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/** When every worker is dead, the gateway stops trying them and answers 503 at once. */
describe('all workers down', () => {
  let balancer: RunningProcess;
  let workers: RunningProcess[] = [];

  beforeAll(async () => {
    balancer = await startBalancer();
    workers = await Promise.all(['a', 'b'].map((n) => startWorker(n, balancer)));
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
  });
  afterAll(() => balancer?.stop());

  it('answers 502 while the deaths are unnoticed, then 503 with Retry-After once health checks catch up', async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    const first = await fetch(`${balancer.url}/`);
    // Both connections are refused; the retry on the other worker fails too.
    expect([502, 503]).toContain(first.status);
    const res = await waitFor(
      async () => {
        const r = await fetch(`${balancer.url}/`);
        return r.status === 503 ? r : undefined;
      },
      'a 503',
      8000,
    );
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ error: 'no_worker' });
    // Still registered (heartbeat TTL not yet run out): they are out of rotation, not forgotten.
    expect(((await (await fetch(`${balancer.url}/workers`)).json()) as string[]).length).toBe(2);
  });
});
