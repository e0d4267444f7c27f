import { RandomStrategy } from '../../../strategies/random';
import { fakeDeps, fakeWorkers, join, names, tally, type FakeWorker } from './fixtures';

describe('random', () => {
  it('spreads 10,000 picks evenly over three workers (seeded; each within 3 standard deviations of 3,333)', () => {
    const random = new RandomStrategy<FakeWorker>(fakeDeps(42));
    join(random, fakeWorkers(3));
    const counts = tally(random, 10_000);
    expect(Object.keys(counts).sort()).toEqual(['w1', 'w2', 'w3']);
    for (const n of Object.values(counts)) expect(Math.abs(n - 10_000 / 3)).toBeLessThan(150);
  });

  it('draws from deps.random: 0 gives the first worker, just under 1 the last, and 1 itself stays in range', () => {
    const draws = [0, 0.999999, 1];
    const random = new RandomStrategy<FakeWorker>({ random: () => draws.shift()! });
    join(random, fakeWorkers(3));
    expect(names(random, 3)).toEqual(['w1', 'w3', 'w3']);
  });

  it('spreads evenly over the workers not avoided, and never picks an avoided one', () => {
    const random = new RandomStrategy<FakeWorker>(fakeDeps(7));
    const workers = fakeWorkers(4);
    join(random, workers);
    const counts = tally(random, 10_000, new Set([workers[1]]));
    expect(counts.w2).toBeUndefined();
    for (const name of ['w1', 'w3', 'w4']) expect(Math.abs(counts[name] - 10_000 / 3)).toBeLessThan(150);
    // The retry's reshuffling does not bias later picks without avoid.
    const after = tally(random, 10_000);
    for (const name of ['w1', 'w2', 'w3', 'w4']) expect(Math.abs(after[name] - 2_500)).toBeLessThan(130);
  });

  it('follows leaves and rejoins, and counts a worker announced twice once', () => {
    const random = new RandomStrategy<FakeWorker>(fakeDeps(3));
    const [a, b, c] = fakeWorkers(['a', 'b', 'c']);
    join(random, [a, b, c, a]);
    random.onWorkerDown(b);
    expect(tally(random, 1_000).b).toBeUndefined();
    random.onWorkerUp(b);
    const counts = tally(random, 9_000);
    for (const name of ['a', 'b', 'c']) expect(Math.abs(counts[name] - 3_000)).toBeLessThan(150);
  });
});
