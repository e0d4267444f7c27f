import { pinnedConnections, send, sendUntilEveryProcess, startFleetWorker, type FleetWorker } from '../helpers/fleet';
import { startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/**
 * PROCESSES=2, health fleet-wide, with real processes: a worker failing its exchanges in both
 * serving processes is ejected by the primary's outlier detector (a serving process has none of its
 * own) and is out of every process's rotation within a second; a worker failing its active checks
 * (probed by the primary alone) leaves every rotation, and comes back to every one.
 */
describe('PROCESSES=2: health verdicts reach every serving process', () => {
  let balancer: RunningProcess;
  let bad: FleetWorker;
  let good: FleetWorker;

  beforeEach(async () => {
    [bad, good] = await Promise.all([startFleetWorker(), startFleetWorker()]);
  });
  afterEach(async () => {
    await balancer.stop();
    await Promise.all([bad.close(), good.close()]);
  });

  async function register(env: Record<string, string>) {
    balancer = await startBalancer({ PROCESSES: '2', LOG_LEVEL: 'info', RETRY_ATTEMPTS: '0', PANIC_THRESHOLD_PERCENT: '0', ...env });
    for (const worker of [bad, good]) expect((await signedPost(balancer.url, 'register-worker', { url: worker.url, name: 'w' })).status).toBe(201);
    // Both serving processes list both (each request on a new connection goes to the next process).
    for (let i = 0; i < 4; i++)
      await waitFor(async () => (JSON.parse((await send(balancer.url, '/workers')).body) as string[]).length === 2 || undefined, 'both workers');
  }

  it('a worker failing in both serving processes is ejected by the primary and out of every rotation within a second', async () => {
    await register({ HEALTH_CHECK_INTERVAL_MS: '0', OUTLIER_CONSECUTIVE_FAILURES: '4', OUTLIER_BASE_EJECTION_MS: '60000' });
    // One connection held in each serving process, used in turn: the worker's failures come from both.
    const connections = await pinnedConnections(balancer.url, [bad, good], 2);
    // What it saw before (finding the connections' processes) was answered, and is not counted below.
    const before = bad.servedBy.length;
    bad.failing = true;
    const ejected = () =>
      balancer
        .output()
        .split('\n')
        .find((line) => line.includes('"msg":"worker ejected after consecutive failures"'));
    for (let i = 0; i < 40 && ejected() === undefined; i++) await send(balancer.url, '/', { agent: connections[i % 2] });
    for (const agent of connections) agent.destroy();
    const line = await waitFor(ejected, 'the primary ejecting the failing worker');
    const { time, worker, name } = JSON.parse(line) as { time: string; worker: string; name: string };
    expect([worker, name]).toEqual([bad.url, 'balancer']);
    // Its failures came through both serving processes, and the primary counted them together.
    expect(new Set(bad.servedBy.slice(before)).size).toBe(2);
    const ejectedAt = Date.parse(time);

    const answers: { at: number; status: number }[] = [];
    for (let i = 0; i < 100 && Date.now() < ejectedAt + 1_500; i++) answers.push({ at: Date.now(), status: (await send(balancer.url, '/')).status });
    for (let i = 0; i < 10; i++) answers.push({ at: Date.now(), status: (await send(balancer.url, '/')).status });
    const failedLate = answers.filter((a) => a.status !== 200 && a.at >= ejectedAt + 1_000);
    expect(failedLate).toEqual([]);
    expect(answers.slice(-10).map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(bad.servedBy.length - before).toBeLessThanOrEqual(6);
  });

  it("a worker failing in one serving process only is ejected by the primary, and out of the other's rotation within a second", async () => {
    await register({ HEALTH_CHECK_INTERVAL_MS: '0', OUTLIER_CONSECUTIVE_FAILURES: '4', OUTLIER_BASE_EJECTION_MS: '60000' });
    await sendUntilEveryProcess(balancer.url, [bad, good], 2);
    const processes = [...new Set([...bad.servedBy, ...good.servedBy])];
    expect(processes).toHaveLength(2);
    // The worker fails only what one process sends it: the other sees nothing but successes from it.
    bad.failFor = processes[0];
    const line = await waitFor(
      async () => {
        await send(balancer.url, '/');
        return balancer
          .output()
          .split('\n')
          .find((l) => l.includes('"msg":"worker ejected after consecutive failures"'));
      },
      'the primary ejecting the worker',
      10_000,
    );
    const ejectedAt = Date.parse((JSON.parse(line) as { time: string }).time);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, ejectedAt + 1_000 - Date.now())));
    const [badSeen, goodSeen] = [bad.servedBy.length, good.servedBy.length];
    await sendUntilEveryProcess(balancer.url, [good], 2);
    // Neither process sent it anything a second after the ejection; both kept serving (the good worker saw both).
    expect(bad.servedBy.length).toBe(badSeen);
    expect(new Set(good.servedBy.slice(goodSeen))).toEqual(new Set(processes));
  });

  it('a worker failing its active checks leaves every rotation, and comes back to every one', async () => {
    await register({ HEALTH_CHECK_INTERVAL_MS: '100', UNHEALTHY_THRESHOLD: '2', HEALTHY_THRESHOLD: '2', OUTLIER_CONSECUTIVE_FAILURES: '0' });
    bad.probeFailing = true;
    await waitFor(() => balancer.output().includes('"msg":"worker marked unhealthy by health checks"') || undefined, 'the primary marking it unhealthy');
    // Ten new connections, five per serving process: every one of them leaves the unhealthy worker out.
    await waitFor(
      async () => {
        const before = bad.servedBy.length;
        for (let i = 0; i < 10; i++) expect((await send(balancer.url, '/')).status).toBe(200);
        return bad.servedBy.length === before || undefined;
      },
      'the unhealthy worker out of both rotations',
      2_000,
    );
    bad.probeFailing = false;
    await waitFor(() => balancer.output().includes('"msg":"worker healthy again"') || undefined, 'the primary finding it healthy');
    await waitFor(
      async () => {
        const seen = bad.servedBy.length;
        for (let i = 0; i < 8; i++) await send(balancer.url, '/');
        return bad.servedBy.slice(seen).length > 0 && new Set(bad.servedBy.slice(seen)).size === 2 ? true : undefined;
      },
      'the healthy worker back in both rotations',
      2_000,
    );
  });
});
