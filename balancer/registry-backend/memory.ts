import type { Registration, WorkerRegistry } from '../registry';
import type { RegistryBackend } from './types';

/**
 * The embedded default: the registry in this process is the truth, and writes apply at once. With
 * PROCESSES the primary's backend is this one, and serving processes claim their nonces here.
 */
export class MemoryBackend implements RegistryBackend {
  readonly kind = 'memory';
  /** Claimed nonces and when each may be forgotten (ms epoch); registrations are rare, so a sweep per claim is cheap. */
  private readonly claimed = new Map<string, number>();

  constructor(
    readonly registry: WorkerRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  register(reg: Registration): Promise<'created' | 'refreshed'> {
    return Promise.resolve(this.registry.register(reg));
  }

  deregister(url: string): Promise<boolean> {
    return Promise.resolve(this.registry.deregister(url));
  }

  claimNonce(nonce: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    for (const [claimed, until] of this.claimed) if (until <= now) this.claimed.delete(claimed);
    if (this.claimed.has(nonce)) return Promise.resolve(false);
    this.claimed.set(nonce, now + ttlMs);
    return Promise.resolve(true);
  }

  /** Every heartbeat reaches this process: nothing ever holds the sweep. */
  mayExpire(): boolean {
    return true;
  }

  /** This process is the registry: the snapshot is what it knew before the restart. */
  restoresFromSnapshot(): boolean {
    return true;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
