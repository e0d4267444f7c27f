import { adminCall, auditLines, details, heartbeatAfter, startAdminBalancer, workerPath, type AdminBalancer } from '../helpers/admin';
import { startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * An operator's drain through the admin API, against a real balancer and real workers: the drained
 * worker takes no new request while the one it holds finishes, stays drained through its heartbeats
 * and a restart, and comes back on ready. A slow worker (every GET / takes SLOW_MS) holds a request in
 * flight; a fast one takes the rest.
 */

const SLOW_MS = '3000';
const running: RunningProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

/** A balancer and the slow worker, registered; its heartbeat every 200 ms. */
async function fleet(): Promise<{ proc: AdminBalancer; admin: string; slow: RunningProcess }> {
  const { proc, admin } = await startAdminBalancer();
  running.push(proc);
  const slow = await startWorker('slow', proc, { WORKER_DELAY_MS: SLOW_MS, HEARTBEAT_INTERVAL_MS: '200' });
  running.push(slow);
  await waitForWorkers(proc, [slow.url]);
  return { proc, admin, slow };
}

async function addFast(proc: AdminBalancer): Promise<RunningProcess> {
  const fast = await startWorker('fast', proc);
  running.push(fast);
  return fast;
}

/** The server names of `n` requests sent one after another. */
async function servedBy(proc: { url: string }, n: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = await (await fetch(`${proc.url}/`)).text();
    names.push(/^Server: ([\w-]+),/.exec(text)?.[1] ?? text);
  }
  return names;
}

const get = (proc: { url: string }) => fetch(`${proc.url}/`).then(async (r) => [r.status, await r.text()] as const);

describe('POST /admin/workers/:worker/drain and /ready', () => {
  it('sends a drained worker no new request while the one in flight finishes with 200, and sends it traffic again on ready', async () => {
    const { proc, admin, slow } = await fleet();
    // The fast worker starts drained, so the request held in flight is the slow one's; starting a worker
    // after it could outlast SLOW_MS on a loaded machine.
    const fast = await addFast(proc);
    await waitForWorkers(proc, [slow.url, fast.url]);
    expect((await adminCall(admin, 'POST', workerPath(fast.url, '/drain'))).status).toBe(200);
    const inFlight = get(proc);
    await waitFor(async () => (await details(proc)).some((w) => w.inflight > 0), 'a request in flight at the slow worker');
    expect((await adminCall(admin, 'POST', workerPath(fast.url, '/ready'))).status).toBe(200);

    const drained = await adminCall(admin, 'POST', workerPath(slow.url, '/drain'));
    expect(drained.status).toBe(200);
    expect(drained.body).toMatchObject({ url: slow.url, name: 'slow', inRotation: false, inflight: 1, drain: { by: 'admin' }, leaving: false });

    expect(await servedBy(proc, 6)).toEqual(Array(6).fill('fast'));
    const [status, text] = await inFlight;
    expect([status, text]).toEqual([200, expect.stringMatching(/^Server: slow,/)]);

    const ready = await adminCall(admin, 'POST', workerPath('slow', '/ready'));
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ url: slow.url, inRotation: true, drain: null });
    // Round robin over two: two requests at once reach both.
    const both = await Promise.all([get(proc), get(proc)]);
    expect(both.map(([, t]) => /^Server: (\w+)/.exec(t)?.[1]).sort()).toEqual(['fast', 'slow']);

    expect(auditLines(proc).map((l) => [l.action, (l.before as { drain: unknown }).drain, (l.after as { drain: unknown }).drain])).toEqual([
      // The fast worker's, around the request held in flight; then the slow worker's.
      ['drain worker', null, 'admin'],
      ['ready worker', 'admin', null],
      ['drain worker', null, 'admin'],
      ['ready worker', 'admin', null],
    ]);
  }, 60_000);

  it('keeps a drained worker drained through its heartbeats and a restart at the same URL, until ready', async () => {
    const { proc, admin, slow } = await fleet();
    const fast = await addFast(proc);
    await waitForWorkers(proc, [slow.url, fast.url]);
    const drainedAt = Date.now();
    const drain = (await adminCall(admin, 'POST', workerPath(slow.url, '/drain'))).body.drain as { since: string };

    // Heartbeats: the worker registers again every 200 ms with nothing to say about the drain.
    const afterBeat = await heartbeatAfter(proc, slow.url, drainedAt);
    expect(afterBeat).toMatchObject({ inRotation: false, drain });
    expect(await servedBy(proc, 4)).toEqual(Array(4).fill('fast'));

    // A restart: SIGTERM deregisters it, a new process on the same port registers it anew.
    await slow.stop();
    await waitForWorkers(proc, [fast.url]);
    const again = await startWorker('slow', proc, { PORT: String(slow.port), WORKER_DELAY_MS: SLOW_MS, HEARTBEAT_INTERVAL_MS: '200' });
    running.push(again);
    await waitForWorkers(proc, [slow.url, fast.url]);
    expect((await details(proc)).find((w) => w.url === slow.url)).toMatchObject({ inRotation: false, drain, leaving: false });
    expect(await servedBy(proc, 4)).toEqual(Array(4).fill('fast'));

    expect((await adminCall(admin, 'POST', workerPath(slow.url, '/ready'))).body).toMatchObject({ inRotation: true, drain: null });
    const both = await Promise.all([get(proc), get(proc)]);
    expect(both.map(([, t]) => /^Server: (\w+)/.exec(t)?.[1]).sort()).toEqual(['fast', 'slow']);
  }, 60_000);
});

describe("a worker's own leaving", () => {
  it('shows a worker that deregistered as draining by the worker while its request finishes, then drops it', async () => {
    const { proc, slow } = await fleet();
    const inFlight = get(proc);
    await waitFor(async () => (await details(proc)).some((w) => w.inflight > 0), 'a request in flight at the slow worker');
    const stopped = slow.stop();
    const leaving = await waitFor(async () => (await details(proc)).find((w) => w.leaving), 'the worker listed as leaving');
    expect(leaving).toMatchObject({ url: slow.url, inRotation: false, inflight: 1, drain: { by: 'worker' } });
    // The seed's array lists registered workers only; no new request reaches the leaving one.
    expect(await (await fetch(`${proc.url}/workers`)).json()).toEqual([]);
    expect((await fetch(`${proc.url}/`)).status).toBe(503);
    expect(await inFlight).toEqual([200, expect.stringMatching(/^Server: slow,/)]);
    await stopped;
    await waitFor(async () => (await details(proc)).length === 0, 'the leaving worker gone once its pool closed');
  }, 60_000);
});
