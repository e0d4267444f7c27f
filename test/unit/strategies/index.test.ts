import { createStrategy, strategyNames, type Strategy } from '../../../strategies';
import { ctx, fakeDeps, fakeWorkers, join, type FakeWorker } from './fixtures';

const ALL = ['round-robin', 'weighted-round-robin', 'least-connections', 'power-of-two', 'random', 'consistent-hash', 'least-latency'];

/** Plays the proxy around one exchange, so hooks run as in production. */
function exchange(s: Strategy<FakeWorker>, avoid?: ReadonlySet<FakeWorker>): FakeWorker | undefined {
  const w = s.pick(ctx(), avoid);
  if (!w) return undefined;
  w.inflight++;
  s.onRequestStart?.(w);
  w.inflight--;
  s.onRequestEnd?.(w, { ok: true, latencyMs: 5 });
  return w;
}

describe('createStrategy', () => {
  it('accepts exactly the seven strategy names', () => {
    expect([...strategyNames].sort()).toEqual([...ALL].sort());
    for (const name of ALL) expect(createStrategy(name, fakeDeps()).name).toBe(name);
  });

  it('rejects an unknown name with a message listing the accepted ones', () => {
    expect(() => createStrategy('fastest', fakeDeps())).toThrow(`unknown strategy "fastest"; accepted: ${strategyNames.join(', ')}`);
    for (const name of ALL) expect(() => createStrategy('nope', fakeDeps())).toThrow(name);
  });
});

describe.each(ALL)('every strategy: %s', (name) => {
  let strategy: Strategy<FakeWorker>;
  let workers: FakeWorker[];

  beforeEach(() => {
    strategy = createStrategy<FakeWorker>(name, fakeDeps(123));
    workers = fakeWorkers(4);
  });

  it('returns undefined with no workers', () => {
    expect(strategy.pick(ctx())).toBeUndefined();
  });

  it('picks only workers it was given and not since removed, and reaches every one of them', () => {
    join(strategy, workers.slice(0, 3));
    strategy.onWorkerDown(workers[1]);
    strategy.onWorkerDown(workers[3]); // never added: ignored
    const seen = new Set<FakeWorker>();
    for (let i = 0; i < 300; i++) seen.add(strategy.pick(ctx(`10.0.${i >> 8}.${i & 255}`))!);
    expect(seen).toEqual(new Set([workers[0], workers[2]]));
  });

  it('honours avoid, and returns undefined when every worker is avoided', () => {
    join(strategy, workers);
    const avoid = new Set(workers.slice(0, 3));
    for (let i = 0; i < 50; i++) expect(strategy.pick(ctx(`10.1.0.${i}`), avoid)).toBe(workers[3]);
    expect(strategy.pick(ctx(), new Set(workers))).toBeUndefined();
  });

  it('handles a worker leaving and rejoining, and onWorkerUp twice, as one membership', () => {
    join(strategy, workers);
    strategy.onWorkerUp(workers[0]);
    strategy.onWorkerDown(workers[0]);
    for (let i = 0; i < 100; i++) expect(exchange(strategy)).not.toBe(workers[0]);
    strategy.onWorkerUp(workers[0]);
    strategy.onWorkerUp(workers[0]);
    strategy.onWorkerDown(workers[0]);
    // Had the second onWorkerUp added a copy, one onWorkerDown would leave it pickable.
    for (let i = 0; i < 100; i++) expect(strategy.pick(ctx(`10.2.0.${i}`))).not.toBe(workers[0]);
  });

  it('tolerates hooks for workers it does not hold (requests that outlive a removal, weight changes out of rotation)', () => {
    join(strategy, workers.slice(0, 2));
    const outsider = workers[3];
    expect(() => {
      strategy.onRequestStart?.(outsider);
      strategy.onRequestEnd?.(outsider, { ok: true, latencyMs: 1 });
      strategy.onWeightChange?.(outsider);
    }).not.toThrow();
    for (let i = 0; i < 50; i++) expect(exchange(strategy)).not.toBe(outsider);
  });

  it('takes randomness and time only from deps, never Math.random or Date.now', () => {
    const random = jest.spyOn(Math, 'random');
    const now = jest.spyOn(Date, 'now');
    try {
      const s = createStrategy<FakeWorker>(name, fakeDeps(5));
      join(s, workers);
      for (let i = 0; i < 100; i++) exchange(s, i % 3 === 0 ? new Set([workers[0]]) : undefined);
      s.onWorkerDown(workers[1]);
      s.onWeightChange?.(workers[2]);
      expect(random).not.toHaveBeenCalled();
      expect(now).not.toHaveBeenCalled();
    } finally {
      random.mockRestore();
      now.mockRestore();
    }
  });
});
