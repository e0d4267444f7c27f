import pino from 'pino';
import { WorkerRegistry, type WorkerRecord } from '../../../balancer/registry';
import type { Strategy } from '../../../strategies';

const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: () => undefined, onWorkerDown: () => undefined };
const fakePool = () => ({ close: jest.fn().mockResolvedValue(undefined), rescueWaiting: jest.fn().mockReturnValue(0) }) as never;

/**
 * A balancer that was not running (SIGSTOP, a long GC, a VM migration) finds every heartbeat stale on
 * resume. The clock is jest's: setSystemTime() moves it without firing timers, as a stopped process
 * sees it; advanceTimersByTime() then fires the TTL sweep late.
 */
describe('registry after a pause of the balancer', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  function setup() {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    // TTL 1500 ms: the sweep runs every 500 ms.
    const registry = new WorkerRegistry(strategy, fakePool, log, () => Date.now(), { panicThresholdPercent: 0, registrationTtlMs: 1_500 });
    for (const name of ['a', 'b']) registry.register({ url: `http://127.0.0.1:${name === 'a' ? 9000 : 9001}`, name, weight: 1 });
    const pause = (ms: number) => jest.setSystemTime(Date.now() + ms);
    const heartbeat = () => registry.register({ url: 'http://127.0.0.1:9000', name: 'a', weight: 1 });
    const logged = (msg: string) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => String(l.msg).startsWith(msg));
    return { registry, pause, heartbeat, logged };
  }

  it('gives every worker one TTL of grace from the resume, then expires the ones still silent', async () => {
    const { registry, pause, heartbeat, logged } = setup();
    jest.advanceTimersByTime(400);
    pause(3_000);
    jest.advanceTimersByTime(100);
    // Both heartbeats are 3.5 s old, past the 1.5 s TTL; neither worker is dropped.
    expect(registry.urls().sort()).toEqual(['http://127.0.0.1:9000', 'http://127.0.0.1:9001']);
    expect(logged('balancer was paused')).toEqual([
      expect.objectContaining({ msg: 'balancer was paused for 3000 ms; workers get 1500 ms of grace', level: 40, pausedMs: 3_000, graceMs: 1_500, workers: 2 }),
    ]);
    // a's heartbeat, read once the balancer runs again; b stays silent.
    heartbeat();
    jest.advanceTimersByTime(1_000);
    expect(registry.urls().sort()).toEqual(['http://127.0.0.1:9000', 'http://127.0.0.1:9001']);
    jest.advanceTimersByTime(500);
    expect(registry.urls()).toEqual(['http://127.0.0.1:9000']);
    expect(logged('worker removed, draining')).toEqual([expect.objectContaining({ worker: 'http://127.0.0.1:9001', reason: 'heartbeat expired' })]);
    await registry.close();
  });

  it('without a pause, a silent worker expires one TTL after its last heartbeat, as before', async () => {
    const { registry, heartbeat, logged } = setup();
    for (let t = 0; t < 4; t++) {
      jest.advanceTimersByTime(500);
      heartbeat();
    }
    expect(registry.urls()).toEqual(['http://127.0.0.1:9000']);
    expect(logged('worker removed, draining')).toHaveLength(1);
    expect(logged('balancer was paused')).toEqual([]);
    await registry.close();
  });
});
