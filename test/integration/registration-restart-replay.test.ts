import { rmSync } from 'node:fs';
import { signedPayload } from '../../utils/auth';
import { startBalancer, tempStateDir, TEST_SECRET } from '../helpers/processes';
import { postRaw, signedPost } from '../helpers/registration';

/**
 * Nonces live in the balancer's memory, so a restart forgets them: a registration captured shortly
 * before the restart would replay once after it. The balancer refuses any signed request whose
 * timestamp is earlier than its own start; a live worker signs every attempt afresh and is unaffected.
 */
describe('a registration captured before a restart', () => {
  it('is refused by the restarted balancer with 401, while a fresh one is accepted', async () => {
    const first = await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0' });
    // What an eavesdropper keeps of a live worker's registration to the first balancer.
    const captured = signedPayload({ url: 'http://127.0.0.1:65020', name: 'captured' }, TEST_SECRET);
    try {
      expect((await postRaw(first.url, 'register-worker', captured.body, captured.signature)).status).toBe(201);
    } finally {
      await first.stop();
    }
    const second = await startBalancer({ HEALTH_CHECK_INTERVAL_MS: '0' });
    try {
      const replay = await postRaw(second.url, 'register-worker', captured.body, captured.signature);
      expect(replay).toEqual({ status: 401, body: { error: 'signed_before_start', message: expect.stringContaining('before this balancer started') } });
      expect(await (await fetch(`${second.url}/workers`)).json()).toEqual([]);
      const fresh = await signedPost(second.url, 'register-worker', { url: 'http://127.0.0.1:65020', name: 'captured' });
      expect(fresh.status).toBe(201);
    } finally {
      await second.stop();
    }
  });

  it('is refused after a restart that restored the registry from STATE_DIR, the worker it registered still known', async () => {
    const stateDir = tempStateDir();
    const env = { HEALTH_CHECK_INTERVAL_MS: '0', STATE_DIR: stateDir };
    try {
      const first = await startBalancer(env);
      // Signed once the first balancer runs, as a live worker's registration is.
      const captured = signedPayload({ url: 'http://127.0.0.1:65021', name: 'captured' }, TEST_SECRET);
      try {
        expect((await postRaw(first.url, 'register-worker', captured.body, captured.signature)).status).toBe(201);
      } finally {
        await first.stop();
      }
      const second = await startBalancer(env);
      try {
        expect(await (await fetch(`${second.url}/workers`)).json()).toEqual(['http://127.0.0.1:65021']);
        const replay = await postRaw(second.url, 'register-worker', captured.body, captured.signature);
        expect(replay).toEqual({ status: 401, body: { error: 'signed_before_start', message: expect.stringContaining('before this balancer started') } });
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
