import { countBy, runLoad, sleep } from '../helpers/load';
import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * SIGHUP, which Node answers by exiting unless the process listens for it, is a reload: the balancer
 * logs what it re-read and keeps serving; a worker logs that it has nothing to reload and keeps
 * serving and heartbeating. No request fails meanwhile.
 */
describe('SIGHUP', () => {
  let balancer: RunningProcess;
  let workers: RunningProcess[] = [];

  beforeAll(async () => {
    balancer = await startBalancer({ LOG_LEVEL: 'info' });
    workers = await Promise.all(['a', 'b'].map((n) => startWorker(n, balancer, { LOG_LEVEL: 'info' })));
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await balancer?.stop();
  });

  const reloads = (proc: RunningProcess, pattern: RegExp) =>
    proc
      .output()
      .split('\n')
      .filter((line) => pattern.test(line)).length;

  it('neither the balancer nor a worker dies of it, and no request fails', async () => {
    const load = runLoad(`${balancer.url}/`, { concurrency: 2, maxRequests: 400, maxMs: 4_000 });
    await sleep(300);
    balancer.child.kill('SIGHUP');
    await waitFor(() => reloads(balancer, /"SIGHUP: reloading: nothing to re-read/) === 1, 'the first reload line');
    balancer.child.kill('SIGHUP');
    workers[0].child.kill('SIGHUP');
    await waitFor(() => reloads(balancer, /"SIGHUP: reloading/) === 2, 'the second reload line');
    await waitFor(() => reloads(workers[0], /"SIGHUP: nothing to reload; still serving"/) === 1, "the worker's line");
    const outcomes = await load;

    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    expect(countBy(outcomes, (o) => o.server)).toEqual({ a: expect.any(Number), b: expect.any(Number) });
    for (const proc of [balancer, ...workers]) expect(proc.child.exitCode ?? proc.child.signalCode).toBeNull();
    expect((await (await fetch(`${balancer.url}/workers`)).json()) as string[]).toHaveLength(2);
  });
});
