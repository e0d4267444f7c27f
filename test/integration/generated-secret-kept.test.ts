import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startBalancer, startWorker, stateDirPerTest, waitForWorkers } from '../helpers/processes';

/**
 * A balancer started without REGISTRATION_SECRET prints the one it generates once, keeps it in
 * STATE_DIR/secret, and reuses it at the next start, naming the file and never the value: a worker
 * given the printed secret registers with the restarted balancer.
 */
const { running, dir: stateDir } = stateDirPerTest();

// An empty REGISTRATION_SECRET is unset; trace, so every line the balancer can write is searched.
const GENERATE = { REGISTRATION_SECRET: '', LOG_LEVEL: 'trace', HEALTH_CHECK_INTERVAL_MS: '0' };

describe('the generated REGISTRATION_SECRET', () => {
  it('survives a restart with the same STATE_DIR, and appears in no output after its first print', async () => {
    const first = await startBalancer({ STATE_DIR: stateDir(), ...GENERATE });
    running.push(first);
    const printed = /^REGISTRATION_SECRET=([0-9a-f]{64})$/m.exec(first.output());
    expect(printed).not.toBeNull();
    const secret = printed![1];
    const path = join(stateDir(), 'secret');
    expect(readFileSync(path, 'utf8')).toBe(`${secret}\n`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await first.stop();

    const second = await startBalancer({ STATE_DIR: stateDir(), PORT: String(first.port), ...GENERATE });
    running.push(second);
    expect(second.output()).toContain(`"msg":"reusing the generated secret from ${path}"`);
    const worker = await startWorker('w', second, { REGISTRATION_SECRET: secret, LOG_LEVEL: 'trace' });
    running.push(worker);
    await waitForWorkers(second, [worker.url]);
    await Promise.all([worker.stop(), second.stop()]);

    // The first balancer's output once, in its print; nowhere else, in any process.
    expect(first.output().split(secret)).toHaveLength(2);
    expect(second.output()).not.toContain(secret);
    expect(worker.output()).not.toContain(secret);
  });
});
