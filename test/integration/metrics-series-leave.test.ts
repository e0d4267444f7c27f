import { startBalancer, type RunningProcess } from '../helpers/processes';
import { parseExposition, samplesOf, seriesKey, valueOf, type Family } from '../helpers/prometheus-text';
import { signedPost } from '../helpers/registration';

/**
 * A worker's series leave with it: 2,000 distinct workers register through the real control plane
 * (signed, as workers do) and deregister again, and /metrics is back to the series it had before.
 * Their URLs are 127.0.0.1 ports nobody listens on; nothing ever connects to them: health checks are
 * off (HEALTH_CHECK_INTERVAL_MS=0) and no request is proxied.
 */

const WORKERS = 2000;
const CONCURRENCY = 16;

let balancer: RunningProcess & { adminUrl(): Promise<string> };
afterAll(async () => {
  await balancer?.stop();
});

async function scrape(admin: string): Promise<Map<string, Family>> {
  const res = await fetch(`${admin}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

/** Every lb_ series (name and labels), sorted: what must be the same before and after. */
function lbSeries(families: Map<string, Family>): string[] {
  const keys: string[] = [];
  for (const f of families.values()) if (f.name.startsWith('lb_')) for (const s of f.samples) keys.push(seriesKey(s));
  return keys.sort();
}

/** Runs `task(i)` for i in [0, n), CONCURRENCY at a time. */
async function forEach(n: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

const urlOf = (i: number) => `http://127.0.0.1:${20_000 + i}`;

it('is back to the series it had once 2,000 workers registered and left', async () => {
  balancer = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0' });
  const admin = await balancer.adminUrl();
  const before = await scrape(admin);

  await forEach(WORKERS, async (i) => {
    expect((await signedPost(balancer.url, 'register-worker', { url: urlOf(i), name: `w-${i}` })).status).toBe(201);
  });
  const full = await scrape(admin);
  expect(valueOf(full, 'lb_workers_registered')).toBe(WORKERS);
  expect(samplesOf(full, 'lb_worker_state', { state: 'up' }).length).toBe(WORKERS);
  expect(lbSeries(full).length).toBeGreaterThan(lbSeries(before).length + 40 * WORKERS);

  await forEach(WORKERS, async (i) => {
    expect((await signedPost(balancer.url, 'deregister-worker', { url: urlOf(i) })).status).toBe(200);
  });
  const after = await scrape(admin);
  expect(valueOf(after, 'lb_workers_registered')).toBe(0);
  expect(valueOf(after, 'lb_registrations_total', { outcome: 'created' })).toBe(WORKERS);
  expect(valueOf(after, 'lb_deregistrations_total', { outcome: 'removed' })).toBe(WORKERS);
  expect(lbSeries(after)).toEqual(lbSeries(before));
  // The process metrics keep their families too (their values, and GC kinds seen, may differ).
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
}, 120_000);
