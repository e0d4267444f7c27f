import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DIST, freePort, startBalancer, waitFor } from '../../helpers/processes';

/**
 * REDIS_URL may hold a password: the balancer names Redis by host:port only, in its start line and in
 * its outage line, at the most verbose log level; a malformed REDIS_URL is refused by its length.
 * Nothing listens on the Redis port here, so no redis-server is needed.
 */
const PASSWORD = 'redis-password-3c9e1a7f5b';

test('a REDIS_URL password appears in no log line, the outage line included', async () => {
  const port = await freePort();
  const balancer = await startBalancer({ REDIS_URL: `redis://lb:${PASSWORD}@127.0.0.1:${port}/0`, LOG_LEVEL: 'trace', HEALTH_CHECK_INTERVAL_MS: '0' });
  try {
    await waitFor(() => balancer.output().includes('shared registry (Redis) unreachable'), 'the outage line');
    // Still serving from its local view: the control plane answers.
    expect((await fetch(`${balancer.url}/workers`)).status).toBe(200);
    expect(balancer.output()).toContain(`"redis":"127.0.0.1:${port}"`);
    expect(balancer.output()).not.toContain(PASSWORD);
  } finally {
    await balancer.stop();
  }
  expect(balancer.output()).not.toContain(PASSWORD);
});

test('a malformed REDIS_URL is refused at start, shown by its length only', () => {
  const url = `http://lb:${PASSWORD}@127.0.0.1:6379`;
  const result = spawnSync(process.execPath, [join(DIST, 'load-balancer-server.js')], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', STATE_DIR: 'off', REDIS_URL: url },
    encoding: 'utf8',
    timeout: 10_000,
  });
  expect(result.status).toBe(2);
  expect(result.stdout + result.stderr).toContain(`REDIS_URL=(hidden, ${url.length} characters)`);
  expect(result.stdout + result.stderr).not.toContain(PASSWORD);
});
