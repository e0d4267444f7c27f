import { startBalancer, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/** CONTROL_ALLOW keeps the control plane (worker list, registration) to the addresses it names. */
describe('CONTROL_ALLOW', () => {
  const running: RunningProcess[] = [];
  afterAll(() => Promise.all(running.map((p) => p.stop())));

  it('refuses the control paths to other addresses with 403, and still proxies everything else', async () => {
    const closed = await startBalancer({ CONTROL_ALLOW: '10.0.0.0/8' });
    running.push(closed);
    const list = await fetch(`${closed.url}/workers`);
    expect(list.status).toBe(403);
    expect(await list.json()).toMatchObject({ error: 'control_forbidden' });
    expect((await signedPost(closed.url, 'register-worker', { url: 'http://127.0.0.1:65021', name: 'x' })).status).toBe(403);
    // Not a control path: proxied as usual (no worker registered, so 503).
    expect((await fetch(`${closed.url}/anything`)).status).toBe(503);
  });

  it('answers the control paths for an allowed address', async () => {
    const open = await startBalancer({ CONTROL_ALLOW: '127.0.0.0/8' });
    running.push(open);
    expect((await signedPost(open.url, 'register-worker', { url: 'http://127.0.0.1:65020', name: 'x' })).status).toBe(201);
    expect(await (await fetch(`${open.url}/workers`)).json()).toEqual(['http://127.0.0.1:65020']);
  });
});
