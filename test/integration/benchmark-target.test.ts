import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isLoopbackTarget } from '../../bench/suites/target';
import { DIST, startBalancer, startWorker, waitForWorkers, type RunningProcess } from '../helpers/processes';

const run = promisify(execFile);
const benchmark = (args: string[]) => run(process.execPath, [join(DIST, 'benchmark.js'), ...args], { timeout: 30_000 });

describe('npm run benchmark -- --target: load against a balancer that is already running', () => {
  const started: RunningProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
  });

  it('sends bounded load through the running balancer and reports which workers answered', async () => {
    const balancer = await startBalancer();
    started.push(balancer);
    const workers = await Promise.all(['alpha', 'beta'].map((name) => startWorker(name, balancer)));
    started.push(...workers);
    await waitForWorkers(
      balancer,
      workers.map((w) => w.url),
    );
    const { stdout } = await benchmark(['--target', `${balancer.url}/`, '--duration', '2', '--connections', '2']);
    expect(stdout).toMatch(/alpha \d+%/);
    expect(stdout).toMatch(/beta \d+%/);
  });

  it('refuses a target that is not on this machine, before connecting anywhere (.invalid never resolves: RFC 6761)', async () => {
    await expect(benchmark(['--target', 'http://example.invalid/', '--duration', '1'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--target must be an http URL on this machine') as unknown,
    });
  });

  it.each([
    ['http://127.0.0.1:9080/', true],
    ['http://127.10.0.1/', true],
    ['http://localhost:9080', true],
    ['http://[::1]:9080/', true],
    ['http://[::ffff:192.0.2.1]/', false],
    ['http://192.0.2.1/', false],
    ['http://127.0.0.1.example.com/', false],
    ['ftp://127.0.0.1/', false],
    ['not a url', false],
  ])('isLoopbackTarget(%s) is %s', (url, expected) => {
    expect(isLoopbackTarget(url)).toBe(expected);
  });
});
