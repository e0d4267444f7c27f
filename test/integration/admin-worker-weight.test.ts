import { adminCall, auditLines, details, heartbeatAfter, startAdminBalancer, workerPath } from '../helpers/admin';
import { countBy } from '../helpers/load';
import { startWorker, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * PUT /admin/workers/:worker/weight against a real balancer running smooth weighted round robin and real
 * workers: the operator's weight steers the traffic and beats the weight the worker keeps registering
 * with, until {"weight": null} gives the registered one back; a body that is not one valid weight changes nothing.
 */

const running: RunningProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

/** How many of `n` sequential requests each worker served. */
async function split(proc: { url: string }, n: number): Promise<Record<string, number>> {
  const names: { server?: string }[] = [];
  for (let i = 0; i < n; i++) names.push({ server: /^Server: (\w+),/.exec(await (await fetch(`${proc.url}/`)).text())?.[1] });
  return countBy(names, (x) => x.server);
}

describe('PUT /admin/workers/:worker/weight', () => {
  it("steers traffic by the operator's weight through heartbeats, until reset to the registered weight", async () => {
    const { proc, admin } = await startAdminBalancer({ STRATEGY: 'weighted-round-robin' });
    running.push(proc);
    const heavy = await startWorker('heavy', proc, { WORKER_WEIGHT: '2', HEARTBEAT_INTERVAL_MS: '200' });
    const light = await startWorker('light', proc, { HEARTBEAT_INTERVAL_MS: '200' });
    running.push(heavy, light);
    await waitForWorkers(proc, [heavy.url, light.url]);

    const setAt = Date.now();
    const set = await adminCall(admin, 'PUT', workerPath('heavy', '/weight'), { body: '{"weight": 9}' });
    expect(set).toEqual({ status: 200, body: expect.objectContaining({ url: heavy.url, weight: 9, registeredWeight: 2, weightOverride: 9 }) });
    // The worker keeps registering with weight 2; the operator's 9 stays.
    expect(await heartbeatAfter(proc, heavy.url, setAt)).toMatchObject({ weight: 9, registeredWeight: 2 });
    // Smooth WRR gives 9:1 within a pick or two over any 40 picks, whatever its state at the change.
    const steered = await split(proc, 40);
    expect(steered.heavy).toBeGreaterThanOrEqual(34);
    expect(steered.heavy).toBeLessThanOrEqual(38);

    const reset = await adminCall(admin, 'PUT', workerPath(heavy.url, '/weight'), { body: '{"weight": null}' });
    expect(reset.body).toMatchObject({ weight: 2, registeredWeight: 2, weightOverride: null });
    expect(await heartbeatAfter(proc, heavy.url, Date.now())).toMatchObject({ weight: 2 });
    const back = await split(proc, 30);
    expect(back.heavy).toBeGreaterThanOrEqual(18);
    expect(back.heavy).toBeLessThanOrEqual(22);

    expect(auditLines(proc).map((l) => [l.action, (l.before as { weight: number }).weight, (l.after as { weight: number }).weight])).toEqual([
      ['set worker weight', 2, 9],
      ['reset worker weight', 9, 2],
    ]);
  }, 60_000);

  it('refuses a body that is not one weight of 1-1000 (or null) with a message saying what to send, and changes nothing', async () => {
    const { proc, admin } = await startAdminBalancer();
    running.push(proc);
    const worker = await startWorker('w', proc, { WORKER_WEIGHT: '4' });
    running.push(worker);
    await waitForWorkers(proc, [worker.url]);
    const refusals: [string, string | undefined, number, string][] = [
      ['{"weight": 0}', undefined, 400, 'invalid_weight'],
      ['{"weight": 1001}', undefined, 400, 'invalid_weight'],
      ['{"weight": 2.5}', undefined, 400, 'invalid_weight'],
      ['{"weight": "3"}', undefined, 400, 'invalid_weight'],
      ['{}', undefined, 400, 'invalid_weight'],
      ['{"weight": 3, "drain": true}', undefined, 400, 'invalid_weight'],
      ['[3]', undefined, 400, 'invalid_weight'],
      ['weight=3', undefined, 400, 'malformed_json'],
      ['', undefined, 400, 'malformed_json'],
      ['{"weight": 3}', 'text/plain', 415, 'unsupported_media_type'],
      [`{"weight": 3, "pad": "${'x'.repeat(2000)}"}`, undefined, 413, 'body_too_large'],
    ];
    for (const [body, contentType, status, error] of refusals) {
      const res = await adminCall(admin, 'PUT', workerPath('w', '/weight'), { body, contentType });
      expect({ body: body.slice(0, 40), status: res.status, error: res.body.error }).toEqual({ body: body.slice(0, 40), status, error });
      expect(res.body.message).toContain('{"weight": null}');
    }
    expect((await details(proc))[0]).toMatchObject({ weight: 4, weightOverride: null });
    expect(auditLines(proc)).toEqual([]);
    // The listener still serves, on a fresh connection after the 413 closed its own.
    expect((await adminCall(admin, 'PUT', workerPath('w', '/weight'), { body: '{"weight": 1000}' })).body).toMatchObject({ weight: 1000 });
  }, 60_000);
});
