import type { Dispatcher } from 'undici';
import type { Candidate, Strategy } from '../strategies';
import type { Logger } from './logger';

/** A registered worker as the balancer keeps it. Strategies see it through the Candidate fields. */
export interface WorkerRecord extends Candidate {
  readonly url: string;
  name: string;
  weight: number;
  inflight: number;
  readonly pool: Dispatcher;
  readonly registeredAt: number;
  lastSeenAt: number;
}

export interface Registration {
  url: string;
  name: string;
  weight: number;
}

/**
 * Owns the workers: their pools, their lifecycle and which of them the strategy may pick. Strategies
 * only choose; every change of membership reaches them here through onWorkerUp/onWorkerDown.
 */
export class WorkerRegistry {
  private readonly workers = new Map<string, WorkerRecord>();

  constructor(
    private readonly strategy: Strategy<WorkerRecord>,
    private readonly createPool: (origin: string) => Dispatcher,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called by POST /register-worker: adds a worker, or refreshes one already known (the heartbeat). */
  register(reg: Registration): 'created' | 'refreshed' {
    const existing = this.workers.get(reg.url);
    if (existing) {
      existing.lastSeenAt = this.now();
      existing.name = reg.name;
      if (existing.weight !== reg.weight) {
        existing.weight = reg.weight;
        this.strategy.onWeightChange?.(existing);
        this.log.info({ worker: reg.url, weight: reg.weight }, 'worker weight changed');
      }
      return 'refreshed';
    }
    const now = this.now();
    const worker: WorkerRecord = { ...reg, inflight: 0, pool: this.createPool(reg.url), registeredAt: now, lastSeenAt: now };
    this.workers.set(reg.url, worker);
    this.strategy.onWorkerUp(worker);
    this.log.info({ worker: reg.url, name: reg.name, weight: reg.weight, workers: this.workers.size }, 'worker registered');
    return 'created';
  }

  /**
   * Called by POST /deregister-worker: the worker gets no new requests from this moment, and its pool
   * closes once the requests already sent to it have finished (undici's close() waits for them).
   */
  deregister(url: string): boolean {
    const worker = this.workers.get(url);
    if (!worker) return false;
    this.workers.delete(url);
    this.strategy.onWorkerDown(worker);
    this.log.info({ worker: url, inflight: worker.inflight, workers: this.workers.size }, 'worker deregistered, draining');
    worker.pool.close().catch((err: Error) => this.log.warn({ worker: url, err: err.message }, 'closing pool failed'));
    return true;
  }

  get(url: string): WorkerRecord | undefined {
    return this.workers.get(url);
  }

  urls(): string[] {
    return [...this.workers.keys()];
  }

  get size(): number {
    return this.workers.size;
  }

  /** At shutdown: lets in-flight requests finish, then closes every pool. */
  async close(): Promise<void> {
    const workers = [...this.workers.values()];
    this.workers.clear();
    for (const w of workers) this.strategy.onWorkerDown(w);
    await Promise.allSettled(workers.map((w) => w.pool.close()));
  }
}
