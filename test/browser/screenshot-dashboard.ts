import { join } from 'node:path';
import { ADMIN_TEST_TOKEN, adminCall, workerPath } from '../helpers/admin';
import { launchChromium } from '../helpers/browser';
import { runLoad, sleep } from '../helpers/load';
import { startBalancer, startWorker, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * `npm run screenshot:dashboard`: writes docs/dashboard.png, the README's picture of the dashboard, from
 * a real fleet on loopback: five workers of different speeds under weighted round-robin, one with an
 * operator's weight, one killed with SIGKILL (unhealthy), one drained from the admin API. About two
 * minutes, every load phase bounded. Kept out of `npm test`, so a test run never rewrites a tracked file
 * (the browser test saves its own screenshot under the temp folder).
 */
const OUT = join(__dirname, '..', '..', 'docs', 'dashboard.png');
const FLEET = [
  { name: 'api-1', delayMs: 4 },
  { name: 'api-2', delayMs: 9 },
  { name: 'api-3', delayMs: 22 },
  { name: 'api-4', delayMs: 6 },
  { name: 'api-5', delayMs: 12 },
];

async function main(): Promise<void> {
  const running: RunningProcess[] = [];
  const balancer = await startBalancer({
    LOG_LEVEL: 'info',
    STRATEGY: 'weighted-round-robin',
    HEALTH_CHECK_INTERVAL_MS: '500',
    // The killed worker stays listed (unhealthy) instead of expiring before the picture is taken.
    REGISTRATION_TTL_MS: '300000',
    ADMIN_TOKEN: ADMIN_TEST_TOKEN,
  });
  running.push(balancer);
  const browser = await launchChromium();
  try {
    const workers = await Promise.all(FLEET.map((w) => startWorker(w.name, balancer, { WORKER_DELAY_MS: String(w.delayMs) })));
    running.push(...workers);
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
    const admin = await balancer.adminUrl();
    await adminCall(admin, 'PUT', workerPath('api-1', '/weight'), { body: '{"weight": 3}' });
    const page = await browser.newPage({ viewport: { width: 1640, height: 560 }, deviceScaleFactor: 1 });
    await page.goto(`${admin}/dashboard`);
    const load = (concurrency: number, ms: number) => runLoad(`${balancer.url}/`, { concurrency, maxRequests: 20_000, maxMs: ms });
    // Uneven load, so the charts have a shape; two minutes of events fill them from the right.
    const phases = [1, 3, 2, 4, 3, 5, 2, 4, 3, 5, 4, 2, 4, 3, 5];
    for (const [i, concurrency] of phases.entries()) {
      if (i === 8) await workers[3].stop('SIGKILL');
      if (i === 11) await adminCall(admin, 'POST', workerPath('api-5', '/drain'));
      await load(concurrency, 8000);
    }
    await page.fill('#token', ADMIN_TEST_TOKEN);
    await page.click('#unlock');
    await sleep(1500);
    await page.screenshot({ path: OUT, fullPage: true });
    process.stdout.write(`wrote ${OUT}\n`);
  } finally {
    await browser.close();
    await Promise.all(running.map((p) => p.stop('SIGKILL')));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshot failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
