import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, startBalancer, startWorker, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/** How the gateway answers when a worker is missing, unreachable, slow, or its client leaves. */
describe('upstream failures', () => {
  const running: RunningProcess[] = [];
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('answers 503 with a JSON error and Retry-After when no worker is registered', async () => {
    const balancer = await startBalancer();
    running.push(balancer);
    const res = await fetch(`${balancer.url}/anything`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: 'no_worker', message: expect.any(String) });
  });

  it('answers 502 when the worker cannot be reached', async () => {
    const balancer = await startBalancer();
    running.push(balancer);
    const deadPort = await freePort(); // nothing listens there
    expect((await signedPost(balancer.url, 'register-worker', { url: `http://127.0.0.1:${deadPort}`, name: 'gone' })).status).toBe(201);
    const res = await fetch(`${balancer.url}/`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toBe('worker_unreachable');
    await waitFor(() => /upstream request failed/.test(balancer.output()) || undefined, 'the failure to be logged', 2000);
    expect(balancer.output()).not.toMatch(/\n\s+at /);
  });

  it('answers 504 when the worker does not answer within RESPONSE_TIMEOUT_MS', async () => {
    const balancer = await startBalancer({ RESPONSE_TIMEOUT_MS: '300' });
    running.push(balancer);
    const slow = await startWorker('slow', balancer, { WORKER_DELAY_MS: '3000' });
    running.push(slow);
    await waitFor(async () => ((await (await fetch(`${balancer.url}/workers`)).json()) as string[]).length === 1, 'registration');
    const res = await fetch(`${balancer.url}/`);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: string }).error).toBe('worker_timeout');
  });

  it('aborts the upstream request when the client disconnects, and keeps serving', async () => {
    let upstreamClosed = false;
    let reached = false;
    const hanging = createServer((req, res) => {
      reached = true;
      res.on('close', () => (upstreamClosed = !res.writableFinished));
      if (req.url === '/ok') res.end('fine'); // answers; /hang never does
    });
    servers.push(hanging);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    const balancer = await startBalancer();
    running.push(balancer);
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    expect((await signedPost(balancer.url, 'register-worker', { url, name: 'hanging' })).status).toBe(201);

    const req = request(`${balancer.url}/hang`);
    req.on('error', () => undefined);
    req.end();
    await waitFor(() => reached || undefined, 'request to reach upstream', 5000);
    expect(upstreamClosed).toBe(false);
    req.destroy();
    await waitFor(() => upstreamClosed || undefined, 'upstream request to be aborted', 5000);
    expect(await (await fetch(`${balancer.url}/ok`)).text()).toBe('fine');
  });
});
