import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { StatusDocument } from '../../balancer/stats/status-document';
import { ADMIN_TEST_TOKEN } from '../helpers/admin';
import { launchChromium } from '../helpers/browser';
import { countBy, runLoad } from '../helpers/load';
import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a real balancer
 * and real workers: the rows appear, the counts move with traffic, a worker killed with SIGKILL turns
 * not-up with its reason, the controls appear only with the token, and a drain from the page stops the
 * worker's traffic. The steps run in order on one page, as an operator would use it.
 */
let balancer: RunningProcess & { adminUrl(): Promise<string> };
let workers: RunningProcess[] = [];
let browser: Browser;
let page: Page;
let admin: string;
/** Errors the page reported: script errors, failed loads, CSP refusals. */
const problems: string[] = [];

beforeAll(async () => {
  balancer = await startBalancer({ LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '200', HEALTH_CHECK_TIMEOUT_MS: '500', ADMIN_TOKEN: ADMIN_TEST_TOKEN });
  workers = await Promise.all(['a', 'b', 'c'].map((name) => startWorker(name, balancer)));
  await waitForWorkers(
    balancer,
    workers.map((w) => w.url),
  );
  admin = await balancer.adminUrl();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1500, height: 800 } });
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await balancer?.stop();
});

const [a, b, c] = [0, 1, 2].map((i) => ({ get url() { return workers[i].url; } })); // prettier-ignore
const row = (w: { url: string }) => page.locator(`tr[data-url="${w.url}"]`);
const inState = (w: { url: string }, state: string) => page.locator(`tr[data-url="${w.url}"][data-state="${state}"]`);
const cell = (w: { url: string }, field: string) => row(w).locator(`td[data-field="${field}"]`);
const status = async () => (await (await fetch(`${admin}/status`)).json()) as StatusDocument;

describe('the dashboard in chromium', () => {
  it('shows one row per worker, up, live from the stream', async () => {
    await page.goto(`${admin}/dashboard`);
    for (const w of [a, b, c]) await row(w).waitFor();
    expect(await page.locator('#worker-rows tr').count()).toBe(3);
    expect(await cell(a, 'state').textContent()).toBe('up');
    expect(await page.locator('#connection').textContent()).toBe('live');
  });

  it('moves the counts after traffic', async () => {
    const outcomes = await runLoad(`${balancer.url}/`, { concurrency: 4, maxRequests: 120, maxMs: 10_000 });
    expect(outcomes.filter((o) => o.status === 200)).toHaveLength(120);
    await waitFor(async () => Number((await page.locator('#total-requests').textContent())?.replace(/,/g, '')) >= 120, 'the total to count 120 requests');
    expect(await cell(a, 'share').textContent()).toBe('33 %');
  });

  it('turns a worker killed with SIGKILL not-up, with its reason in words, within a few seconds', async () => {
    await workers[1].stop('SIGKILL');
    await inState(b, 'unhealthy').waitFor({ timeout: 8000 });
    expect(await cell(b, 'state').textContent()).toBe('unhealthy');
    expect(await cell(b, 'reason').textContent()).toMatch(/^failed its last \d+ health probes \(.+\)$/);
    expect(await page.locator('#total-workers').textContent()).toBe('2 up of 3');
  });

  it('filters to the workers not up', async () => {
    await page.check('#only-not-up');
    const visible = page.locator('#worker-rows tr:visible');
    expect(await visible.count()).toBe(1);
    expect(await visible.getAttribute('data-state')).toBe('unhealthy');
    await page.uncheck('#only-not-up');
    expect(await page.locator('#worker-rows tr:visible').count()).toBe(3);
  });

  it('shows the controls only with the admin token, and drains a worker from the page: it takes no new requests', async () => {
    expect(await page.locator('button.drain').count()).toBe(0);
    await page.fill('#token', ADMIN_TEST_TOKEN);
    await page.click('#unlock');
    await row(c).locator('button.drain').click();
    await inState(c, 'draining').waitFor();
    expect(await page.locator('#action-result').textContent()).toBe('drain c: 200');
    expect(await cell(c, 'reason').textContent()).toMatch(/^drained by an operator .+ ago: no new requests, nothing in flight$/);
    const servedByC = (await status()).workers.find((w) => w.url === c.url)!.totals.requests;
    const outcomes = await runLoad(`${balancer.url}/`, { concurrency: 4, maxRequests: 60, maxMs: 10_000 });
    expect(countBy(outcomes, (o) => `${o.status} ${o.server}`)).toEqual({ '200 a': 60 });
    expect((await status()).workers.find((w) => w.url === c.url)!.totals.requests).toBe(servedByC);
    // The token lived in the page's memory only.
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
  });

  it('saves a screenshot and met no script error, failed load or policy refusal on the way', async () => {
    await page.screenshot({ path: join(tmpdir(), 'dashboard-browser-test.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
