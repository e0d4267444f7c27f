import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';
import { countBy, runLoad } from '../helpers/load';
import { signedPost } from '../helpers/registration';

/** A worker that answers 500s is ejected by passive outlier detection, and comes back when it recovers. */
describe('outlier ejection', () => {
  let balancer: RunningProcess;
  let workers: RunningProcess[] = [];
  let flaky: Server;
  let broken = true;

  beforeAll(async () => {
    // Its health endpoint stays green: only the traffic itself shows it is broken.
    flaky = createServer((req, res) => {
      if (req.url === '/healthz') return res.end('ok');
      res.writeHead(broken ? 500 : 200).end(broken ? 'boom' : 'Server: flaky, Request count: 0');
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    balancer = await startBalancer({ OUTLIER_CONSECUTIVE_FAILURES: '3', OUTLIER_BASE_EJECTION_MS: '3000', LOG_LEVEL: 'info' });
    workers = await Promise.all(['a', 'b'].map((n) => startWorker(n, balancer)));
    const flakyUrl = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
    expect((await signedPost(balancer.url, 'register-worker', { url: flakyUrl, name: 'flaky' })).status).toBe(201);
    await waitForWorkers(balancer, [...workers.map((w) => w.url), flakyUrl]);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await balancer?.stop();
    flaky?.closeAllConnections();
    flaky?.close();
  });

  it('ejects the worker after consecutive 500s, then sends to it again once it recovers', async () => {
    const early = await runLoad(`${balancer.url}/`, { concurrency: 1, maxRequests: 12, maxMs: 5000 });
    expect(early.filter((o) => o.status === 500).length).toBe(3); // round robin: every third request, until the third 500
    await waitFor(() => /worker ejected after consecutive failures/.test(balancer.output()) || undefined, 'the ejection log line', 2000);

    // The operator's view says why the flaky worker gets no traffic.
    const details = (await (await fetch(`${balancer.url}/workers?details=1`)).json()) as {
      panic: boolean;
      workers: { name: string; inRotation: boolean; healthy: boolean; ejectedForMs: number; ejections: number }[];
    };
    expect(details.panic).toBe(false);
    expect(details.workers.find((w) => w.name === 'flaky')).toMatchObject({ inRotation: false, healthy: true, ejections: 1, ejectedForMs: expect.any(Number) });
    expect(details.workers.find((w) => w.name === 'flaky')!.ejectedForMs).toBeGreaterThan(0);
    expect(
      details.workers
        .filter((w) => w.inRotation)
        .map((w) => w.name)
        .sort(),
    ).toEqual(['a', 'b']);

    const ejected = await runLoad(`${balancer.url}/`, { concurrency: 2, maxRequests: 60, maxMs: 1000 });
    expect(ejected.filter((o) => o.status !== 200)).toEqual([]);
    expect(Object.keys(countBy(ejected, (o) => o.server)).sort()).toEqual(['a', 'b']);

    broken = false;
    await waitFor(
      async () => {
        const outcomes = await runLoad(`${balancer.url}/`, { concurrency: 1, maxRequests: 9, maxMs: 2000 });
        return countBy(outcomes, (o) => o.server).flaky > 0 || undefined;
      },
      'the recovered worker to get traffic again',
      8000,
    );
  });
});
