import { chooseWorker } from '../../../../balancer/proxy/choose-worker';
import type { WorkerRecord } from '../../../../balancer/registry';
import { RoundRobin } from '../../../../strategies/round-robin';

const worker = (name: string, rotationSince: number) =>
  ({ url: `http://127.0.0.1/${name}`, name, weight: 1, inflight: 0, rotationSince }) as unknown as WorkerRecord;
const ctx = { req: { headers: {} }, clientIp: '127.0.0.1' };

describe('chooseWorker with slow start', () => {
  it('gives a worker that just joined a share that grows over the window', () => {
    const strategy = new RoundRobin<WorkerRecord>();
    const old = worker('old', -100_000);
    const fresh = worker('fresh', 0);
    strategy.onWorkerUp(old);
    strategy.onWorkerUp(fresh);
    let now = 0;
    let seed = 1;
    // A fixed sequence stands in for randomness: deterministic and evenly spread.
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const shareAt = (t: number) => {
      now = t;
      let freshPicks = 0;
      for (let i = 0; i < 2000; i++) if (chooseWorker(strategy, ctx, undefined, { windowMs: 10_000, now: () => now, random }) === fresh) freshPicks++;
      return freshPicks / 2000;
    };
    const early = shareAt(1000);
    const middle = shareAt(5000);
    const done = shareAt(10_000);
    expect(early).toBeLessThan(0.1);
    // Round robin: a declined pick moves the rotation on, so halfway the share is 1/3, not 1/4.
    expect(middle).toBeGreaterThan(0.28);
    expect(middle).toBeLessThan(0.38);
    expect(middle).toBeGreaterThan(early);
    expect(done).toBe(0.5);
  });

  it('still picks a warming worker when it is the only one left', () => {
    const strategy = new RoundRobin<WorkerRecord>();
    const only = worker('only', 0);
    strategy.onWorkerUp(only);
    expect(chooseWorker(strategy, ctx, undefined, { windowMs: 10_000, now: () => 1, random: () => 0.99 })).toBe(only);
  });

  it('returns undefined when the strategy has nobody', () => {
    expect(chooseWorker(new RoundRobin<WorkerRecord>(), ctx, undefined, { windowMs: 0, now: () => 0, random: () => 0 })).toBeUndefined();
  });
});
