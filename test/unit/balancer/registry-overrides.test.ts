import pino from 'pino';
import type { WorkerPool } from '../../../balancer/upstream/pool';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from '../../../balancer/registry';
import type { Strategy } from '../../../strategies';

/**
 * The operator's overrides and the drain state, on a real registry. Pools are stand-ins whose close()
 * resolves when the test says so: the moment a leaving worker's in-flight requests would have finished.
 */
type Call = [event: 'up' | 'down' | 'weight', url: string, weight?: number];

function setup(health: HealthOptions = { panicThresholdPercent: 0, registrationTtlMs: 15_000 }) {
  const calls: Call[] = [];
  const strategy: Strategy<WorkerRecord> = {
    name: 'recording',
    pick: () => undefined,
    onWorkerUp: (w) => void calls.push(['up', w.url]),
    onWorkerDown: (w) => void calls.push(['down', w.url]),
    onWeightChange: (w) => void calls.push(['weight', w.url, w.weight]),
  };
  const clock = { now: 1_000 };
  const closes: (() => void)[] = [];
  const createPool = (): WorkerPool => ({ close: () => new Promise<void>((resolve) => closes.push(resolve)) }) as unknown as WorkerPool;
  const registry = new WorkerRegistry(strategy, createPool, pino({ level: 'silent' }), () => clock.now, health);
  return { registry, calls, clock, closes };
}

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkerRegistry: operator drains', () => {
  it('takes a drained worker out of the strategy and puts it back on ready', () => {
    const { registry, calls, clock } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    clock.now = 2_000;
    registry.drainWorker(registry.get(A)!);
    expect(registry.get(A)).toMatchObject({ inRotation: false, drain: { since: 2_000, by: 'admin' } });
    expect(registry.stateOf(registry.get(A)!)).toMatchObject({ drain: { since: new Date(2_000).toISOString(), by: 'admin' }, leaving: false });
    registry.readyWorker(registry.get(A)!);
    expect(registry.get(A)).toMatchObject({ inRotation: true, drain: undefined });
    expect(calls).toEqual([
      ['up', A],
      ['down', A],
      ['up', A],
    ]);
    expect(registry.overrides.size).toBe(0);
  });

  it('keeps a drained worker drained through its heartbeats, and through a deregistration and a new registration', () => {
    const { registry, calls, clock } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.drainWorker(registry.get(A)!);
    clock.now = 3_000;
    expect(registry.register({ url: A, name: 'a', weight: 1 })).toBe('refreshed');
    expect(registry.get(A)).toMatchObject({ inRotation: false, drain: { since: 1_000, by: 'admin' } });
    registry.deregister(A);
    clock.now = 5_000;
    expect(registry.register({ url: A, name: 'a', weight: 1 })).toBe('created');
    expect(registry.get(A)).toMatchObject({ inRotation: false, registeredAt: 5_000, drain: { since: 1_000, by: 'admin' } });
    expect(calls).toEqual([
      ['up', A],
      ['down', A],
    ]);
  });

  it('forgets the drain of a worker gone for longer than the registration TTL', () => {
    const { registry, clock } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.drainWorker(registry.get(A)!);
    registry.deregister(A);
    clock.now += 15_001;
    registry.register({ url: A, name: 'a', weight: 1 });
    expect(registry.get(A)).toMatchObject({ inRotation: true, drain: undefined });
    expect(registry.overrides.size).toBe(0);
  });

  it('counts a drained worker on neither side of the panic ratio: one drained, one ejected, one left of three is a panic at 60 %', () => {
    const outlier = { consecutiveFailures: 1, baseEjectionMs: 10_000, maxEjectionMs: 60_000 };
    const { registry } = setup({ panicThresholdPercent: 60, registrationTtlMs: 0, outlier });
    const C = 'http://127.0.0.1:8083';
    for (const url of [A, B, C]) registry.register({ url, name: url, weight: 1 });
    registry.drainWorker(registry.get(A)!);
    registry.recordExchange(registry.get(B)!, true);
    expect(registry.get(B)!.ejectedUntil).toBeGreaterThan(0);
    // Only C would carry traffic: panic routes to the ejected B too, never to the drained A.
    expect(registry.inPanic).toBe(true);
    expect([A, B, C].map((u) => registry.get(u)!.inRotation)).toEqual([false, true, true]);
  });
});

