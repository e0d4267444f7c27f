import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActiveHealthChecker } from '../../../../balancer/health/active-checker';

/** The checker against a real /healthz on 127.0.0.1: what it reports, and when it skips a probe. */
describe('ActiveHealthChecker', () => {
  let server: Server;
  let url: string;
  let hits = 0;
  let status = 200;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/healthz') hits++;
      res.writeHead(status).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    hits = 0;
    status = 200;
  });

  const collect = async (checker: ActiveHealthChecker, reports: boolean[], count: number) => {
    checker.watch(url);
    for (let i = 0; i < 200 && reports.length < count; i++) await new Promise((r) => setTimeout(r, 10));
    await checker.close();
  };

  it('reports each probe: 2xx healthy, anything else not', async () => {
    const reports: boolean[] = [];
    const checker = new ActiveHealthChecker({ path: '/healthz', intervalMs: 10, timeoutMs: 500 }, (_u, ok) => {
      reports.push(ok);
      status = 503;
    });
    await collect(checker, reports, 2);
    expect(reports.slice(0, 2)).toEqual([true, false]);
  });

  it('skips the probe while the worker answered traffic since the last one, and probes again when it did not', async () => {
    const reports: boolean[] = [];
    let busyTicks = 3;
    let hitsAtFirstReport = -1;
    const checker = new ActiveHealthChecker(
      { path: '/healthz', intervalMs: 10, timeoutMs: 500 },
      (_u, ok) => {
        if (reports.push(ok) === 1) hitsAtFirstReport = hits;
      },
      () => busyTicks-- > 0,
    );
    await collect(checker, reports, 1);
    expect(reports[0]).toBe(true);
    // Three busy ticks were skipped without a request; the fourth tick probed.
    expect(hitsAtFirstReport).toBe(1);
    expect(busyTicks).toBeLessThan(0);
  });
});
