import { Agent, request } from 'undici';
import { signedPayload } from '../../utils/auth';
import { startBalancer, TEST_SECRET, type RunningProcess } from '../helpers/processes';
import { parseExposition, samplesOf, seriesKey, valueOf, type Family } from '../helpers/prometheus-text';

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

/**
 * Sends `n` signed control requests, CONCURRENCY at a time, through an agent of their own, closed once
 * all are answered: a keep-alive connection of the global one, left idle while this process parses a
 * large scrape, could be reused just as the balancer's keep-alive timeout closes it. Resolves with the statuses.
 */
async function signedPosts(route: string, n: number, fields: (i: number) => Record<string, unknown>): Promise<number[]> {
  const agent = new Agent({ connections: CONCURRENCY });
  const statuses: number[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          const { body, signature } = signedPayload(fields(next++), TEST_SECRET);
          const res = await request(`${balancer.url}/${route}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-signature': signature },
            body,
            dispatcher: agent,
          });
          await res.body.dump();
          statuses.push(res.statusCode);
        }
      }),
    );
  } finally {
    await agent.close();
  }
  return statuses;
}

const urlOf = (i: number) => `http://127.0.0.1:${20_000 + i}`;

it('is back to the series it had once 2,000 workers registered and left', async () => {
  balancer = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', REGISTRATION_TTL_MS: '0' });
  const admin = await balancer.adminUrl();
  const before = await scrape(admin);

  expect(new Set(await signedPosts('register-worker', WORKERS, (i) => ({ url: urlOf(i), name: `w-${i}` })))).toEqual(new Set([201]));
  const full = await scrape(admin);
  expect(valueOf(full, 'lb_workers_registered')).toBe(WORKERS);
  expect(samplesOf(full, 'lb_worker_state', { state: 'up' }).length).toBe(WORKERS);
  expect(lbSeries(full).length).toBeGreaterThan(lbSeries(before).length + 40 * WORKERS);

  expect(new Set(await signedPosts('deregister-worker', WORKERS, (i) => ({ url: urlOf(i) })))).toEqual(new Set([200]));
  const after = await scrape(admin);
  expect(valueOf(after, 'lb_workers_registered')).toBe(0);
  expect(valueOf(after, 'lb_registrations_total', { outcome: 'created' })).toBe(WORKERS);
  expect(valueOf(after, 'lb_deregistrations_total', { outcome: 'removed' })).toBe(WORKERS);
  expect(lbSeries(after)).toEqual(lbSeries(before));
  // The process metrics keep their families too (their values, and GC kinds seen, may differ).
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
}, 120_000);
