import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runWorkerToExit } from '../helpers/exiting';
import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * A worker believes only the balancer's own answer, stops on a refusal no retry can fix (exit 1, the
 * reason in its output) and keeps retrying on what a fresh attempt can get past.
 */

/** An HTTP server on 127.0.0.1 that answers each POST with the next of `answers` (the last one repeats). */
async function fakeBalancer(
  answers: Array<(advertised: string) => { status: number; body: string }>,
): Promise<{ url: string; posts: string[]; close(): Promise<void> }> {
  const posts: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      posts.push(req.url ?? '');
      const advertised = (JSON.parse(body) as { url: string }).url;
      const answer = answers[Math.min(posts.length - 1, answers.length - 1)](advertised);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('what a worker makes of the answer to its registration', () => {
  const started: RunningProcess[] = [];
  const track = (p: RunningProcess) => (started.push(p), p);
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
  });

  it('appends /register-worker to a base LOAD_BALANCER_REGISTER and registers', async () => {
    const balancer = track(await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0' }));
    const worker = track(await startWorker('base-url', balancer, { LOAD_BALANCER_REGISTER: balancer.url }));
    await waitForWorkers(balancer, [worker.url]);
  });

  it('refuses a LOAD_BALANCER_REGISTER with another path at start, with exit 2', async () => {
    await expect(startWorker('wrong-path', { url: 'http://127.0.0.1:9' }, { LOAD_BALANCER_REGISTER: 'http://127.0.0.1:9/' + 'register' })).rejects.toThrow(
      /exited early \(2\)[\s\S]*LOAD_BALANCER_REGISTER=.*\/register-worker/,
    );
  });

  it("stops with exit 1 when the answer is some server's 200, not the balancer's", async () => {
    const fake = await fakeBalancer([() => ({ status: 200, body: '"Server: worker-2, Request count: 7"' })]);
    try {
      const worker = await runWorkerToExit(`${fake.url}/register-worker`, { LOG_LEVEL: 'info' });
      expect(worker.code).toBe(1);
      expect(worker.output).toContain('not the balancer');
      expect(worker.output).not.toContain('registered with balancer');
      expect(fake.posts).toEqual(['/register-worker']);
    } finally {
      await fake.close();
    }
  });

  it('stops with exit 1 when the balancer refuses its https url, saying why', async () => {
    const balancer = track(await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0' }));
    const worker = await runWorkerToExit(`${balancer.url}/register-worker`, { WORKER_URL: 'https://127.0.0.1:8443' });
    expect(worker.code).toBe(1);
    expect(worker.output).toContain('https:// workers are not supported yet');
  });

  it('stops with exit 1 on a wrong secret, saying the secrets differ', async () => {
    const balancer = track(await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0' }));
    const worker = await runWorkerToExit(`${balancer.url}/register-worker`, { REGISTRATION_SECRET: 'another-secret-0123456789' });
    expect(worker.code).toBe(1);
    expect(worker.output).toContain("REGISTRATION_SECRET is not the balancer's");
  });

  it('keeps retrying through a 503 and a stale timestamp, then registers', async () => {
    const fake = await fakeBalancer([
      () => ({ status: 503, body: '{"error":"no_worker","message":"busy"}' }),
      () => ({ status: 401, body: '{"error":"stale_timestamp","message":"clock"}' }),
      (url) => ({ status: 201, body: JSON.stringify({ url, status: 'created' }) }),
    ]);
    try {
      const worker = track(await startWorker('patient', fake, { LOG_LEVEL: 'info' }));
      await waitFor(() => worker.output().includes('registered with balancer'), 'the worker to register');
      expect(fake.posts.slice(0, 3)).toEqual(['/register-worker', '/register-worker', '/register-worker']);
      expect(worker.child.exitCode).toBeNull();
    } finally {
      await fake.close();
    }
  });
});
