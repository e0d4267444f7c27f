import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * The admin listener (issue 12): a second port, apart from the gateway's, with read-only probes open to
 * anyone who can reach it and changing routes behind ADMIN_TOKEN. Real balancer processes, admin port
 * picked by the kernel (ADMIN_PORT=0) and read from the "admin listening" log line.
 */

const TOKEN = 'admin-token-0123456789abcdef-do-not-print';
const INFO = { LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL_MS: '0' };

type AdminBalancer = RunningProcess & { adminUrl(): Promise<string> };
const running: RunningProcess[] = [];
async function balancer(env: Record<string, string> = {}): Promise<{ proc: AdminBalancer; admin: string }> {
  const proc = await startBalancer({ ...INFO, ...env });
  running.push(proc);
  return { proc, admin: await proc.adminUrl() };
}

function exitCode(proc: RunningProcess): Promise<number | null> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

const auditLines = (proc: RunningProcess) =>
  proc
    .output()
    .split('\n')
    .filter((l) => l.includes('"admin change"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

/** Waits until the balancer has the request at its worker (GET /workers?details=1 counts it in flight). */
async function requestInFlight(proc: RunningProcess): Promise<void> {
  await waitFor(async () => {
    const details = (await (await fetch(`${proc.url}/workers?details=1`)).json()) as { workers: { inflight: number }[] };
    return details.workers.some((w) => w.inflight > 0);
  }, 'the request to be in flight at the worker');
}

describe('the admin listener', () => {
  it('listens on its own port, logged with its host, and answers /healthz there, not on the public port', async () => {
    const { proc, admin } = await balancer();
    expect(new URL(admin).hostname).toBe('127.0.0.1');
    expect(Number(new URL(admin).port)).not.toBe(proc.port);
    const res = await fetch(`${admin}/healthz`);
    expect([res.status, res.headers.get('content-type'), await res.json()]).toEqual([200, 'application/json', { status: 'ok' }]);
    const ready = await fetch(`${admin}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    // The public port keeps what it had: /workers answers, /healthz is not the gateway's (no worker: 503).
    expect((await fetch(`${proc.url}/workers`)).status).toBe(200);
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(503);
  });

  it('answers an unknown path 404 and a known path with another method 405, both in JSON', async () => {
    const { admin } = await balancer();
    const missing = await fetch(`${admin}/metricz`);
    expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'application/json']);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
    const wrongMethod = await fetch(`${admin}/healthz`, { method: 'POST' });
    expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const drainByGet = await fetch(`${admin}/admin/drain`);
    expect([drainByGet.status, drainByGet.headers.get('allow')]).toEqual([405, 'POST']);
  });

  it('refuses a changing route with 403 naming ADMIN_TOKEN when no token is set, and keeps serving', async () => {
    const { proc, admin } = await balancer();
    const res = await fetch(`${admin}/admin/drain`, { method: 'POST', headers: { authorization: 'Bearer anything-at-all' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain('ADMIN_TOKEN');
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    expect(proc.child.exitCode).toBeNull();
    expect(auditLines(proc)).toEqual([]);
  });

  it('refuses a missing, wrong, or wrongly framed token with 401, and keeps serving', async () => {
    const { proc, admin } = await balancer({ ADMIN_TOKEN: TOKEN });
    const attempts: (Record<string, string> | undefined)[] = [
      undefined,
      { authorization: 'Bearer wrong-token' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${admin}/admin/drain`, { method: 'POST', headers });
      expect({ headers, status: res.status, challenge: res.headers.get('www-authenticate') }).toEqual({
        headers,
        status: 401,
        challenge: 'Bearer realm="admin"',
      });
      await res.arrayBuffer();
    }
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    expect(auditLines(proc)).toEqual([]);
    expect(proc.output()).not.toContain(TOKEN);
  });

  it('drains on POST /admin/drain: /readyz turns 503 at once, the request in flight finishes, the process exits 0', async () => {
    const { proc, admin } = await balancer({ ADMIN_TOKEN: TOKEN });
    // A slow worker holds one request in flight through the drain, so the drain is observable.
    const worker = await startWorker('slow', proc, { WORKER_DELAY_MS: '4000' });
    running.push(worker);
    await waitForWorkers(proc, [worker.url]);
    const inFlight = fetch(`${proc.url}/`).then(async (r) => [r.status, await r.text()] as const);
    await requestInFlight(proc);

    const res = await fetch(`${admin}/admin/drain`, { method: 'POST', headers: { authorization: `bearer ${TOKEN}` } });
    expect([res.status, await res.json()]).toEqual([202, { status: 'draining' }]);
    const ready = await fetch(`${admin}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([503, { status: 'draining' }]);
    expect((await fetch(`${admin}/healthz`)).status).toBe(200);

    const [status] = await inFlight;
    expect(status).toBe(200);
    expect(await exitCode(proc)).toBe(0);

    const lines = auditLines(proc);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, action: 'drain the balancer', who: '127.0.0.1', before: 'serving', after: 'draining' });
    expect(proc.output()).not.toContain(TOKEN);
  }, 30_000);

  it('turns /readyz 503 on SIGTERM as well, before it exits 0', async () => {
    const { proc, admin } = await balancer();
    const worker = await startWorker('slow', proc, { WORKER_DELAY_MS: '4000' });
    running.push(worker);
    await waitForWorkers(proc, [worker.url]);
    const inFlight = fetch(`${proc.url}/`).then((r) => r.status);
    await requestInFlight(proc);
    proc.child.kill('SIGTERM');
    // The signal arrives asynchronously: the first 503 is what counts, seen while the request is still in flight.
    await waitFor(async () => (await fetch(`${admin}/readyz`)).status === 503, '/readyz 503 after SIGTERM');
    expect(await inFlight).toBe(200);
    expect(await exitCode(proc)).toBe(0);
  }, 30_000);

  it('is not started with ADMIN_PORT=off, and the gateway serves as before', async () => {
    const proc = await startBalancer({ ...INFO, ADMIN_PORT: 'off' });
    running.push(proc);
    expect((await fetch(`${proc.url}/workers`)).status).toBe(200);
    await waitFor(() => proc.output().includes('"balancer listening"'), 'the "balancer listening" line');
    expect(proc.output()).not.toContain('"admin listening"');
  });
});
