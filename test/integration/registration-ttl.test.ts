import { startBalancer, startWorker, waitFor, waitForWorkers, type RunningProcess } from '../helpers/processes';
import { signedPost } from '../helpers/registration';

/** A worker that stops re-registering is dropped after REGISTRATION_TTL_MS; one that heartbeats stays. */
describe('heartbeat TTL', () => {
  let balancer: RunningProcess;
  let worker: RunningProcess;

  beforeAll(async () => {
    balancer = await startBalancer({ REGISTRATION_TTL_MS: '1500', HEALTH_CHECK_INTERVAL_MS: '0', LOG_LEVEL: 'info' });
    worker = await startWorker('steady', balancer, { HEARTBEAT_INTERVAL_MS: '300' });
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await balancer?.stop();
  });

  it('drops the silent worker and keeps the heartbeating one', async () => {
    const silent = 'http://127.0.0.1:65010';
    expect((await signedPost(balancer.url, 'register-worker', { url: silent, name: 'silent' })).status).toBe(201);
    await waitForWorkers(balancer, [worker.url, silent]);
    await waitForWorkers(balancer, [worker.url], 5000);
    await waitFor(() => /heartbeat expired/.test(balancer.output()) || undefined, 'the expiry to be logged', 2000);
  });
});
