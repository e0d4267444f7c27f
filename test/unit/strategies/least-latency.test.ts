import { LeastLatency, PEAK_EWMA_DEFAULT_LATENCY_MS, PEAK_EWMA_TAU_MS } from '../../../strategies/least-latency';
import { ctx, fakeDeps, fakeWorkers, join, names, tally, type FakeWorker } from './fixtures';

function setup(workerNames: string[], seed = 1) {
  const deps = fakeDeps(seed);
  const s = new LeastLatency<FakeWorker>(deps);
  const workers = fakeWorkers(workerNames);
  join(s, workers);
  const ok = (w: FakeWorker, latencyMs: number) => s.onRequestEnd(w, { ok: true, latencyMs });
  return { s, workers, clock: deps.clock, ok };
}

describe('least-latency (peak EWMA)', () => {
  it('starts every worker at the default latency', () => {
    const { s, workers } = setup(['a']);
    expect(s.cost(workers[0])).toBe(PEAK_EWMA_DEFAULT_LATENCY_MS);
  });

  it('jumps to a higher latency at once, and moves towards a lower one by elapsed time over tau', () => {
    const { s, workers, clock, ok } = setup(['a']);
    const [a] = workers;
    ok(a, 50);
    ok(a, 500);
    expect(s.cost(a)).toBe(500);
    clock.ms += PEAK_EWMA_TAU_MS;
    ok(a, 100);
    expect(s.cost(a)).toBeCloseTo(500 * Math.exp(-1) + 100 * (1 - Math.exp(-1)), 6);
  });

  it('decays towards zero while nothing is observed: 1/e per tau', () => {
    const { s, workers, clock, ok } = setup(['a']);
    ok(workers[0], 300);
    clock.ms += PEAK_EWMA_TAU_MS;
    expect(s.cost(workers[0])).toBeCloseTo(300 * Math.exp(-1), 6);
    clock.ms += PEAK_EWMA_TAU_MS;
    expect(s.cost(workers[0])).toBeCloseTo(300 * Math.exp(-2), 6);
  });

  it('multiplies the estimate by in-flight + 1', () => {
    const { s, workers, ok } = setup(['a']);
    ok(workers[0], 40);
    workers[0].inflight = 3;
    expect(s.cost(workers[0])).toBe(160);
  });

  it('does not let a fast failure make a worker look fast', () => {
    const { s, workers, ok } = setup(['a']);
    ok(workers[0], 200);
    s.onRequestEnd(workers[0], { ok: false, latencyMs: 1 });
    expect(s.cost(workers[0])).toBe(200);
    s.onRequestEnd(workers[0], { ok: false, latencyMs: 900 });
    expect(s.cost(workers[0])).toBe(900);
  });

  it('prefers the faster of two workers, unless its queue makes it costlier', () => {
    const { s, workers, ok } = setup(['slow', 'fast']);
    const [slow, fast] = workers;
    ok(slow, 200);
    ok(fast, 20);
    expect(new Set(names(s, 100))).toEqual(new Set(['fast']));
    fast.inflight = 10; // 20 x 11 = 220 > 200 x 1
    expect(new Set(names(s, 100))).toEqual(new Set(['slow']));
  });

  it('tries a worker it has not seen yet: its default latency beats the observed ones', () => {
    const { s, workers, ok } = setup(['a', 'b']);
    ok(workers[0], 80);
    ok(workers[1], 80);
    const [fresh] = fakeWorkers(['fresh']);
    s.onWorkerUp(fresh);
    expect(tally(s, 3_000).fresh).toBeGreaterThan(1_900); // in 2 of every 3 draws
  });

  it('chooses by power of two choices: by rank of cost, 1/2, 1/3, 1/6 and never the slowest (10,000 seeded picks)', () => {
    const { s, workers, ok } = setup(['l10', 'l20', 'l40', 'l80'], 77);
    workers.forEach((w, i) => ok(w, 10 * 2 ** i));
    const counts = tally(s, 10_000);
    expect(counts.l80).toBeUndefined();
    expect(Math.abs(counts.l10 - 5_000)).toBeLessThan(200);
    expect(Math.abs(counts.l20 - 3_333)).toBeLessThan(200);
    expect(Math.abs(counts.l40 - 1_667)).toBeLessThan(150);
  });

  it('gives a slow worker another try once its idle estimate has decayed below the busy ones (~tau x ln 20 for 1000 vs 50 ms)', () => {
    const { s, workers, clock, ok } = setup(['slow', 'fast']);
    const [slow, fast] = workers;
    ok(slow, 1000);
    ok(fast, 50);
    const start = clock.ms;
    let firstSlowAt = -1;
    while (clock.ms - start < 60_000 && firstSlowAt < 0) {
      clock.ms += 100;
      const w = s.pick(ctx())!;
      if (w === slow) firstSlowAt = clock.ms - start;
      else ok(fast, 50);
    }
    expect(firstSlowAt).toBeGreaterThan(29_000);
    expect(firstSlowAt).toBeLessThan(31_000);
  });

  it('skips avoided workers, returns the one left without drawing, undefined if none', () => {
    const { s, workers, ok } = setup(['a', 'b', 'c']);
    const [a, b, c] = workers;
    ok(a, 10);
    ok(b, 20);
    ok(c, 30);
    expect(new Set(names(s, 100, new Set([a])))).toEqual(new Set(['b']));
    expect(names(s, 2, new Set([a, b]))).toEqual(['c', 'c']);
    expect(names(s, 1, new Set([a, b, c]))).toEqual(['-']);
    expect(names(new LeastLatency<FakeWorker>(fakeDeps()), 1)).toEqual(['-']);
  });

  it('forgets a worker that leaves (its late outcomes are dropped) and starts it afresh when it rejoins, once', () => {
    const { s, workers, ok } = setup(['a', 'b']);
    const [a] = workers;
    ok(a, 900);
    s.onWorkerDown(a);
    ok(a, 5_000);
    expect(s.cost(a)).toBe(Infinity);
    expect(tally(s, 100).a).toBeUndefined();
    s.onWorkerUp(a);
    ok(a, 30);
    s.onWorkerUp(a);
    expect(s.cost(a)).toBe(30);
  });
});
