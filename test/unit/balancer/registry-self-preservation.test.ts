import pino from 'pino';
import { WorkerRegistry, type WorkerRecord } from '../../../balancer/registry';
import type { Strategy } from '../../../strategies';

const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: () => undefined, onWorkerDown: () => undefined };
const fakePool = () => ({ close: () => Promise.resolve(), rescueWaiting: () => 0 }) as never;

/** HealthOptions.mayExpire: while it says false (REDIS_URL, Redis out of sight), the TTL sweep expires no one. */
describe('registry TTL sweep held by mayExpire', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('keeps silent workers while mayExpire is false, and expires them once it is true again', async () => {
    let storeVisible = false;
    const registry = new WorkerRegistry(strategy, fakePool, pino({ level: 'silent' }), () => Date.now(), {
      panicThresholdPercent: 0,
      registrationTtlMs: 1_500,
      mayExpire: () => storeVisible,
    });
    registry.register({ url: 'http://127.0.0.1:9000', name: 'a', weight: 1 });
    for (let t = 0; t < 10; t++) jest.advanceTimersByTime(500);
    expect(registry.urls()).toEqual(['http://127.0.0.1:9000']);
    storeVisible = true;
    jest.advanceTimersByTime(500);
    expect(registry.urls()).toEqual([]);
    await registry.close();
  });
});
