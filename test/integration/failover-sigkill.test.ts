import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';
import { countBy, runLoad, sleep } from '../helpers/load';

/** Under a continuous stream of GETs, SIGKILL one of three workers: no client request fails. */
describe('failover when a worker is killed', () => {
  let balancer: RunningProcess;
  let workers: RunningProcess[] = [];

  beforeAll(async () => {
    balancer = await startBalancer();
    // A short delay keeps requests in flight on the victim when it dies, so the retry path is exercised.
    workers = await Promise.all(['a', 'b', 'c'].map((n) => startWorker(n, balancer, { WORKER_DELAY_MS: '20' })));
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await balancer?.stop();
  });

  it('serves every request while one worker dies mid-stream', async () => {
    const load = runLoad(`${balancer.url}/`, { concurrency: 8, maxRequests: 1500, maxMs: 8000 });
    await sleep(1000);
    await workers[1].stop('SIGKILL');
    const killedAt = Date.now();
    const outcomes = await load;

    const failed = outcomes.filter((o) => o.status !== 200);
    expect(failed).toEqual([]);
    const servedBy = countBy(outcomes, (o) => o.server);
    expect(servedBy.a).toBeGreaterThan(100);
    expect(servedBy.c).toBeGreaterThan(100);
    expect(servedBy.b).toBeGreaterThan(0); // it did serve before it died
    expect(outcomes.filter((o) => o.at > killedAt).length).toBeGreaterThan(200); // the stream went on after the kill
    await waitFor(() => /worker marked unhealthy/.test(balancer.output()) || undefined, 'the dead worker to be taken out', 8000);
  });
});
