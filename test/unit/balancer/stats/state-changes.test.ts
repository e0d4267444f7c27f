import pino from 'pino';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from '../../../../balancer/registry';
import { noteState } from '../../../../balancer/stats/state-changes';
import { effectiveWeight } from '../../../../balancer/worker-state';
import type { Strategy } from '../../../../strategies';

/** State changes as the registry counts them (reconcile()) and a scrape completes them (noteState), on an injected clock. */

const T0 = 1_700_000_000_000;
const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: () => {}, onWorkerDown: () => {} };
const fakePool = () => ({ close: () => Promise.resolve(), rescueWaiting: () => 0 }) as never;
const URL = 'http://127.0.0.1:9000';

function setup(slowStartMs: number) {
  const clock = { now: T0 };
  const options: HealthOptions = {
    // A long interval: no real probe fires; results are fed in with recordProbe().
    active: { path: '/healthz', intervalMs: 3_600_000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 2, skipBusy: false },
    outlier: { consecutiveFailures: 2, baseEjectionMs: 5000, maxEjectionMs: 20_000 },
    panicThresholdPercent: 0,
    registrationTtlMs: 0,
    slowStartMs,
  };
  const registry = new WorkerRegistry(strategy, fakePool, pino({ level: 'silent' }), () => clock.now, options);
  registry.register({ url: URL, name: 'a', weight: 4 });
  return { registry, clock, worker: registry.get(URL)!, options };
}

const registries: WorkerRegistry[] = [];
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
});

describe('worker state changes', () => {
  it('starts with no change, dated at registration, and counts each change the registry makes as it happens', () => {
    const { registry, clock, worker } = setup(0);
    registries.push(registry);
    expect([worker.stats.lastState, worker.stats.stateChanges, worker.stats.stateSince]).toEqual(['up', 0, T0]);
    clock.now = T0 + 1000;
    registry.recordProbe(URL, false);
    registry.recordProbe(URL, false);
    expect([worker.stats.lastState, worker.stats.stateChanges, worker.stats.stateSince]).toEqual(['unhealthy', 1, T0 + 1000]);
    clock.now = T0 + 3000;
    registry.recordProbe(URL, true);
    registry.recordProbe(URL, true);
    expect([worker.stats.lastState, worker.stats.stateChanges, worker.stats.stateSince]).toEqual(['up', 2, T0 + 3000]);
  });

  it('counts a passive ejection as a change and in ejectionsTotal, which does not reset as the record`s ejections does', () => {
    const { registry, clock, worker } = setup(0);
    registries.push(registry);
    registry.recordExchange(worker, true);
    registry.recordExchange(worker, true);
    expect([worker.stats.lastState, worker.stats.stateChanges, worker.stats.ejectionsTotal, worker.ejections]).toEqual(['ejected', 1, 1, 1]);
    // Long after the ejection, a success forgets it on the record; the total keeps it.
    clock.now = T0 + 60_000;
    expect(noteState(worker, clock.now, 0)).toBe('up');
    registry.recordExchange(worker, false);
    expect([worker.stats.stateChanges, worker.stats.ejectionsTotal, worker.ejections]).toEqual([2, 1, 0]);
  });

  it('dates the end of slow start when its window closed, not when a scrape noticed it', () => {
    const { registry, clock, worker } = setup(10_000);
    registries.push(registry);
    expect(worker.stats.lastState).toBe('slow_starting');
    clock.now = T0 + 5000;
    expect(effectiveWeight(worker, clock.now, 10_000)).toBe(2);
    clock.now = T0 + 25_000;
    expect(noteState(worker, clock.now, 10_000)).toBe('up');
    expect([worker.stats.stateChanges, worker.stats.stateSince]).toEqual([1, T0 + 10_000]);
    expect(effectiveWeight(worker, clock.now, 10_000)).toBe(4);
  });

  it('counts both changes when slow start ended unseen before the next one', () => {
    const { registry, clock, worker } = setup(10_000);
    registries.push(registry);
    clock.now = T0 + 20_000;
    registry.recordProbe(URL, false);
    registry.recordProbe(URL, false);
    expect([worker.stats.lastState, worker.stats.stateChanges, worker.stats.stateSince]).toEqual(['unhealthy', 2, T0 + 20_000]);
    expect(effectiveWeight(worker, clock.now, 10_000)).toBe(0);
  });
});
