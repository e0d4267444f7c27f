import { PowerOfTwo } from '../../../strategies/power-of-two';
import { fakeDeps, fakeWorkers, join, names, tally, type FakeWorker } from './fixtures';

describe('power-of-two', () => {
  it('always picks the less loaded of two workers, because the two draws are distinct', () => {
    const p2c = new PowerOfTwo<FakeWorker>(fakeDeps(1));
    const [idle, busy] = fakeWorkers(['idle', 'busy']);
    busy.inflight = 1;
    join(p2c, [idle, busy]);
    expect(new Set(names(p2c, 1_000))).toEqual(new Set(['idle']));
  });

  it('picks by rank: with loads 0,1,2,3 the shares are 1/2, 1/3, 1/6 and never the busiest (10,000 seeded picks)', () => {
    const p2c = new PowerOfTwo<FakeWorker>(fakeDeps(2024));
    const workers = fakeWorkers(['l0', 'l1', 'l2', 'l3']);
    workers.forEach((w, i) => (w.inflight = i));
    join(p2c, workers);
    const counts = tally(p2c, 10_000);
    expect(counts.l3).toBeUndefined();
    // P(rank r wins) = P(r is drawn with a busier one) = 2(n-1-r) / (n(n-1)).
    expect(Math.abs(counts.l0 - 5_000)).toBeLessThan(200);
    expect(Math.abs(counts.l1 - 3_333)).toBeLessThan(200);
    expect(Math.abs(counts.l2 - 1_667)).toBeLessThan(150);
  });

  it('is uniform when all are equally loaded', () => {
    const p2c = new PowerOfTwo<FakeWorker>(fakeDeps(5));
    join(p2c, fakeWorkers(4));
    for (const n of Object.values(tally(p2c, 10_000))) expect(Math.abs(n - 2_500)).toBeLessThan(150);
  });

  it('draws from deps.random: i from the first draw, j from the rest; ties keep the first', () => {
    const draws = [0, 0, 0.9, 0.9];
    const p2c = new PowerOfTwo<FakeWorker>({ random: () => draws.shift()! });
    join(p2c, fakeWorkers(3));
    // (0, 0) -> w1 vs w2, tie -> w1; (0.9, 0.9) -> w3 vs w2, tie -> w3.
    expect(names(p2c, 2)).toEqual(['w1', 'w3']);
  });

  it('chooses among the workers not avoided, the only one left without drawing, none if all avoided', () => {
    const p2c = new PowerOfTwo<FakeWorker>(fakeDeps(9));
    const [a, b, c] = fakeWorkers(['a', 'b', 'c']);
    a.inflight = 0;
    b.inflight = 1;
    c.inflight = 2;
    join(p2c, [a, b, c]);
    expect(new Set(names(p2c, 200, new Set([a])))).toEqual(new Set(['b']));
    expect(new Set(names(p2c, 20, new Set([a, b])))).toEqual(new Set(['c']));
    expect(names(p2c, 1, new Set([a, b, c]))).toEqual(['-']);
  });

  it('follows leaves and rejoins', () => {
    const p2c = new PowerOfTwo<FakeWorker>(fakeDeps(11));
    const [a, b, c] = fakeWorkers(['a', 'b', 'c']);
    join(p2c, [a, b, c]);
    p2c.onWorkerDown(a);
    expect(tally(p2c, 500).a).toBeUndefined();
    p2c.onWorkerUp(a);
    p2c.onWorkerUp(a);
    for (const n of Object.values(tally(p2c, 9_000))) expect(Math.abs(n - 3_000)).toBeLessThan(150);
  });
});
