import type { Logger } from '../logger';
import type { RegistryChange } from '../registry-changes';
import type { RedisRegistryStore } from './redis-store';
import type { SharedOverride, SharedWorker, StoreResult } from './types';

/** A worker write: a put keeps the latest record, a remove the change that says why. */
export type WorkerWrite = { kind: 'put'; worker: SharedWorker; change: RegistryChange } | { kind: 'remove'; change: RegistryChange };

interface OverrideWrite {
  readonly override: SharedOverride | undefined;
  readonly change: RegistryChange;
}

/**
 * One replica's writes to Redis, and those Redis could not take (it was unreachable), kept to be
 * written back on reconnect: the latest per worker URL and per override, and each nonce accepted
 * meanwhile with the end of its window. Owned by RedisRegistryView, which calls writeBack() before
 * each resynchronisation reads Redis.
 */
export class PendingWrites {
  private readonly workers = new Map<string, WorkerWrite>();
  private readonly overrides = new Map<string, OverrideWrite>();
  /**
   * Nonce to the end of its window. Windows differ a little (each lasts until its timestamp is stale),
   * so insertion order is only about expiry order: a prune stops at the first live entry, and an
   * expired one behind it waits for the next prune, or for the write-back, which skips it.
   */
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly store: RedisRegistryStore,
    /** The registration TTL: a record written back lives for what is left of it. */
    private readonly ttlMs: number,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Writes a worker's record (or its removal) now; keeps it for the write-back when Redis cannot take it. */
  async worker(write: WorkerWrite): Promise<void> {
    const result = await this.sendWorker(write);
    if (!result.ok) this.workers.set(write.change.url, write);
  }

  /** Writes an operator's override (undefined forgets it) now; keeps it for the write-back when Redis cannot take it. */
  async override(url: string, override: SharedOverride | undefined, change: RegistryChange): Promise<void> {
    const result = await this.store.putOverride(url, override, change);
    if (!result.ok) this.overrides.set(url, { override, change });
  }

  /** Claims a nonce for `windowMs`; one Redis cannot take is kept, to be claimed on reconnect for what is left of its window. */
  async nonce(nonce: string, windowMs: number): Promise<StoreResult<boolean>> {
    const claimed = await this.store.claimNonce(nonce, windowMs);
    if (!claimed.ok) {
      const now = this.now();
      for (const [kept, until] of this.nonces) {
        if (until > now) break;
        this.nonces.delete(kept);
      }
      this.nonces.set(nonce, now + windowMs);
    }
    return claimed;
  }

  /** Redis lost its data: each of the view's workers and overrides is to be written again. */
  rewrite(workers: Iterable<SharedWorker>, overrides: Iterable<[string, SharedOverride]>): void {
    for (const w of workers)
      this.workers.set(w.url, {
        kind: 'put',
        worker: { ...w },
        change: { type: 'refreshed', url: w.url, name: w.name, lastSeenAt: w.lastSeenAt, renamed: false },
      });
    for (const [url, o] of overrides) this.overrides.set(url, { override: o, change: { type: 'override_changed', url, weight: o.weight } });
  }

  /** Writes what is kept, in order; stops at the first failure (Redis is gone again) and keeps the rest. */
  async writeBack(): Promise<StoreResult<void>> {
    for (const [url, write] of [...this.workers]) {
      const result = await this.sendWorker(write);
      if (!result.ok) return result;
      if (this.workers.get(url) === write) this.workers.delete(url);
    }
    for (const [url, write] of [...this.overrides]) {
      const result = await this.store.putOverride(url, write.override, write.change);
      if (!result.ok) return result;
      if (this.overrides.get(url) === write) this.overrides.delete(url);
    }
    return this.claimNonces();
  }

  /**
   * Claims in Redis what is left of each nonce accepted during the outage. One another replica also
   * accepted meanwhile was used twice: a replayed registration, or a worker that resent it. It cannot
   * be undone by now (both registrations were signed for the same address), so it is logged once.
   */
  private async claimNonces(): Promise<StoreResult<void>> {
    let usedTwice = 0;
    for (const [nonce, until] of [...this.nonces]) {
      const left = until - this.now();
      if (left > 0) {
        const claimed = await this.store.claimNonce(nonce, left);
        if (!claimed.ok) return claimed;
        if (!claimed.value) usedTwice++;
      }
      this.nonces.delete(nonce);
    }
    if (usedTwice > 0)
      this.log.warn({ nonces: usedTwice }, 'shared registry: a registration nonce accepted during the Redis outage was also used at another replica');
    return { ok: true, value: undefined };
  }

  private sendWorker(write: WorkerWrite): Promise<StoreResult<number>> {
    if (write.kind === 'remove') return this.store.removeWorker(write.change.url, write.change);
    // The record lives in Redis for what is left of its TTL, counted from its last heartbeat.
    const left = this.ttlMs - (this.now() - write.worker.lastSeenAt);
    if (left <= 0) return this.store.removeWorker(write.worker.url, { type: 'left', url: write.worker.url, by: 'ttl' });
    return this.store.putWorker(write.worker, left, write.change);
  }
}
