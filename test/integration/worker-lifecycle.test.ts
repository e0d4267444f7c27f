import { freePort, startBalancer, startWorker, waitForWorkers, type RunningProcess } from '../helpers/processes';

/** Start order does not matter, heartbeats rebuild a restarted balancer's registry, SIGTERM drains. */
describe('worker lifecycle', () => {
  const running: RunningProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  });

  it('registers a worker started before its balancer, and again after the balancer restarts', async () => {
    const port = String(await freePort());
    const futureBalancer = { url: `http://127.0.0.1:${port}` };
    const worker = await startWorker('early', futureBalancer);
    running.push(worker);

    const first = await startBalancer({ PORT: port });
    running.push(first);
    await waitForWorkers(first, [worker.url]);

    await first.stop('SIGKILL');
    const second = await startBalancer({ PORT: port });
    running.push(second);
    // Heartbeat is 1 s in tests; the new balancer starts empty and learns the worker again.
    await waitForWorkers(second, [worker.url]);
    expect(await (await fetch(`${second.url}/`)).text()).toBe('Server: early, Request count: 1');
  });

  it('deregisters on SIGTERM and finishes the request it was serving', async () => {
    const balancer = await startBalancer();
    running.push(balancer);
    const slow = await startWorker('slow', balancer, { WORKER_DELAY_MS: '1500' });
    running.push(slow);
    await waitForWorkers(balancer, [slow.url]);

    const inFlight = fetch(`${balancer.url}/`).then(async (r) => ({ status: r.status, text: await r.text() }));
    await new Promise((r) => setTimeout(r, 300));
    const stopped = slow.stop('SIGTERM');
    await waitForWorkers(balancer, []);
    expect(await inFlight).toEqual({ status: 200, text: 'Server: slow, Request count: 1' });
    await stopped;
    expect(slow.child.exitCode).toBe(0);
    // With no worker left the gateway answers at once with 503 and Retry-After.
    const res = await fetch(`${balancer.url}/`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });
});
