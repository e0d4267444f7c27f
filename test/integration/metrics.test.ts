import { startBalancer, startWorker, waitForWorkers, type RunningProcess } from '../helpers/processes';
import { parseExposition, samplesOf, valueOf, type Family } from '../helpers/prometheus-text';
import { sendRaw } from '../helpers/raw-http';
import { postRaw } from '../helpers/registration';

/**
 * GET /metrics on the admin listener (issue 12), scraped from a real balancer in front of real workers:
 * the counts follow the traffic, a dead worker's errors say why, the text is valid exposition format.
 * Health checks, outlier ejection and the heartbeat TTL are off, so a killed worker stays registered
 * and its failures stay visible.
 */

const ENV = { LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', OUTLIER_CONSECUTIVE_FAILURES: '0', REGISTRATION_TTL_MS: '0' };

const running: RunningProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

async function scrape(admin: string): Promise<{ families: Map<string, Family>; contentType: string | null }> {
  const res = await fetch(`${admin}/metrics`);
  expect(res.status).toBe(200);
  return { families: parseExposition(await res.text()), contentType: res.headers.get('content-type') };
}

async function setUp(names: string[]) {
  const balancer = await startBalancer(ENV);
  running.push(balancer);
  const workers = await Promise.all(names.map((n) => startWorker(n, balancer)));
  running.push(...workers);
  await waitForWorkers(
    balancer,
    workers.map((w) => w.url),
  );
  return { balancer, workers, admin: await balancer.adminUrl() };
}

/** `n` GETs one after another, each read whole; returns their statuses. */
async function get(url: string, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url);
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

const requestsOf = (families: Map<string, Family>, worker: string) =>
  samplesOf(families, 'lb_worker_requests_total', { worker }).reduce((sum, s) => sum + s.value, 0);

describe('GET /metrics', () => {
  it('is Prometheus text format 0.0.4: HELP and TYPE per family, one group each, no duplicate series, lb_ and process metrics', async () => {
    const { admin } = await setUp(['alpha']);
    const { families, contentType } = await scrape(admin);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    for (const name of [
      'lb_worker_state',
      'lb_worker_header_time_seconds',
      'lb_workers_registered',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(families.has(name)).toBe(true);
    }
    for (const family of families.values()) expect(family.help).not.toBe('');
    // One series per state, exactly one of them 1.
    const states = samplesOf(families, 'lb_worker_state', { worker: 'alpha' });
    expect(states.map((s) => s.labels.state).sort()).toEqual(['draining', 'ejected', 'slow_starting', 'unhealthy', 'up']);
    expect(states.filter((s) => s.value === 1).map((s) => s.labels.state)).toEqual(['up']);
    expect(valueOf(families, 'lb_workers_registered')).toBe(1);
    expect(valueOf(families, 'lb_workers_in_rotation')).toBe(1);
    expect(valueOf(families, 'lb_registrations_total', { outcome: 'created' })).toBe(1);
  });

  it('counts N requests under the workers that answered them, in a cumulative histogram whose +Inf bucket is its count', async () => {
    const { balancer, admin } = await setUp(['alpha', 'beta']);
    const N = 40;
    expect(await get(`${balancer.url}/`, N)).toEqual(new Array(N).fill(200));
    const { families } = await scrape(admin);
    // Round robin: half each, every one a 2xx.
    expect([requestsOf(families, 'alpha'), requestsOf(families, 'beta')]).toEqual([N / 2, N / 2]);
    expect(valueOf(families, 'lb_worker_requests_total', { worker: 'alpha', class: '2xx' })).toBe(N / 2);
    for (const worker of ['alpha', 'beta']) {
      expect(valueOf(families, 'lb_worker_header_time_seconds_count', { worker })).toBe(N / 2);
      expect(valueOf(families, 'lb_worker_header_time_seconds_bucket', { worker, le: '+Inf' })).toBe(N / 2);
      const buckets = samplesOf(families, 'lb_worker_header_time_seconds_bucket', { worker });
      expect(buckets.map((b) => b.labels.le)).toEqual([
        '0.0005',
        '0.001',
        '0.0025',
        '0.005',
        '0.01',
        '0.025',
        '0.05',
        '0.1',
        '0.25',
        '0.5',
        '1',
        '2.5',
        '5',
        '10',
        '30',
        '+Inf',
      ]);
      expect(valueOf(families, 'lb_worker_header_time_seconds_sum', { worker })).toBeGreaterThan(0);
      expect(valueOf(families, 'lb_worker_in_flight', { worker })).toBe(0);
      // Keep-alive: the sequential requests reused one connection, idle now.
      expect(valueOf(families, 'lb_worker_connections_open', { worker })).toBe(1);
      expect(valueOf(families, 'lb_worker_connections_idle', { worker })).toBe(1);
    }
    expect(valueOf(families, 'lb_worker_errors_total', { worker: 'alpha', reason: 'refused' })).toBe(0);
  });

  it("shows a killed worker's failures as refused, each one retried or refused by the retry budget", async () => {
    const { balancer, workers, admin } = await setUp(['alpha', 'beta']);
    await workers[1].stop('SIGKILL');
    // Round robin hands beta every pick after a retry took alpha's turn: enough failures to reach the
    // budget's 10 a second when they come fast, none if the machine is slow. Either way the counts agree.
    const N = 16;
    const statuses = await get(`${balancer.url}/`, N);
    const { families } = await scrape(admin);
    const refused = valueOf(families, 'lb_worker_errors_total', { worker: 'beta', reason: 'refused' });
    const retried = valueOf(families, 'lb_worker_retries_total', { worker: 'beta' });
    const notRetried = valueOf(families, 'lb_worker_retries_refused_total', { worker: 'beta' });
    expect(refused).toBeGreaterThan(0);
    expect(retried + notRetried).toBe(refused);
    expect(statuses.filter((s) => s === 502).length).toBe(notRetried);
    expect(valueOf(families, 'lb_gateway_answers_total', { reason: 'worker_unreachable', status: '502' })).toBe(notRetried);
    expect(requestsOf(families, 'alpha')).toBe(N - notRetried);
    expect(requestsOf(families, 'beta')).toBe(0);
    expect(valueOf(families, 'lb_worker_errors_total', { worker: 'alpha', reason: 'refused' })).toBe(0);
  });

  it("counts the gateway's own answers by reason, and refused registrations by why", async () => {
    const balancer = await startBalancer({ ...ENV, MAX_REQUEST_HEADERS: '5' });
    running.push(balancer);
    const admin = await balancer.adminUrl();
    for (let i = 0; i < 3; i++) expect((await sendRaw(balancer.port, 'GET / HTTP/1.1\r\nhost: a\r\n\r\n'))?.status).toBe(503);
    const many = Array.from({ length: 6 }, (_, i) => `x-h${i}: v\r\n`).join('');
    expect((await sendRaw(balancer.port, `GET / HTTP/1.1\r\nhost: a\r\n${many}\r\n`))?.status).toBe(431);
    expect((await sendRaw(balancer.port, 'GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n'))?.status).toBe(400);
    expect((await sendRaw(balancer.port, 'NOT HTTP AT ALL\r\n\r\n'))?.status).toBe(400);
    expect((await postRaw(balancer.url, 'register-worker', '{}', 'sha256=00')).status).toBe(401);
    const { families } = await scrape(admin);
    expect(valueOf(families, 'lb_gateway_answers_total', { reason: 'no_worker', status: '503' })).toBe(3);
    expect(valueOf(families, 'lb_gateway_answers_total', { reason: 'too_many_headers' })).toBe(1);
    expect(valueOf(families, 'lb_gateway_answers_total', { reason: 'invalid_host' })).toBe(1);
    expect(valueOf(families, 'lb_gateway_answers_total', { reason: 'malformed_request' })).toBe(1);
    expect(valueOf(families, 'lb_registrations_total', { outcome: 'bad_signature' })).toBe(1);
    expect(valueOf(families, 'lb_registrations_total', { outcome: 'created' })).toBe(0);
    expect(valueOf(families, 'lb_workers_registered')).toBe(0);
    expect(samplesOf(families, 'lb_worker_state')).toEqual([]);
  });

  it('answers HEAD with the headers and no body, and needs no token', async () => {
    const balancer = await startBalancer({ ...ENV, ADMIN_TOKEN: 'admin-token-0123456789abcdef' });
    running.push(balancer);
    const res = await fetch(`${await balancer.adminUrl()}/metrics`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await res.text()).toBe('');
  });
});
