import { Agent } from 'node:http';
import { signedPayload } from '../../utils/auth';
import { alive, send, sendUntilEveryProcess, servingPids, startFleetWorker, type FleetWorker } from '../helpers/fleet';
import { startBalancer, TEST_SECRET, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/**
 * PROCESSES=2 with real processes: the primary owns the registry and probes each worker once; the
 * control paths work on PORT whichever serving process gets the connection; each serving process
 * proxies from its own view; a serving process whose primary does not answer a registration answers
 * 503 registry_unavailable, and keeps proxying.
 */
describe('PROCESSES=2: one primary, two serving processes', () => {
  let balancer: RunningProcess;
  let worker: FleetWorker;

  beforeEach(async () => {
    worker = await startFleetWorker();
  });
  afterEach(async () => {
    await balancer.stop();
    await worker.close();
  });

  it('a registration on PORT reaches both serving processes, each proxies, and the primary alone probes', async () => {
    balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '200' });
    const pids = await waitFor(() => (servingPids(balancer).length === 2 ? servingPids(balancer) : undefined), 'two serving processes');
    expect(new Set([...pids, balancer.child.pid])).toHaveProperty('size', 3);

    expect((await signedPost(balancer.url, 'register-worker', { url: worker.url, name: 'w' })).status).toBe(201);
    // Each request on a new connection: the round robin alternates the two processes (two X-Request-Id prefixes).
    await waitFor(async () => (await send(balancer.url, '/workers')).body === JSON.stringify([worker.url]) || undefined, 'the worker listed');
    await sendUntilEveryProcess(balancer.url, [worker], 2);
    expect(new Set(worker.servedBy).size).toBe(2);
    // One Via token for the whole balancer, so the loop guard knows a request back from any process.
    expect(new Set(worker.vias).size).toBe(1);
    expect(worker.vias[0]).toMatch(/^1\.1 lb-[0-9a-f]{8}$/);
    for (let i = 0; i < 6; i++) expect(JSON.parse((await send(balancer.url, '/workers')).body)).toEqual([worker.url]);

    // Once per worker: 200 ms apart over 2 s is at most 11 probes from one prober (two would send about 20).
    const before = worker.probes;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const probes = worker.probes - before;
    expect(probes).toBeGreaterThan(0);
    expect(probes).toBeLessThanOrEqual(12);
  });

  it('a worker registered at the balancer itself: 508 at its first return, whichever serving process it reaches', async () => {
    balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', RETRY_ATTEMPTS: '0', ACCESS_LOG: 'json' });
    expect((await signedPost(balancer.url, 'register-worker', { url: balancer.url, name: 'myself' })).status).toBe(201);
    await waitFor(async () => (JSON.parse((await send(balancer.url, '/workers')).body) as string[]).length === 1 || undefined, 'the listing');
    await waitFor(async () => (JSON.parse((await send(balancer.url, '/workers')).body) as string[]).length === 1 || undefined, 'the listing');
    for (let i = 0; i < 4; i++) {
      const res = await send(balancer.url, '/');
      expect(res.status).toBe(508);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'loop_detected' });
    }
    // One hop each: the client's request in one process, its return caught in the other; two access lines
    // per request. With a token per process the return would pass the second process and come back a third time.
    const accessLines = () => (balancer.output().match(/"msg":"access"/g) ?? []).length;
    await waitFor(() => accessLines() >= 8 || undefined, 'eight access lines');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(accessLines()).toBe(8);
    expect(balancer.output().match(/"msg":"request loop/g)).toHaveLength(4);
  });

  it('a generated secret is handed to the serving processes and printed once, by the primary', async () => {
    balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'trace', REGISTRATION_SECRET: '', HEALTH_CHECK_INTERVAL_MS: '0' });
    const secret = /^REGISTRATION_SECRET=([0-9a-f]{64})$/m.exec(balancer.output())![1];
    expect(secret).not.toBe(TEST_SECRET);
    // Two registrations on new connections: one lands in each serving process, both verify with the primary's secret.
    for (const name of ['first', 'second']) {
      const { body, signature } = signedPayload({ url: worker.url, name }, secret);
      const res = await send(balancer.url, '/register-worker', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-signature': signature },
      });
      expect(res.status).toBeLessThan(300);
    }
    await balancer.stop();
    expect(balancer.output().split(secret)).toHaveLength(2);
  });

  it('a registration the primary does not answer is 503 registry_unavailable; proxying goes on meanwhile', async () => {
    balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0' });
    expect((await signedPost(balancer.url, 'register-worker', { url: worker.url, name: 'w' })).status).toBe(201);
    // One kept-alive connection, opened before the primary stops: it stays with its serving process.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await waitFor(async () => (await send(balancer.url, '/', { agent })).status === 200 || undefined, 'the worker served');
    process.kill(balancer.child.pid!, 'SIGSTOP');
    try {
      expect((await send(balancer.url, '/', { agent })).status).toBe(200);
      const { body, signature } = signedPayload({ url: worker.url, name: 'w' }, TEST_SECRET);
      const refused = await send(balancer.url, '/register-worker', {
        method: 'POST',
        body,
        agent,
        headers: { 'content-type': 'application/json', 'x-signature': signature },
      });
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(JSON.parse(refused.body)).toEqual({ error: 'registry_unavailable', message: 'the registry did not answer in time; retry shortly' });
      expect((await send(balancer.url, '/', { agent })).status).toBe(200);
    } finally {
      process.kill(balancer.child.pid!, 'SIGCONT');
      agent.destroy();
    }
    expect(balancer.output()).toContain('"msg":"control request not applied: registry unavailable"');
    for (const pid of servingPids(balancer)) expect(alive(pid)).toBe(true);
  });
});
