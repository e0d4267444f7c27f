import { startBalancer, startWorker, waitForWorkers, type RunningProcess } from '../helpers/processes';

/** The seed's promise, through real processes: ten requests over three workers go 1,2,3,1,2,3,1,2,3,1. */
describe('round robin through the gateway', () => {
  let balancer: RunningProcess;
  const workers: RunningProcess[] = [];

  beforeAll(async () => {
    balancer = await startBalancer();
    // Started one by one so registration order, and so the rotation, is known.
    for (const name of ['w1', 'w2', 'w3']) {
      workers.push(await startWorker(name, balancer));
      await waitForWorkers(
        balancer,
        workers.map((w) => w.url),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await balancer?.stop();
  });

  it('lists the workers as a JSON array of URL strings, in registration order', async () => {
    const res = await fetch(`${balancer.url}/workers`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(workers.map((w) => w.url));
  });

  it('sends ten sequential requests to the workers in turn', async () => {
    const servedBy: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${balancer.url}/`);
      expect(res.status).toBe(200);
      const text = await res.text();
      const match = /^Server: (\w+), Request count: (\d+)$/.exec(text);
      expect(match).not.toBeNull();
      servedBy.push(match![1]);
    }
    expect(servedBy).toEqual(['w1', 'w2', 'w3', 'w1', 'w2', 'w3', 'w1', 'w2', 'w3', 'w1']);
  });
});
