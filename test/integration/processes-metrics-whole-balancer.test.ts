import { runLoad } from '../helpers/load';
import { startBalancer, startWorker, waitForWorkers, type RunningProcess } from '../helpers/processes';
import { parseExposition, samplesOf, valueOf } from '../helpers/prometheus-text';

/**
 * PROCESSES=2 (issue 13): /metrics and /status on the primary's admin listener show the whole
 * balancer. Requests spread over both serving processes (8 kept-alive connections, handed out in
 * turn by node:cluster) are all counted in one scrape, per worker; each process has its own process
 * metrics; /status's totals and windows are fleet-wide.
 */
const SENT = 400;

describe('PROCESSES=2: /metrics and /status count every serving process', () => {
  let balancer: RunningProcess & { adminUrl(): Promise<string> };
  const workers: RunningProcess[] = [];
  let admin: string;

  beforeAll(async () => {
    balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info' });
    for (const name of ['a', 'b']) workers.push(await startWorker(name, balancer));
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
    admin = await balancer.adminUrl();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await balancer.stop();
  });

  it('one scrape holds every request, summed per worker, and each process by its own label', async () => {
    const outcomes = await runLoad(`${balancer.url}/`, { concurrency: 8, maxRequests: SENT, maxMs: 30_000 });
    expect(outcomes.filter((o) => o.status === 200)).toHaveLength(SENT);
    const text = await (await fetch(`${admin}/metrics`)).text();
    const m = parseExposition(text);
    const counted = samplesOf(m, 'lb_worker_requests_total').reduce((total, s) => total + s.value, 0);
    expect(counted).toBe(SENT);
    expect(valueOf(m, 'lb_worker_requests_total', { worker: 'a', class: '2xx' }) + valueOf(m, 'lb_worker_requests_total', { worker: 'b', class: '2xx' })).toBe(
      SENT,
    );
    // Both serving processes proxied, and their counts add up to what the client sent.
    const perProcess = samplesOf(m, 'lb_process_requests_total');
    expect(perProcess).toHaveLength(2);
    for (const s of perProcess) expect(s.value).toBeGreaterThan(0);
    expect(perProcess.reduce((total, s) => total + s.value, 0)).toBe(SENT);
    expect(valueOf(m, 'lb_serving_processes')).toBe(2);
    expect(valueOf(m, 'lb_serving_processes_unanswered')).toBe(0);
    const labels = samplesOf(m, 'process_cpu_user_seconds_total').map((s) => s.labels.process);
    expect(labels).toHaveLength(3);
    expect(labels).toContain('primary');
    expect(labels.filter((l) => /^serving-\d+$/.test(l))).toHaveLength(2);
  });

  it("/status: the fleet's totals and its request rate come from both serving processes", async () => {
    const status = await (async () => {
      // The windows sample once a second from the once-a-second gather: within two seconds they hold the load.
      for (let i = 0; i < 40; i++) {
        const doc = (await (await fetch(`${admin}/status`)).json()) as { totals: { requests: number; requestsPerSecond: { last10s: number } } };
        if (doc.totals.requests === SENT && doc.totals.requestsPerSecond.last10s > 0) return doc;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error('/status never showed the fleet-wide totals');
    })();
    expect(status.totals.requests).toBe(SENT);
    expect(status.totals.requestsPerSecond.last10s).toBeGreaterThan(0);
  });
});
