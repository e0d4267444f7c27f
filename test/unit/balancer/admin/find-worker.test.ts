import pino from 'pino';
import { findWorker } from '../../../../balancer/admin/find-worker';
import { WorkerRegistry, type WorkerRecord } from '../../../../balancer/registry';
import type { WorkerPool } from '../../../../balancer/upstream/pool';
import type { Strategy } from '../../../../strategies';

/** findWorker on a real registry; pools are stand-ins that never finish closing, so a deregistered worker stays leaving. */
function registry(): WorkerRegistry {
  const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: () => {}, onWorkerDown: () => {} };
  const pool = () => ({ close: () => new Promise<void>(() => {}) }) as unknown as WorkerPool;
  return new WorkerRegistry(strategy, pool, pino({ level: 'silent' }), () => 1_000, { panicThresholdPercent: 0, registrationTtlMs: 0 });
}

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';
const C = 'http://127.0.0.1:8083';

describe('findWorker', () => {
  it('finds a worker by its URL as registered, in a spelling that normalises to it, or by its name', () => {
    const r = registry();
    r.register({ url: A, name: 'alpha', weight: 1 });
    for (const key of [A, `${A}/`, 'HTTP://127.0.0.1:8081', 'alpha']) expect(findWorker(r, key)).toEqual({ worker: r.get(A) });
  });

  it('prefers a URL over a worker whose name is that URL', () => {
    const r = registry();
    r.register({ url: A, name: 'alpha', weight: 1 });
    r.register({ url: B, name: A, weight: 1 });
    expect(findWorker(r, A)).toEqual({ worker: r.get(A) });
  });

  it('answers 409 with every URL for a shared name, and 404 for no match', () => {
    const r = registry();
    r.register({ url: A, name: 'twin', weight: 1 });
    r.register({ url: B, name: 'twin', weight: 1 });
    expect(findWorker(r, 'twin')).toMatchObject({ status: 409, error: 'ambiguous_worker', matches: [A, B] });
    expect(findWorker(r, 'Twin')).toMatchObject({ status: 404, error: 'unknown_worker' });
    expect(findWorker(r, C)).toMatchObject({ status: 404, error: 'unknown_worker' });
  });

  it('answers 409 for a worker that has left and is still finishing its requests, by URL or by name', () => {
    const r = registry();
    r.register({ url: C, name: 'gamma', weight: 1 });
    r.deregister(C);
    for (const key of [C, 'gamma']) expect(findWorker(r, key)).toMatchObject({ status: 409, error: 'worker_leaving', matches: [C] });
  });
});