describe('WorkerRegistry: operator weights', () => {
  it("keeps the operator's weight through heartbeats with another weight, until it is reset to the last registered one", () => {
    const { registry, calls } = setup();
    registry.register({ url: A, name: 'a', weight: 2 });
    registry.overrideWeight(registry.get(A)!, 7);
    registry.register({ url: A, name: 'a', weight: 3 });
    expect(registry.get(A)).toMatchObject({ weight: 7, registeredWeight: 3 });
    expect(registry.stateOf(registry.get(A)!)).toMatchObject({ weight: 7, registeredWeight: 3, weightOverride: 7 });
    registry.overrideWeight(registry.get(A)!, undefined);
    expect(registry.get(A)).toMatchObject({ weight: 3, registeredWeight: 3 });
    expect(registry.stateOf(registry.get(A)!)).toMatchObject({ weightOverride: null });
    expect(calls).toEqual([
      ['up', A],
      ['weight', A, 7],
      ['weight', A, 3],
    ]);
  });

  it("gives a re-registered worker the operator's weight from its first registration", () => {
    const { registry, calls } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.overrideWeight(registry.get(A)!, 5);
    registry.deregister(A);
    registry.register({ url: A, name: 'a', weight: 1 });
    expect(registry.get(A)).toMatchObject({ weight: 5, registeredWeight: 1, inRotation: true });
    expect(calls.filter((c) => c[0] === 'weight')).toEqual([['weight', A, 5]]);
  });
});

describe('WorkerRegistry: leaving workers', () => {
  it('keeps a deregistered worker visible as draining by the worker until its pool has closed, never in rotation', async () => {
    const { registry, calls, closes, clock } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    clock.now = 4_000;
    registry.deregister(A);
    expect(registry.urls()).toEqual([]);
    expect(registry.leaving().map((w) => [w.url, w.drain, w.inRotation])).toEqual([[A, { since: 4_000, by: 'worker' }, false]]);
    expect(registry.describe()).toMatchObject([{ url: A, leaving: true, drain: { by: 'worker' } }]);
    expect(calls).toEqual([
      ['up', A],
      ['down', A],
    ]);
    closes[0]();
    await settle();
    expect(registry.leaving()).toEqual([]);
    expect(registry.describe()).toEqual([]);
  });

  it('makes a fresh record for a re-registration while the old one is still leaving', async () => {
    const { registry, closes } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    const old = registry.get(A)!;
    registry.deregister(A);
    registry.register({ url: A, name: 'a', weight: 1 });
    const fresh = registry.get(A)!;
    expect(fresh).not.toBe(old);
    expect([fresh.inRotation, fresh.drain, old.inRotation]).toEqual([true, undefined, false]);
    expect(registry.describe().map((s) => [s.url, s.leaving])).toEqual([
      [A, false],
      [A, true],
    ]);
    closes[0]();
    await settle();
    expect(registry.describe().map((s) => [s.url, s.leaving])).toEqual([[A, false]]);
  });

  it('shows a worker whose heartbeat expired as draining by the TTL', () => {
    jest.useFakeTimers();
    try {
      const { registry, clock } = setup({ panicThresholdPercent: 0, registrationTtlMs: 3_000 });
      registry.register({ url: A, name: 'a', weight: 1 });
      // The clock moves with the sweep's ticks: a jump past the TTL in one tick would be a pause (registry-pause.test.ts).
      for (let t = 0; t < 4; t++) {
        clock.now += 1_000;
        jest.advanceTimersByTime(1_000);
      }
      expect(registry.urls()).toEqual([]);
      expect(registry.leaving().map((w) => w.drain?.by)).toEqual(['ttl']);
      void registry.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('removes a worker on an operator DELETE: leaving by admin, overrides forgotten, a new registration starts afresh', () => {
    const { registry } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.drainWorker(registry.get(A)!);
    registry.overrideWeight(registry.get(A)!, 9);
    registry.removeWorker(registry.get(A)!);
    expect(registry.urls()).toEqual([]);
    expect(registry.leaving().map((w) => w.drain?.by)).toEqual(['admin']);
    expect(registry.overrides.size).toBe(0);
    registry.register({ url: A, name: 'a', weight: 1 });
    expect(registry.get(A)).toMatchObject({ weight: 1, drain: undefined, inRotation: true });
  });

  it('waits for the leaving pools on close()', async () => {
    const { registry, closes } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.deregister(A);
    let closed = false;
    const closing = registry.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    closes[0]();
    await closing;
    expect(registry.leaving()).toEqual([]);
  });
});
