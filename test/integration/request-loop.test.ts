import { startBalancer, waitFor, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/** A worker registered at the balancer's own address must not make requests circle forever. */
describe('request loop guard', () => {
  let balancer: RunningProcess;
  beforeAll(async () => {
    balancer = await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0' });
  });
  afterAll(() => balancer?.stop());

  it('answers 508 loop_detected after one hop, and keeps serving', async () => {
    expect((await signedPost(balancer.url, 'register-worker', { url: balancer.url, name: 'myself' })).status).toBe(201);
    const res = await fetch(`${balancer.url}/`, { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(508);
    expect(await res.json()).toMatchObject({ error: 'loop_detected' });
    expect(res.headers.get('via')).toBeNull(); // Via goes upstream only
    await waitFor(() => /request loop/.test(balancer.output()) || undefined, 'the loop to be logged', 3000);
    expect((await fetch(`${balancer.url}/workers`)).status).toBe(200);
  });
});
