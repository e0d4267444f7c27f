import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBalancer, startWorker, stateDirPerTest, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * What cannot be kept is said once and costs nothing else: a corrupt snapshot is one warn line and an
 * empty registry (rewritten at the next change), and a STATE_DIR that cannot be created is one warn
 * line and a balancer that works as it did before STATE_DIR existed.
 */
const { running, dir: stateDir } = stateDirPerTest();

const warnings = (proc: RunningProcess) =>
  proc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .filter((l) => l.level === 40)
    .map((l) => l.msg);

/** A balancer with `env`, a worker registered with it and served through it. */
async function servingFleet(env: Record<string, string>) {
  const balancer = await startBalancer({ LOG_LEVEL: 'info', ...env });
  running.push(balancer);
  const worker = await startWorker('w', balancer);
  running.push(worker);
  await waitForWorkers(balancer, [worker.url]);
  const res = await fetch(`${balancer.url}/`);
  expect([res.status, await res.text()]).toEqual([200, expect.stringMatching(/^Server: w,/)]);
  return { balancer, worker };
}

describe('a STATE_DIR the balancer cannot use', () => {
  it('a corrupt snapshot: one warn line, an empty registry, and a valid snapshot again at the next change', async () => {
    const file = join(stateDir(), 'registry.json');
    writeFileSync(file, '{"version": 1, "workers": [{"url": "http://127.0.0.1:1", "na', { mode: 0o600 });
    const balancer = await startBalancer({ STATE_DIR: stateDir(), LOG_LEVEL: 'info' });
    running.push(balancer);
    expect(await (await fetch(`${balancer.url}/workers`)).json()).toEqual([]);
    const worker = await startWorker('w', balancer);
    running.push(worker);
    await waitForWorkers(balancer, [worker.url]);
    const written = await waitFor(() => {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { workers: { url: string }[] };
      return parsed.workers.length === 1 ? parsed : undefined;
    }, 'the snapshot rewritten');
    expect(written.workers.map((w) => w.url)).toEqual([worker.url]);
    expect(warnings(balancer)).toEqual(['the registry snapshot is not usable; starting with an empty registry']);
  });

  it('a STATE_DIR that cannot be created: one warn line, and the balancer serves as before', async () => {
    writeFileSync(join(stateDir(), 'a-file'), '');
    const { balancer } = await servingFleet({ STATE_DIR: join(stateDir(), 'a-file', 'state') });
    await balancer.stop();
    expect(balancer.child.exitCode).toBe(0);
    expect(warnings(balancer)).toEqual(['STATE_DIR is not writable: the registry and a generated REGISTRATION_SECRET will not survive a restart']);
  });
});
