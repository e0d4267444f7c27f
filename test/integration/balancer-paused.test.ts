import { countBy, runLoad, sleep } from '../helpers/load';
import { RawSocket } from '../helpers/raw-client';
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

  // Its timers run before it reads what arrived while it was stopped: the keep-alive limit, long past
  // by its clock, must not close a connection whose next request already waits in its socket. Both
  // the listener's own connections (GET /) and those node:http serves (GET /workers) are asked.
  it('answers requests sent on kept-alive connections while it was stopped', async () => {
    const port = Number(new URL(balancer.url).port);
    const requests = ['GET / HTTP/1.1\r\nHost: lb\r\n\r\n', 'GET /workers HTTP/1.1\r\nHost: lb\r\n\r\n'];
    const sockets = await Promise.all(requests.map(() => RawSocket.open(port)));
    sockets.forEach((raw, i) => raw.socket.write(requests[i]));
    for (const raw of sockets) expect((await raw.answer()).status).toBe(200);

    balancer.child.kill('SIGSTOP');
    await sleep(100);
    // Well within the keep-alive limit of the answers before: the listener's 5 s, node's 5 s plus its 1 s of slack.
    sockets.forEach((raw, i) => raw.socket.write(requests[i]));
    await sleep(6_600); // past both limits and a tick, by the balancer's clock
    balancer.child.kill('SIGCONT');
    for (const raw of sockets) expect((await raw.answer()).status).toBe(200);
    for (const raw of sockets) raw.socket.destroy();
  }, 20_000);
});
