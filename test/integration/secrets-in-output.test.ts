import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { generateNonce, sign, signedPayload } from '../../utils/auth';
import { runWorkerToExit } from '../helpers/exiting';
import { DIST, startBalancer, startWorker, waitFor, type RunningProcess } from '../helpers/processes';
import { postRaw, signedPost } from '../helpers/registration';

/**
 * No secret appears in any log line or error message. Every refusal path of real processes runs with
 * known secrets at the most verbose log level, and all they printed is searched for them.
 */
const SECRET = 'known-secret-b4e1f0c2a9d84e7f';
const WORKER_SECRET = 'workers-own-secret-7d3a9c1e55';
const SHORT = 'short-known-5x';
const ADMIN_TOKEN = 'known-admin-token-9f2c4e7a1b';
const VERBOSE = { LOG_LEVEL: 'trace' };

function runToExit(script: string, env: Record<string, string>): string {
  const result = spawnSync(process.execPath, [join(DIST, script)], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...VERBOSE, ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  expect(result.status).toBe(2);
  return result.stdout + result.stderr;
}

describe('secrets in output', () => {
  const printed: string[] = [];
  afterAll(() => {
    const all = printed.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [SECRET, WORKER_SECRET, SHORT, ADMIN_TOKEN]) expect(all).not.toContain(secret);
  });

  it('a configuration error shows a bad secret by its length only', () => {
    const balancer = runToExit('load-balancer-server.js', { REGISTRATION_SECRET: SHORT });
    const shortToken = runToExit('load-balancer-server.js', { REGISTRATION_SECRET: SECRET, ADMIN_TOKEN: SHORT });
    const worker = runToExit('workers/worker-server.js', { REGISTRATION_SECRET: SHORT, LOAD_BALANCER_REGISTER: 'http://127.0.0.1:9' });
    const wrongPath = runToExit('workers/worker-server.js', { REGISTRATION_SECRET: SECRET, LOAD_BALANCER_REGISTER: 'http://127.0.0.1:9/register' });
    printed.push(balancer, shortToken, worker, wrongPath);
    expect(shortToken).toContain('ADMIN_TOKEN=(hidden, 14 characters)');
    expect(balancer).toContain('REGISTRATION_SECRET=(hidden, 14 characters)');
    expect(worker).toContain('REGISTRATION_SECRET=(hidden, 14 characters)');
    expect(wrongPath).toContain('LOAD_BALANCER_REGISTER=');
  });

  it('every refused registration leaves the secret out of both sides', async () => {
    const processes: RunningProcess[] = [];
    try {
      const balancer = await startBalancer({ REGISTRATION_SECRET: SECRET, HEALTH_CHECK_INTERVAL_MS: '0', WORKER_ALLOW: '127.0.0.0/8', ...VERBOSE });
      processes.push(balancer);
      const body = (fields: Record<string, unknown> = {}) =>
        JSON.stringify({ url: 'http://127.0.0.1:65030', name: 'x', timestamp: Date.now(), nonce: generateNonce(), ...fields });
      const send = (b: string, secret = SECRET) => postRaw(balancer.url, 'register-worker', b, sign(b, secret));
      const statuses: number[] = [];
      statuses.push((await postRaw(balancer.url, 'register-worker', body())).status); // no signature
      statuses.push((await send(body(), WORKER_SECRET)).status); // bad signature
      statuses.push((await send(body({ timestamp: Date.now() - 60_000 }))).status); // stale
      statuses.push((await send(body({ timestamp: Date.now() - 20_000 }))).status); // signed before the balancer started
      statuses.push((await send('{"url": ')).status); // malformed JSON
      statuses.push((await send(body({ url: 'http://169.254.169.254' }))).status); // forbidden address
      statuses.push((await send(body({ url: 'https://127.0.0.1:8443' }))).status); // https
      statuses.push((await send(body({ url: 'http://[::1]:65031' }))).status); // outside WORKER_ALLOW
      statuses.push((await send(body({ name: 'y'.repeat(70_000) }))).status); // too large
      const once = signedPayload({ url: 'http://127.0.0.1:65032', name: 'once' }, SECRET);
      statuses.push((await postRaw(balancer.url, 'register-worker', once.body, once.signature)).status);
      statuses.push((await postRaw(balancer.url, 'register-worker', once.body, once.signature)).status); // replayed
      statuses.push((await signedPost(balancer.url, 'deregister-worker', { url: 'http://127.0.0.1:65099' }, SECRET)).status); // unknown worker
      statuses.push((await fetch(`${balancer.url}/register-worker`)).status); // wrong method
      expect(statuses).toEqual([401, 401, 401, 401, 400, 400, 400, 403, 413, 201, 401, 404, 405]);

      const register = `${balancer.url}/register-worker`;
      const refused = await Promise.all([
        runWorkerToExit(register, { REGISTRATION_SECRET: WORKER_SECRET, ...VERBOSE }),
        runWorkerToExit(register, { REGISTRATION_SECRET: SECRET, WORKER_URL: 'https://127.0.0.1:8443', ...VERBOSE }),
      ]);
      printed.push(...refused.map((r) => r.output));
      expect(refused.map((r) => r.code)).toEqual([1, 1]);
      const good = await startWorker('good', balancer, { REGISTRATION_SECRET: SECRET, ...VERBOSE });
      processes.push(good);
      await waitFor(() => good.output().includes('registered with balancer'), 'the good worker to register');
      await good.stop();
      await balancer.stop();
      expect(balancer.output()).toContain('control request refused');
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      printed.push(...processes.map((p) => p.output()));
    }
  });

  it('the admin token stays out of the output, whatever the admin routes are sent', async () => {
    const balancer = await startBalancer({ ADMIN_TOKEN, HEALTH_CHECK_INTERVAL_MS: '0', ...VERBOSE });
    try {
      const admin = await balancer.adminUrl();
      const drain = (authorization?: string) =>
        fetch(`${admin}/admin/drain`, { method: 'POST', headers: authorization === undefined ? {} : { authorization } }).then(async (r) => {
          const text = await r.text();
          expect(text).not.toContain(ADMIN_TOKEN); // nor in an answer
          return r.status;
        });
      const statuses = [
        await drain(),
        await drain(`Bearer ${ADMIN_TOKEN.slice(0, -1)}`),
        await drain(`Bearer ${ADMIN_TOKEN}${ADMIN_TOKEN}`),
        await drain(`Basic ${ADMIN_TOKEN}`),
        await drain(`Bearer ${ADMIN_TOKEN}`),
      ];
      expect(statuses).toEqual([401, 401, 401, 401, 202]);
      await waitFor(() => balancer.child.exitCode !== null, 'the drained balancer to exit');
      expect(balancer.output()).toContain('"admin change"');
      expect(balancer.output()).toContain('"admin request refused"');
    } finally {
      await balancer.stop();
      printed.push(balancer.output());
    }
  });
});
