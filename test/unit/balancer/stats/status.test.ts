import pino from 'pino';
import { balancerSettings, loadBalancerConfig } from '../../../../balancer/config';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from '../../../../balancer/registry';
import { StatusSampler } from '../../../../balancer/stats/sampler';
import { buildStatus, type StatusInputs } from '../../../../balancer/stats/status';
import type { WorkerStatus } from '../../../../balancer/stats/status-document';
import { TRAFFIC_SETTINGS } from '../../../../balancer/stats/traffic-settings';
import { WorkerWindows } from '../../../../balancer/stats/worker-windows';
import { UpstreamPool } from '../../../../balancer/upstream/pool';
import { createStrategy } from '../../../../strategies';

/**
 * The status builder over a real registry, real pools (no connection is ever opened: nothing is
 * dispatched) and real WorkerStats, written the way the proxy and the health checker write them; the
 * clock is the test's, so the windows' arithmetic is exact.
 */
const T0 = 1_700_000_000_000;
const A = 'http://127.0.0.1:9001';
const B = 'http://127.0.0.1:9002';
const SECRET = 'status-test-secret-0123456789';

const health: HealthOptions = {
  // A probe interval of an hour: none fires during a test; results are fed in as the checker would.
  active: { path: '/healthz', intervalMs: 3_600_000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 2, skipBusy: false },
  outlier: { consecutiveFailures: 3, baseEjectionMs: 5000, maxEjectionMs: 20_000 },
  panicThresholdPercent: 50,
  registrationTtlMs: 0,
};

const registries: WorkerRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

function setup(env: Record<string, string> = {}) {
  const clock = { now: T0 };
  const now = () => clock.now;
  const strategy = createStrategy<WorkerRecord>('round-robin', { random: () => 0.5, now, hashKey: 'ip' });
  const pools = (origin: string) => new UpstreamPool(origin, { connectTimeoutMs: 1000, responseTimeoutMs: 1000, idleTimeoutMs: 1000, maxConnections: 0 });
  const registry = new WorkerRegistry(strategy, pools, pino({ level: 'silent' }), now, health);
  registries.push(registry);
  const sampler = new StatusSampler(registry, now);
  const config = { ...loadBalancerConfig({ REGISTRATION_SECRET: SECRET, OUTLIER_CONSECUTIVE_FAILURES: '3', ...env }), MAX_CLIENT_CONNECTIONS: 1000 };
  const inputs: StatusInputs = { workers: registry, sampler, config, version: '9.9.9', startedAt: T0 - 5000, isReady: () => true };
  const status = () => buildStatus(inputs, clock.now);
  const worker = (url: string) => status().workers.find((w) => w.url === url)!;
  /** One second of traffic as the proxy records it, then the sampler's tick. */
  const second = (traffic: Record<string, { n: number; ms: number; status?: number }>) => {
    for (const [url, { n, ms, status = 200 }] of Object.entries(traffic)) for (let i = 0; i < n; i++) registry.get(url)!.stats.recordResponse(status, ms);
    clock.now += 1000;
    sampler.tick();
  };
  return { clock, registry, sampler, status, worker, second };
}

describe('GET /status: recent traffic from the sampler windows', () => {
  it('gives requests/s over 10 s and 1 min, the share of the last minute, and the fleet totals', () => {
    const { registry, status, worker, second } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: B, name: 'b', weight: 3 });
    for (let s = 0; s < 50; s++) second({ [A]: { n: 10, ms: 5 }, [B]: { n: 30, ms: 5 } });
    for (let s = 0; s < 10; s++) second({ [A]: { n: 20, ms: 5 }, [B]: { n: 30, ms: 5, status: 503 } });
    expect(worker(A).requestsPerSecond).toEqual({ last10s: 20, last1m: 11.667 }); // (500 + 200) / 60, three decimals
    expect(worker(B).requestsPerSecond).toEqual({ last10s: 30, last1m: 30 });
    expect([worker(A).share1m, worker(B).share1m]).toEqual([0.28, 0.72]);
    expect([worker(A).errorRate1m, worker(B).errorRate1m]).toEqual([0, 0.167]);
    expect(worker(B).totals).toMatchObject({ requests: 1800, errors: 300, responses: { '2xx': 1500, '5xx': 300 } });
    expect(status().totals).toEqual({ requests: 2500, errors: 300, inflight: 0, requestsPerSecond: { last10s: 50, last1m: 41.667 }, errorRate1m: 0.12 });
  });

  it('takes p50 and p99 from the histogram of the last minute only', () => {
    const { registry, worker, second } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    for (let s = 0; s < 60; s++) second({ [A]: { n: 10, ms: 400 } });
    // (250, 500]: the median interpolates to the middle of the slot.
    expect(worker(A).headerTimeMs).toEqual({ p50: 375, p99: 497.5 });
    for (let s = 0; s < 60; s++) second({ [A]: { n: 10, ms: 3 } });
    // A minute later only the 3 ms responses are inside the window: the slot (2.5, 5].
    expect(worker(A).headerTimeMs).toEqual({ p50: 3.75, p99: 4.975 });
  });

  it('counts a young worker from its registration, before any tick, and shows no quantile without a response', () => {
    const { registry, clock, worker } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    expect(worker(A).headerTimeMs).toEqual({ p50: null, p99: null });
    for (let i = 0; i < 8; i++) registry.get(A)!.stats.recordResponse(200, 1);
    clock.now += 2000;
    expect(worker(A).requestsPerSecond).toEqual({ last10s: 4, last1m: 4 });
  });

  it('drops the windows of a worker once its pool closed, keeps its counts in the totals, and starts a returning one from 0', async () => {
    const { registry, sampler, status, worker, second } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: B, name: 'b', weight: 1 });
    for (let s = 0; s < 5; s++) second({ [A]: { n: 10, ms: 1 }, [B]: { n: 10, ms: 1 } });
    expect(sampler.size).toBe(2);
    registry.deregister(A);
    // Listed as leaving until its pool has closed (at once: nothing in flight), then gone.
    expect(status().workers.map((w) => [w.name, w.state, w.leaving])).toEqual([
      ['b', 'up', false],
      ['a', 'draining', true],
    ]);
    await new Promise(setImmediate);
    second({ [B]: { n: 10, ms: 1 } });
    expect(sampler.size).toBe(1);
    expect(status().totals.requests).toBe(110);
    registry.register({ url: A, name: 'a', weight: 1 });
    second({ [A]: { n: 1, ms: 1 } });
    expect(worker(A).totals.requests).toBe(1);
    expect(status().totals.requests).toBe(111);
  });

  it('keeps the windows of one worker in 2,416 bytes of typed arrays, whatever its traffic', () => {
    const { registry, sampler } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    expect(sampler.windowsOf(registry.get(A)!).bytes).toBe(2416);
    expect(new WorkerWindows(registry.get(A)!.stats, T0).bytes).toBe(2416);
  });
});

