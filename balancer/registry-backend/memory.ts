import type { Registration, WorkerRegistry } from '../registry';
import type { RegistryBackend } from './types';

/**
 * The embedded default: the registry in this process is the truth. Writes apply at once; the replay
 * guard in front of claimNonce has already seen every nonce there is, so a claim always succeeds.
 */
export class MemoryBackend implements RegistryBackend {
  readonly kind = 'memory';

  constructor(readonly registry: WorkerRegistry) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  register(reg: Registration): Promise<'created' | 'refreshed'> {
    return Promise.resolve(this.registry.register(reg));
  }

  deregister(url: string): Promise<boolean> {
    return Promise.resolve(this.registry.deregister(url));
  }

  claimNonce(): Promise<boolean> {
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
