import { countBy, runLoad, sleep } from '../helpers/load';
import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

interface Details {
  workers: { url: string; registeredAt: string }[];
}

/**
 * A balancer stopped for longer than REGISTRATION_TTL_MS (SIGSTOP here; a long GC pause or a VM
 * migration alike) finds every heartbeat stale when it runs again. It notices that its own TTL sweep
 * fired far too late and gives the workers one TTL of grace, so their heartbeats, waiting unread in
 * its sockets, arrive before any is expired: the same records stay listed and keep being served.
 */
describe('a balancer paused longer than the registration TTL', () => {
  let balancer: RunningProcess;
  let workers: RunningProcess[] = [];

  beforeAll(async () => {
    balancer = await startBalancer({ REGISTRATION_TTL_MS: '1500', LOG_LEVEL: 'info' });
    workers = await Promise.all(['a', 'b'].map((n) => startWorker(n, balancer, { HEARTBEAT_INTERVAL_MS: '1000' })));
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
  });
  afterAll(async () => {
    balancer?.child.kill('SIGCONT');
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await balancer?.stop();
  });

  const details = async () => {
    const { workers: listed } = (await (await fetch(`${balancer.url}/workers?details=1`)).json()) as Details;
    return Object.fromEntries(listed.map((w) => [w.url, w.registeredAt]));
  };

  it('keeps its workers through a 3 s SIGSTOP and serves them after SIGCONT', async () => {
    const before = await details();
    expect(Object.keys(before).sort()).toEqual(workers.map((w) => w.url).sort());

    balancer.child.kill('SIGSTOP');
    await sleep(3_000);
    balancer.child.kill('SIGCONT');
    await waitFor(() => /balancer was paused for \d+ ms; workers get 1500 ms of grace/.test(balancer.output()), 'the pause to be noticed');

    // The same records, not new ones made by the first heartbeat after an expiry.
    expect(await details()).toEqual(before);
    const outcomes = await runLoad(`${balancer.url}/`, { concurrency: 2, maxRequests: 40, maxMs: 5_000 });
    expect(outcomes.filter((o) => o.status !== 200)).toEqual([]);
    expect(countBy(outcomes, (o) => o.server)).toEqual({ a: expect.any(Number), b: expect.any(Number) });

    // Past the grace their heartbeats keep them, as before the pause.
    await sleep(2_000);
    expect(await details()).toEqual(before);
    expect(balancer.output()).not.toMatch(/heartbeat expired/);
  });
});
