import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';
import { countBy, runLoad } from '../helpers/load';

/**
 * SIGSTOP one of three workers (a frozen process: its sockets accept but nothing answers). Active
 * health checks take it out within the detection window; after SIGCONT it comes back.
 */
describe('failover when a worker freezes', () => {
  let balancer: RunningProcess;
  let workers: RunningProcess[] = [];

  beforeAll(async () => {
    balancer = await startBalancer();
    workers = await Promise.all(['a', 'b', 'c'].map((n) => startWorker(n, balancer)));
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
  });
  afterAll(async () => {
    workers[1]?.child.kill('SIGCONT');
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await balancer?.stop();
  });

  it('stops sending to a frozen worker after the detection window, and resumes after SIGCONT', async () => {
    const load = runLoad(`${balancer.url}/`, { concurrency: 4, maxRequests: 3000, maxMs: 7000 });
    await new Promise((r) => setTimeout(r, 500));
    workers[1].child.kill('SIGSTOP');
    const frozenAt = Date.now();
    // Default checks (1 s interval, 1 s timeout, 2 failures) flag a frozen worker within 5 s.
    await waitFor(() => /worker marked unhealthy/.test(balancer.output()) || undefined, 'the frozen worker to be marked unhealthy', 8000);
    const outcomes = await load;

    // Requests caught on the frozen worker were called off at detection and retried elsewhere; none failed.
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    const afterFreeze = outcomes.filter((o) => o.at > frozenAt);
    expect(afterFreeze.length).toBeGreaterThan(100);
    expect(countBy(afterFreeze, (o) => o.server)).toEqual({ a: expect.any(Number), c: expect.any(Number) });
    expect(outcomes.some((o) => o.at < frozenAt && o.server === 'b')).toBe(true);

    workers[1].child.kill('SIGCONT');
    // Two good probes bring it back; it is still registered (its heartbeat TTL is 15 s).
    const recovered = await waitFor(
      async () => {
        const outcomes = await runLoad(`${balancer.url}/`, { concurrency: 2, maxRequests: 30, maxMs: 2000 });
        expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
        return countBy(outcomes, (o) => o.server).b > 0 || undefined;
      },
      'the thawed worker to get traffic again',
      10_000,
    );
    expect(recovered).toBe(true);
  });
});
