import { alive, send, sendUntilEveryProcess, servingPids, startFleetWorker, type FleetWorker } from '../helpers/fleet';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SNAPSHOT_FILE } from '../../balancer/state/state-dir';
import { startBalancer, tempStateDir, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/**
 * PROCESSES=2, the serving processes' lifecycle with real processes and signals: one killed (SIGKILL)
 * under a bounded loop of requests is forked again at once, the other serves meanwhile, and the
 * replacement starts from a fresh snapshot; SIGTERM to the primary drains every serving process
 * (a request in flight is answered) and the primary exits 0; a primary killed outright leaves each
 * serving process to finish its requests in flight and exit.
 */
describe('PROCESSES=2: serving processes die, are replaced, and drain', () => {
  let balancer: RunningProcess;
  let worker: FleetWorker;

  beforeEach(async () => {
    worker = await startFleetWorker();
    balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0' });
    expect((await signedPost(balancer.url, 'register-worker', { url: worker.url, name: 'w' })).status).toBe(201);
    for (let i = 0; i < 4; i++) await waitFor(async () => (await send(balancer.url, '/')).status === 200 || undefined, 'the worker served');
  });
  afterEach(async () => {
    await balancer.stop();
    await worker.close();
  });

  it('a serving process killed under load is forked again at once; only its own in-flight requests fail', async () => {
    const [victim, survivor] = await waitFor(() => (servingPids(balancer).length === 2 ? servingPids(balancer) : undefined), 'two serving processes');
    // Both processes' X-Request-Id prefixes, so the replacement's is the one new prefix afterwards.
    await sendUntilEveryProcess(balancer.url, [worker], 2);
    const servedBefore = new Set(worker.servedBy);
    let failed = 0;
    let served = 0;
    const deadline = Date.now() + 20_000;
    // Sequential, a new connection each: at most one request is in flight, on whichever process got it.
    for (let i = 0; i < 200 && Date.now() < deadline; i++) {
      if (i === 30) process.kill(victim, 'SIGKILL');
      const status = await send(balancer.url, '/').then(
        (a) => a.status,
        () => 0,
      );
      if (status === 200) served++;
      else failed++;
      if (i >= 90 && servingPids(balancer).length === 3) break;
    }
    expect(failed).toBeLessThanOrEqual(2);
    expect(served).toBeGreaterThanOrEqual(89);
    expect(alive(victim)).toBe(false);
    expect(alive(survivor)).toBe(true);
    const pids = await waitFor(() => (servingPids(balancer).length === 3 ? servingPids(balancer) : undefined), 'a replacement serving process');
    expect(pids.slice(0, 2)).toEqual([victim, survivor]);
    expect(balancer.output()).toContain('"msg":"a serving process died; forking a replacement"');

    // The replacement serves the worker registered before it was forked: its view came from a fresh snapshot.
    const seen = worker.servedBy.length;
    await sendUntilEveryProcess(balancer.url, [worker], 2);
    const servedAfter = new Set(worker.servedBy.slice(seen));
    expect(servedAfter.size).toBe(2);
    expect([...servedAfter].filter((by) => !servedBefore.has(by))).toHaveLength(1);
  });

  it('SIGTERM to the primary: each serving process drains, a request in flight is answered, the primary exits 0', async () => {
    const pids = await waitFor(() => (servingPids(balancer).length === 2 ? servingPids(balancer) : undefined), 'two serving processes');
    worker.delayMs = 1_000;
    const before = worker.servedBy.length;
    const inFlight = send(balancer.url, '/slow');
    await waitFor(() => worker.servedBy.length > before || undefined, 'the slow request at the worker');
    await balancer.stop('SIGTERM');
    expect((await inFlight).status).toBe(200);
    expect(balancer.child.exitCode).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(balancer.output().match(/"msg":"shutting down"/g)).toHaveLength(3);
    expect(balancer.output()).not.toContain('forking a replacement');
  });

  it('a primary killed (SIGKILL): each serving process finishes the request in flight, then exits', async () => {
    const pids = await waitFor(() => (servingPids(balancer).length === 2 ? servingPids(balancer) : undefined), 'two serving processes');
    worker.delayMs = 1_000;
    const before = worker.servedBy.length;
    const inFlight = send(balancer.url, '/slow');
    await waitFor(() => worker.servedBy.length > before || undefined, 'the slow request at the worker');
    await balancer.stop('SIGKILL');
    // PORT's socket went with the primary; the connection already accepted is the serving process's own.
    expect((await inFlight).status).toBe(200);
    await waitFor(() => pids.every((pid) => !alive(pid)) || undefined, 'both serving processes gone');
    expect(balancer.output().match(/"msg":"the primary is gone: finishing the requests under way, then exiting"/g)).toHaveLength(2);
  });

  it("a restart restores STATE_DIR's snapshot in the primary, and both new serving processes serve it at once", async () => {
    await balancer.stop();
    const stateDir = tempStateDir();
    try {
      balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', STATE_DIR: stateDir });
      expect((await signedPost(balancer.url, 'register-worker', { url: worker.url, name: 'w' })).status).toBe(201);
      await waitFor(() => readFileSync(join(stateDir, SNAPSHOT_FILE), 'utf8').includes(worker.url) || undefined, 'the snapshot written');
      await balancer.stop();
      // The test's worker never sends a heartbeat: only the snapshot can bring it back.
      balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0', STATE_DIR: stateDir, PORT: String(balancer.port) });
      const seen = worker.servedBy.length;
      await sendUntilEveryProcess(balancer.url, [worker], 2);
      expect(new Set(worker.servedBy.slice(seen)).size).toBe(2);
    } finally {
      await balancer.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
