import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { adminCall, ADMIN_TEST_TOKEN, details, workerPath } from '../helpers/admin';
import { startBalancer, startWorker, stateDirPerTest, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * A balancer restarted with the same STATE_DIR serves the workers it knew at once: SIGTERM, then a new
 * process on the same port, while the workers keep running. Their heartbeat is ten minutes apart, so
 * nothing but the snapshot can have told the new balancer about them. An operator's drain survives too.
 */
const LONG_HEARTBEAT = { HEARTBEAT_INTERVAL_MS: '600000' };
const { running, dir: stateDir } = stateDirPerTest();

async function balancer(port?: number) {
  const proc = await startBalancer({
    STATE_DIR: stateDir(),
    LOG_LEVEL: 'info',
    ADMIN_TOKEN: ADMIN_TEST_TOKEN,
    // Longer than the test: only the snapshot's lastSeenAt and the TTL decide, never a heartbeat.
    REGISTRATION_TTL_MS: '600000',
    ...(port === undefined ? {} : { PORT: String(port) }),
  });
  running.push(proc);
  return proc;
}

async function worker(name: string, proc: RunningProcess) {
  const w = await startWorker(name, proc, LONG_HEARTBEAT);
  running.push(w);
  return w;
}

/** The server names of `n` requests sent one after another, with their statuses. */
async function servedBy(proc: { url: string }, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${proc.url}/`);
    const text = await res.text();
    names.push(`${res.status} ${/^Server: ([\w-]+),/.exec(text)?.[1] ?? text}`);
  }
  return names;
}

describe('a balancer restarted with the same STATE_DIR', () => {
  it('serves the workers it knew before their next heartbeat, keeps an operator’s drain, and keeps the file at mode 0600', async () => {
    const first = await balancer();
    const [one, two] = [await worker('one', first), await worker('two', first)];
    await waitForWorkers(first, [one.url, two.url]);
    expect((await adminCall(await first.adminUrl(), 'POST', workerPath('two', '/drain'))).status).toBe(200);
    await first.stop('SIGTERM');
    expect(first.child.exitCode).toBe(0);

    const second = await balancer(first.port);
    // The first answers, with no wait: the workers have not re-registered (their heartbeat is 10 minutes off).
    expect(await servedBy(second, 4)).toEqual(['200 one', '200 one', '200 one', '200 one']);
    expect((await details(second)).map((w) => [w.name, w.inRotation, w.drain?.by ?? null])).toEqual([
      ['one', true, null],
      ['two', false, 'admin'],
    ]);
    expect(second.output()).toContain('"msg":"registry restored from the snapshot"');
    expect(one.output() + two.output()).not.toContain('registration failed');

    // Ready again through the restarted balancer: the override it restored is the one it clears.
    expect((await adminCall(await second.adminUrl(), 'POST', workerPath('two', '/ready'))).status).toBe(200);
    await waitFor(async () => (await servedBy(second, 2)).includes('200 two'), 'two back in rotation');

    const file = join(stateDir(), 'registry.json');
    const read = () => JSON.parse(readFileSync(file, 'utf8')) as { workers: { name: string }[]; overrides: unknown[] };
    await waitFor(() => read().overrides.length === 0, 'the ready to reach the snapshot');
    expect(read().workers.map((w) => w.name)).toEqual(['one', 'two']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
