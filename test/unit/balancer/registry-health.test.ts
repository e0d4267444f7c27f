import pino from 'pino';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from '../../../balancer/registry';
import type { Strategy } from '../../../strategies';

/** A strategy that only records who is in rotation. */
function recordingStrategy() {
  const members = new Set<string>();
  const strategy: Strategy<WorkerRecord> = {
    name: 'recording',
    pick: () => undefined,
    onWorkerUp: (w) => void members.add(w.name),
    onWorkerDown: (w) => void members.delete(w.name),
  };
  return { strategy, members };
}

const fakePool = () => ({ close: jest.fn().mockResolvedValue(undefined), rescueWaiting: jest.fn().mockReturnValue(0) }) as never;
const log = pino({ level: 'silent' });

describe('registry health state', () => {
  // Only the registry's own timers are faked; the health checker's shutdown needs real ticks.
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  const health = (overrides: Partial<HealthOptions> = {}): HealthOptions => ({
    // A long interval: no real probe fires during a test; results are fed in with recordProbe().
    active: { path: '/healthz', intervalMs: 3_600_000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 3, skipBusy: false },
    outlier: { consecutiveFailures: 2, baseEjectionMs: 5000, maxEjectionMs: 20_000 },
    panicThresholdPercent: 50,
    registrationTtlMs: 0,
    ...overrides,
  });

  function setup(names: string[], options = health()) {
    const { strategy, members } = recordingStrategy();
    const registry = new WorkerRegistry(strategy, fakePool, log, () => Date.now(), options);
    for (const name of names) registry.register({ url: `http://127.0.0.1:${9000 + names.indexOf(name)}`, name, weight: 1 });
    const byName = (name: string) => registry.get(`http://127.0.0.1:${9000 + names.indexOf(name)}`)!;
    return { registry, members, byName };
  }

  it('takes a worker out after the unhealthy threshold of failed probes and back after the healthy one', async () => {
    const { registry, members, byName } = setup(['a', 'b']);
    registry.recordProbe(byName('a').url, false);
    expect([...members].sort()).toEqual(['a', 'b']);
    const rescue = (byName('a').pool as unknown as { rescueWaiting: jest.Mock<number, [unknown]> }).rescueWaiting;
    expect(rescue).not.toHaveBeenCalled();
    registry.recordProbe(byName('a').url, false);
    expect([...members]).toEqual(['b']);
    // Its requests still waiting for an answer are called off, to be retried on a healthy worker.
    expect(rescue).toHaveBeenCalledTimes(1);
    expect(rescue.mock.calls[0][0]).toMatchObject({ code: 'WORKER_UNHEALTHY' });
    registry.recordProbe(byName('a').url, true);
    registry.recordProbe(byName('a').url, true);
    expect([...members]).toEqual(['b']);
    registry.recordProbe(byName('a').url, true);
    expect([...members].sort()).toEqual(['a', 'b']);
    await registry.close();
  });

  it('a success in between resets the failure count', async () => {
    const { registry, members, byName } = setup(['a']);
    for (const ok of [false, true, false]) registry.recordProbe(byName('a').url, ok);
    expect([...members]).toEqual(['a']);
    await registry.close();
  });

  it('ejects a worker after consecutive failed exchanges until the ejection runs out', async () => {
    const { registry, members, byName } = setup(['a', 'b', 'c']);
    registry.recordExchange(byName('a'), true);
    registry.recordExchange(byName('a'), true);
    expect([...members].sort()).toEqual(['b', 'c']);
    jest.advanceTimersByTime(5001);
    expect([...members].sort()).toEqual(['a', 'b', 'c']);
    await registry.close();
  });

  it('enters panic mode instead of ejecting below the threshold, and leaves it', async () => {
    const { registry, members, byName } = setup(['a', 'b']);
    registry.recordExchange(byName('a'), true);
    registry.recordExchange(byName('a'), true);
    expect([...members]).toEqual(['b']); // 1 of 2 left: exactly 50%, still allowed
    registry.recordExchange(byName('b'), true);
    registry.recordExchange(byName('b'), true);
    expect(registry.inPanic).toBe(true);
    expect([...members].sort()).toEqual(['a', 'b']); // would be none: route to all healthy instead
    jest.advanceTimersByTime(5001);
    expect(registry.inPanic).toBe(false);
    expect([...members].sort()).toEqual(['a', 'b']);
    await registry.close();
  });

  it('never routes to a worker the health checks took out, even in panic', async () => {
    const { registry, members, byName } = setup(['a', 'b']);
    registry.recordProbe(byName('a').url, false);
    registry.recordProbe(byName('a').url, false);
    registry.recordExchange(byName('b'), true);
    registry.recordExchange(byName('b'), true);
    expect(registry.inPanic).toBe(true);
    expect([...members]).toEqual(['b']);
    await registry.close();
  });

  it('drops a worker whose heartbeat stopped for REGISTRATION_TTL_MS, keeps one that refreshes', async () => {
    const { registry, members, byName } = setup(['a', 'b'], health({ registrationTtlMs: 3000 }));
    for (let t = 0; t < 4; t++) {
      jest.advanceTimersByTime(1000);
      registry.register({ url: byName('b').url, name: 'b', weight: 1 });
    }
    expect(registry.urls()).toEqual(['http://127.0.0.1:9001']);
    expect([...members]).toEqual(['b']);
    await registry.close();
  });

  it('stamps when a worker entered the rotation, for slow start', async () => {
    const { registry, byName } = setup(['a']);
    const joined = byName('a').rotationSince;
    expect(joined).toBe(Date.now());
    jest.advanceTimersByTime(10_000);
    registry.recordProbe(byName('a').url, false);
    registry.recordProbe(byName('a').url, false);
    for (let i = 0; i < 3; i++) registry.recordProbe(byName('a').url, true);
    expect(byName('a').rotationSince).toBe(joined + 10_000);
    await registry.close();
  });
});
