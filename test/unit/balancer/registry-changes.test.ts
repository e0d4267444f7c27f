import pino from 'pino';
import type { WorkerPool } from '../../../balancer/upstream/pool';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from '../../../balancer/registry';
import type { RegistryChange } from '../../../balancer/registry-changes';
import type { Strategy } from '../../../strategies';

/** The registry's change feed, on a real registry: each action emits exactly its events, in order, as plain data. */
const A = 'http://127.0.0.1:8081';

function setup(health: HealthOptions = { panicThresholdPercent: 0, registrationTtlMs: 15_000 }) {
  const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: () => undefined, onWorkerDown: () => undefined };
  const clock = { now: 1_000 };
  const createPool = (): WorkerPool => ({ close: () => Promise.resolve() }) as unknown as WorkerPool;
  const registry = new WorkerRegistry(strategy, createPool, pino({ level: 'silent' }), () => clock.now, health);
  const changes: RegistryChange[] = [];
  const unsubscribe = registry.changes.subscribe((c) => changes.push(c));
  return { registry, clock, changes, unsubscribe };
}

describe('WorkerRegistry: the change feed', () => {
  it('says joined, then refreshed on each heartbeat, with the weight change when the heartbeat brings one', () => {
    const { registry, clock, changes } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    clock.now = 2_000;
    registry.register({ url: A, name: 'a', weight: 1 });
    clock.now = 3_000;
    registry.register({ url: A, name: 'a2', weight: 4 });
    expect(changes).toEqual([
      { type: 'joined', url: A, name: 'a', weight: 1, registeredWeight: 1, drained: false, lastSeenAt: 1_000 },
      { type: 'refreshed', url: A, name: 'a', lastSeenAt: 2_000, renamed: false },
      { type: 'refreshed', url: A, name: 'a2', lastSeenAt: 3_000, renamed: true },
      { type: 'weight_changed', url: A, weight: 4, registeredWeight: 4 },
    ]);
  });

  it('says drained and readied for an operator, and override_changed with the weight in force', () => {
    const { registry, clock, changes } = setup();
    registry.register({ url: A, name: 'a', weight: 1 });
    clock.now = 5_000;
    registry.drainWorker(registry.get(A)!);
    registry.drainWorker(registry.get(A)!); // already drained: nothing new
    registry.readyWorker(registry.get(A)!);
    registry.overrideWeight(registry.get(A)!, 9);
    registry.register({ url: A, name: 'a', weight: 2 }); // the registered weight changes under the override
    registry.overrideWeight(registry.get(A)!, undefined);
    expect(changes.slice(1)).toEqual([
      { type: 'drained', url: A, since: 5_000 },
      { type: 'readied', url: A },
      { type: 'override_changed', url: A, weight: 9 },
      { type: 'weight_changed', url: A, weight: 9, registeredWeight: 1 },
      { type: 'refreshed', url: A, name: 'a', lastSeenAt: 5_000, renamed: false },
      { type: 'weight_changed', url: A, weight: 9, registeredWeight: 2 },
      { type: 'override_changed', url: A, weight: undefined },
      { type: 'weight_changed', url: A, weight: 2, registeredWeight: 2 },
    ]);
  });

  it('says left, by whom, for a deregistration, an expiry and a removal', () => {
    const { registry, changes } = setup();
    for (const by of ['worker', 'admin'] as const) {
      registry.register({ url: A, name: 'a', weight: 1 });
      if (by === 'worker') registry.deregister(A);
      else registry.removeWorker(registry.get(A)!);
    }
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.deregister(A, 'ttl');
    expect(changes.filter((c) => c.type === 'left')).toEqual([
      { type: 'left', url: A, by: 'worker' },
      { type: 'left', url: A, by: 'admin' },
      { type: 'left', url: A, by: 'ttl' },
    ]);
  });

  it('restores a worker as last seen, drained if its override says so, and says joined', () => {
    const { registry, changes } = setup();
    registry.overrides.restore(A, { drain: { since: 500, by: 'admin' }, weight: 3, absentSince: undefined });
    registry.restore({ url: A, name: 'a', weight: 1 }, 700);
    expect(registry.get(A)).toMatchObject({ lastSeenAt: 700, registeredAt: 1_000, weight: 3, registeredWeight: 1, inRotation: false, drain: { since: 500 } });
    expect(changes).toEqual([{ type: 'joined', url: A, name: 'a', weight: 3, registeredWeight: 1, drained: true, lastSeenAt: 700 }]);
  });

  it('stops calling a listener once unsubscribed, and keeps calling the others when one throws', () => {
    const { registry, changes, unsubscribe } = setup();
    const second: string[] = [];
    registry.changes.subscribe(() => {
      throw new Error('a broken listener');
    });
    registry.changes.subscribe((c) => second.push(c.type));
    registry.register({ url: A, name: 'a', weight: 1 });
    unsubscribe();
    registry.register({ url: A, name: 'a', weight: 1 });
    expect(changes.map((c) => c.type)).toEqual(['joined']);
    expect(second).toEqual(['joined', 'refreshed']);
  });
});
