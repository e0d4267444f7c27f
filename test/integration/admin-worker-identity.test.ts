import { ADMIN_TEST_TOKEN, adminCall, auditLines, details, startAdminBalancer, workerPath } from '../helpers/admin';
import { startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';

/**
 * How the admin worker routes name a worker and who may call them, against a real balancer and real
 * workers: by its URL percent-encoded (in any spelling that normalises to it) or by its name; a shared
 * name is 409 with the matches, an unknown worker 404; no token 401, no ADMIN_TOKEN configured 403.
 * DELETE removes a worker that may then register again, and the audit lines never hold the token.
 */

const running: RunningProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

async function worker(name: string, balancer: { url: string }, env: Record<string, string> = {}): Promise<RunningProcess> {
  const w = await startWorker(name, balancer, env);
  running.push(w);
  return w;
}

describe('naming a worker in the admin API', () => {
  it('finds a worker by its encoded URL in any spelling or by its name; a shared name is 409 with the URLs, an unknown one 404', async () => {
    const { proc, admin } = await startAdminBalancer();
    running.push(proc);
    const [a, twin1, twin2] = [await worker('alpha', proc), await worker('twin', proc), await worker('twin', proc)];
    await waitForWorkers(proc, [a.url, twin1.url, twin2.url]);

    for (const key of [a.url, `${a.url}/`, a.url.replace('http://', 'HTTP://'), 'alpha']) {
      const res = await adminCall(admin, 'POST', workerPath(key, '/drain'));
      expect({ key, status: res.status, url: res.body.url }).toEqual({ key, status: 200, url: a.url });
    }
    const ambiguous = await adminCall(admin, 'POST', workerPath('twin', '/drain'));
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body).toMatchObject({ error: 'ambiguous_worker', message: expect.stringContaining('by its URL') });
    expect([...(ambiguous.body.matches as string[])].sort()).toEqual([twin1.url, twin2.url].sort());
    // Its URL tells the twins apart.
    expect((await adminCall(admin, 'POST', workerPath(twin2.url, '/drain'))).body).toMatchObject({ url: twin2.url, name: 'twin' });

    for (const key of ['nobody', 'http://127.0.0.1:1', 'alpha ']) {
      const res = await adminCall(admin, 'DELETE', workerPath(key));
      expect({ key, status: res.status, error: res.body.error }).toEqual({ key, status: 404, error: 'unknown_worker' });
    }
    const malformed = await adminCall(admin, 'POST', '/admin/workers/%zz/drain');
    expect([malformed.status, malformed.body.error]).toEqual([400, 'malformed_path']);
    // Drains by name and by URL of the same worker are audited alike; the refused calls are not.
    expect(auditLines(proc).map((l) => [l.action, (l.after as { url: string }).url])).toEqual([
      ...Array(4).fill(['drain worker', a.url]),
      ['drain worker', twin2.url],
    ]);
  }, 60_000);

  it('refuses every worker route without the token (401) or with ADMIN_TOKEN unset (403), changing nothing', async () => {
    const { proc, admin } = await startAdminBalancer();
    running.push(proc);
    const w = await worker('w', proc);
    await waitForWorkers(proc, [w.url]);
    const routes: [string, string, string?][] = [
      ['POST', workerPath('w', '/drain')],
      ['POST', workerPath('w', '/ready')],
      ['PUT', workerPath('w', '/weight'), '{"weight": 5}'],
      ['DELETE', workerPath('w')],
    ];
    for (const [method, path, body] of routes) {
      for (const token of [null, 'wrong-token', `${ADMIN_TEST_TOKEN}x`]) {
        const res = await adminCall(admin, method, path, { token, body });
        expect({ method, path, token, status: res.status }).toEqual({ method, path, token, status: 401 });
      }
    }
    const unset = await startAdminBalancer({ ADMIN_TOKEN: '' });
    running.push(unset.proc);
    const other = await worker('w', unset.proc);
    await waitForWorkers(unset.proc, [other.url]);
    for (const [method, path, body] of routes) {
      const res = await adminCall(unset.admin, method, path, { body });
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      expect(res.body.message).toContain('ADMIN_TOKEN');
    }
    expect((await details(proc))[0]).toMatchObject({ inRotation: true, weight: 1, drain: null });
    expect((await details(unset.proc))[0]).toMatchObject({ inRotation: true, weight: 1, drain: null });
    expect([...auditLines(proc), ...auditLines(unset.proc)]).toEqual([]);
  }, 60_000);

  it('removes a worker on DELETE, forgetting its drain and weight; its next heartbeat registers it afresh', async () => {
    const { proc, admin } = await startAdminBalancer();
    running.push(proc);
    const w = await worker('w', proc, { HEARTBEAT_INTERVAL_MS: '1000' });
    await waitForWorkers(proc, [w.url]);
    await adminCall(admin, 'POST', workerPath('w', '/drain'));
    await adminCall(admin, 'PUT', workerPath('w', '/weight'), { body: '{"weight": 7}' });
    const removed = await adminCall(admin, 'DELETE', workerPath(w.url));
    expect(removed).toEqual({
      status: 200,
      body: expect.objectContaining({ url: w.url, inRotation: false, leaving: true, drain: expect.objectContaining({ by: 'admin' }) }),
    });
    expect(await (await fetch(`${proc.url}/workers`)).json()).toEqual([]);
    // A second DELETE finds it gone from the registry (or still finishing, if the pool has not closed yet).
    expect([404, 409]).toContain((await adminCall(admin, 'DELETE', workerPath(w.url))).status);

    await waitForWorkers(proc, [w.url]);
    const back = await waitFor(async () => (await details(proc)).find((d) => d.url === w.url && !d.leaving), 'the worker registered again');
    expect(back).toMatchObject({ inRotation: true, weight: 1, weightOverride: null, drain: null });
    expect((await fetch(`${proc.url}/`)).status).toBe(200);

    const lines = auditLines(proc);
    expect(lines.map((l) => l.action)).toEqual(['drain worker', 'set worker weight', 'remove worker']);
    for (const line of lines) expect(line).toMatchObject({ audit: true, level: 30, who: '127.0.0.1' });
    expect(proc.output()).not.toContain(ADMIN_TEST_TOKEN);
  }, 60_000);
});
