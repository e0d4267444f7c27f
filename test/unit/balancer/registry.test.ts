import pino from 'pino';
import type { WorkerPool } from '../../../balancer/upstream/pool';
import { WorkerRegistry, type WorkerRecord } from '../../../balancer/registry';
import type { Strategy } from '../../../strategies';

type Call = [event: 'up' | 'down' | 'weight', url: string, weight?: number];

/** A strategy that records every hook call, in order. */
function recordingStrategy() {
  const calls: Call[] = [];
  const strategy: Strategy<WorkerRecord> = {
    name: 'recording',
    pick: () => undefined,
    onWorkerUp: (w) => void calls.push(['up', w.url]),
    onWorkerDown: (w) => void calls.push(['down', w.url]),
    onWeightChange: (w) => void calls.push(['weight', w.url, w.weight]),
  };
  return { strategy, calls };
}

function setup() {
  const { strategy, calls } = recordingStrategy();
  const clock = { now: 1_000 };
  const pools = new Map<string, { close: jest.Mock }>();
  const createPool = jest.fn((origin: string) => {
    const pool = { close: jest.fn().mockResolvedValue(undefined) };
    pools.set(origin, pool);
    return pool as unknown as WorkerPool;
  });
  const registry = new WorkerRegistry(strategy, createPool, pino({ level: 'silent' }), () => clock.now);
  return { registry, calls, clock, pools, createPool };
}

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';
const C = 'http://127.0.0.1:8083';

describe('WorkerRegistry', () => {
  it('creates a worker: one pool for its origin, one onWorkerUp, times from the clock', () => {
    const { registry, calls, createPool } = setup();
    expect(registry.register({ url: A, name: 'a', weight: 2 })).toBe('created');
    expect(createPool).toHaveBeenCalledTimes(1);
    expect(createPool).toHaveBeenCalledWith(A);
    expect(calls).toEqual([['up', A]]);
    expect(registry.get(A)).toMatchObject({ url: A, name: 'a', weight: 2, inflight: 0, registeredAt: 1_000, lastSeenAt: 1_000 });
    expect(registry.size).toBe(1);
  });

  it('refreshes a known worker: same pool, no second onWorkerUp, lastSeenAt moves, registeredAt stays', () => {
    const { registry, calls, clock, createPool } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    const pool = registry.get(A)!.pool;
    clock.now = 6_000;
    expect(registry.register({ url: A, name: 'a-renamed', weight: 1 })).toBe('refreshed');
    expect(createPool).toHaveBeenCalledTimes(1);
    expect(calls).toEqual([['up', A]]);
    expect(registry.get(A)).toMatchObject({ name: 'a-renamed', registeredAt: 1_000, lastSeenAt: 6_000 });
    expect(registry.get(A)!.pool).toBe(pool);
    expect(registry.size).toBe(1);
  });

  it('tells the strategy about a weight change on refresh, and only when it changed', () => {
    const { registry, calls } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: A, name: 'a', weight: 1 });
    expect(calls).toEqual([['up', A]]);
    registry.register({ url: A, name: 'a', weight: 5 });
    expect(calls).toEqual([
      ['up', A],
      ['weight', A, 5],
    ]);
    expect(registry.get(A)!.weight).toBe(5);
  });

  it('deregisters: onWorkerDown, pool closed, gone from the registry', () => {
    const { registry, calls, pools } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: B, name: 'b', weight: 1 });
    expect(registry.deregister(A)).toBe(true);
    expect(calls).toEqual([
      ['up', A],
      ['up', B],
      ['down', A],
    ]);
    expect(pools.get(A)!.close).toHaveBeenCalledTimes(1);
    expect(pools.get(B)!.close).not.toHaveBeenCalled();
    expect(registry.get(A)).toBeUndefined();
    expect(registry.urls()).toEqual([B]);
  });

  it('returns false for an unknown url and changes nothing', () => {
    const { registry, calls, pools } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    expect(registry.deregister(B)).toBe(false);
    expect(registry.deregister(A)).toBe(true);
    expect(registry.deregister(A)).toBe(false);
    expect(calls).toEqual([
      ['up', A],
      ['down', A],
    ]);
    expect(pools.get(A)!.close).toHaveBeenCalledTimes(1);
  });

  it('does not throw when a pool fails to close', async () => {
    const { registry, pools } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    pools.get(A)!.close.mockRejectedValue(new Error('boom'));
    expect(registry.deregister(A)).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(registry.size).toBe(0);
  });

  it('lists urls in registration order; a refresh does not move a worker', () => {
    const { registry } = setup();
    registry.register({ url: B, name: 'b', weight: 1 });
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: C, name: 'c', weight: 1 });
    registry.register({ url: B, name: 'b', weight: 3 });
    expect(registry.urls()).toEqual([B, A, C]);
  });

  it('a worker that comes back after deregistering is created anew with a new pool', () => {
    const { registry, calls, createPool, clock } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.deregister(A);
    clock.now = 2_000;
    expect(registry.register({ url: A, name: 'a', weight: 1 })).toBe('created');
    expect(createPool).toHaveBeenCalledTimes(2);
    expect(calls).toEqual([
      ['up', A],
      ['down', A],
      ['up', A],
    ]);
    expect(registry.get(A)!.registeredAt).toBe(2_000);
  });

  it('close() takes every worker out of the strategy and closes every pool', async () => {
    const { registry, calls, pools } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: B, name: 'b', weight: 1 });
    await registry.close();
    expect(calls).toEqual([
      ['up', A],
      ['up', B],
      ['down', A],
      ['down', B],
    ]);
    expect(pools.get(A)!.close).toHaveBeenCalledTimes(1);
    expect(pools.get(B)!.close).toHaveBeenCalledTimes(1);
    expect(registry.size).toBe(0);
    expect(registry.urls()).toEqual([]);
  });
});
