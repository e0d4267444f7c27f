import pino from 'pino';
import { PrimaryControl } from '../../balancer/cluster/primary-control';
import { RegistryBroadcaster } from '../../balancer/cluster/registry-broadcaster';
import type { Registration } from '../../balancer/registry';
import { MemoryBackend } from '../../balancer/registry-backend/memory';
import { ChildCallError, forkBackendChild } from '../helpers/cluster-backend-child';
import { primaryRegistry } from '../helpers/registry-view-child';
import { applyOperatorAction, localHandle } from './local-handle';
import { registryBackendContract } from './registry-backend.contract';

const silent = pino({ level: 'silent' });

/**
 * PROCESSES: handle a is the primary (this test process: its MemoryBackend, fed to the child by the
 * RegistryBroadcaster, with PrimaryControl answering the child's calls), handle b a real forked
 * serving process whose ClusterBackend writes over IPC. Operator actions through b are done on a's
 * registry, as in a real fleet: the admin listener lives in the primary.
 */
async function openFleet(env: Record<string, string> = {}, answerCalls = true) {
  const registry = primaryRegistry();
  const backend = new MemoryBackend(registry);
  await backend.start();
  const broadcaster = new RegistryBroadcaster(registry, silent);
  const control = new PrimaryControl(backend, registry, silent);
  const child = await forkBackendChild((c) => {
    broadcaster.attach(c);
    if (answerCalls) control.attach(c);
  }, env);
  const a = localHandle(backend);
  return {
    a,
    child,
    b: {
      register: (reg: Registration) => child.register(reg),
      deregister: (url: string) => child.deregister(url),
      claimNonce: (nonce: string, ttlMs: number) => child.claimNonce(nonce, ttlMs),
      operator: (action: Parameters<typeof a.operator>[0]) => {
        applyOperatorAction(registry, action);
        return Promise.resolve();
      },
      view: () => child.view(),
    },
    close: async () => {
      await child.stop();
      broadcaster.close();
      await backend.close();
      await registry.close();
    },
  };
}

describe('registry backend contract: cluster (the primary and a forked serving process)', () => {
  registryBackendContract(() => openFleet());
});

describe('cluster backend: a primary that does not answer', () => {
  it('a write fails as registry_unavailable after the timeout; a nonce claim answers true, as the contract says', async () => {
    // The feed is attached (the child starts), but no PrimaryControl answers its calls.
    const fleet = await openFleet({ CONTROL_REPLY_TIMEOUT_MS: '300' }, false);
    try {
      const failure = await fleet.child.register({ url: 'http://127.0.0.1:20999', name: 'w', weight: 1 }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ChildCallError);
      expect((failure as ChildCallError).code).toBe('registry_unavailable');
      expect((failure as ChildCallError).message).toBe('the primary did not answer within 300 ms');
      expect(await fleet.child.claimNonce('n-unanswered', 30_000)).toBe(true);
      expect(await fleet.child.view()).toEqual([]);
    } finally {
      await fleet.close();
    }
  });
});