describe('GET /status: each state with its reason', () => {
  const why = (w: WorkerStatus) => [w.state, w.reason, w.weight.effective];

  it('an unhealthy worker names its failed probes and the last error', () => {
    const { registry, clock, worker } = setup();
    registry.register({ url: A, name: 'a', weight: 2 });
    registry.recordProbe(A, true);
    expect(why(worker(A))).toEqual(['up', 'in rotation; last health probe ok 0 s ago', 2]);
    clock.now += 1000;
    registry.recordProbe(A, false, 'connect ECONNREFUSED 127.0.0.1:9001');
    clock.now += 1000;
    registry.recordProbe(A, false, 'connect ECONNREFUSED 127.0.0.1:9001');
    clock.now += 1500;
    expect(why(worker(A))).toEqual(['unhealthy', 'failed its last 2 health probes (connect ECONNREFUSED 127.0.0.1:9001, 1.5 s ago)', 0]);
    expect(worker(A).probe).toEqual({
      lastAt: new Date(T0 + 2000).toISOString(),
      lastResult: 'failed',
      lastError: 'connect ECONNREFUSED 127.0.0.1:9001',
      streak: -2,
      ok: 1,
      failed: 2,
    });
    registry.recordProbe(A, true);
    expect(why(worker(A))).toEqual(['unhealthy', 'recovering: 1 of 2 good health probes in a row needed to return', 0]);
  });

  it('an ejected worker gives the failures, the ejection count and the time left', () => {
    const { registry, clock, worker } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: B, name: 'b', weight: 1 });
    for (let i = 0; i < 3; i++) registry.recordExchange(registry.get(A)!, true);
    clock.now += 1000;
    expect(why(worker(A))).toEqual(['ejected', 'ejected after 3 consecutive failed requests (ejection 1), 4 s left', 0]);
    expect(worker(A).ejection).toEqual({ count: 1, leftMs: 4000, until: new Date(T0 + 5000).toISOString() });
  });

  it('a slow-starting worker gives its progress, and its effective weight follows it', () => {
    const { registry, clock, worker } = setup({ SLOW_START_MS: '10000' });
    registry.register({ url: A, name: 'a', weight: 4 });
    clock.now += 2500;
    expect(why(worker(A))).toEqual(['slow_starting', 'warming up: 25 % of its weight, full in 7.5 s', 1]);
    expect(worker(A).slowStart).toEqual({ progress: 0.25, leftMs: 7500 });
    clock.now += 7500;
    expect([worker(A).state, worker(A).slowStart, worker(A).weight]).toEqual(['up', null, { configured: 4, registered: 4, effective: 4 }]);
  });

  it("an operator's weight is the configured one, beside the registered one", () => {
    const { registry, worker } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.overrideWeight(registry.get(A)!, 5);
    expect(worker(A).weight).toEqual({ configured: 5, registered: 1, effective: 5 });
  });

  it('a drained worker says since when and by whom', () => {
    const { registry, clock, worker } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.get(A)!.drain = { since: clock.now, by: 'admin' };
    clock.now += 3000;
    expect([worker(A).state, worker(A).reason]).toEqual(['draining', 'drained by an operator 3 s ago: no new requests, nothing in flight']);
    expect(worker(A).drain).toEqual({ since: new Date(T0).toISOString(), by: 'admin' });
  });
});

describe('GET /status: the balancer', () => {
  it('gives version, uptime, strategy, states and the traffic settings, never a secret', () => {
    const { registry, status } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    const { balancer } = status();
    expect(balancer).toMatchObject({ version: '9.9.9', uptimeS: 5, strategy: 'round-robin', panic: false, ready: true });
    expect(balancer.workers).toEqual({ registered: 1, inRotation: 1, byState: { up: 1, slow_starting: 0, draining: 0, ejected: 0, unhealthy: 0 } });
    expect(balancer.settings).toMatchObject({ RETRY_ATTEMPTS: 2, OUTLIER_CONSECUTIVE_FAILURES: 3, MAX_CLIENT_CONNECTIONS: 1000, FAST_PATH: true });
    const secrets = Object.entries(balancerSettings).filter(([, spec]) => 'secret' in spec && spec.secret);
    expect(secrets.map(([name]) => name).sort()).toEqual(['ADMIN_TOKEN', 'REDIS_URL', 'REGISTRATION_SECRET']);
    for (const [name] of secrets) expect(TRAFFIC_SETTINGS).not.toContain(name);
    expect(JSON.stringify(status())).not.toContain(SECRET);
  });
});
