import { WeightedRoundRobin } from '../../../strategies/weighted-round-robin';
import { ctx, fakeWorkers, join, names, tally, type FakeWorker } from './fixtures';
import { mulberry32 } from '../../helpers/random';

function wrr(weights: number[], list = ['a', 'b', 'c', 'd'].slice(0, weights.length)): { s: WeightedRoundRobin<FakeWorker>; workers: FakeWorker[] } {
  const s = new WeightedRoundRobin<FakeWorker>();
  const workers = fakeWorkers(list, weights);
  join(s, workers);
  return { s, workers };
}

/** The longest run of the same name in a row. */
function longestRun(sequence: string[]): number {
  let best = 0;
  let run = 0;
  sequence.forEach((name, i) => {
    run = i > 0 && sequence[i - 1] === name ? run + 1 : 1;
    best = Math.max(best, run);
  });
  return best;
}

describe('weighted-round-robin', () => {
  it('interleaves 5,1,1 exactly as nginx does: a,a,b,a,c,a,a, period after period', () => {
    const { s } = wrr([5, 1, 1]);
    const period = ['a', 'a', 'b', 'a', 'c', 'a', 'a'];
    expect(names(s, 14)).toEqual([...period, ...period]);
  });

  it('never sends the heavy worker more than four in a row at 5,1,1 (a naive weighted rotation sends five)', () => {
    const { s } = wrr([5, 1, 1]);
    expect(longestRun(names(s, 700))).toBe(4);
  });

  it('splits 3:1 exactly over 400 picks, interleaved a,a,b,a', () => {
    const { s } = wrr([3, 1]);
    const sequence = names(s, 400);
    expect(sequence.slice(0, 8)).toEqual(['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a']);
    expect(countNames(sequence)).toEqual({ a: 300, b: 100 });
  });

  it('treats equal weights as plain round robin', () => {
    const { s } = wrr([1, 1, 1]);
    expect(names(s, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('follows a weight change: after b goes from 1 to 3, the split becomes 1:3', () => {
    const { s, workers } = wrr([1, 1]);
    names(s, 3);
    workers[1].weight = 3;
    s.onWeightChange(workers[1]);
    const counts = tally(s, 4_000);
    expect(Math.abs(counts.a - 1_000)).toBeLessThanOrEqual(1);
    expect(Math.abs(counts.b - 3_000)).toBeLessThanOrEqual(1);
  });

  it('ignores the weight change of a worker it does not hold, without letting it in', () => {
    const s = new WeightedRoundRobin<FakeWorker>();
    const [a, b] = fakeWorkers(['a', 'b'], [1, 1]);
    s.onWorkerUp(a);
    b.weight = 5;
    s.onWeightChange(b);
    expect(new Set(names(s, 10))).toEqual(new Set(['a']));
  });

  it('skips avoided workers, which neither gain nor lose for that pick, and returns undefined if all are avoided', () => {
    const { s, workers } = wrr([5, 1, 1]);
    const [a, b, c] = workers;
    expect(names(s, 4, new Set([a]))).toEqual(['b', 'c', 'b', 'c']);
    // a's current weight stayed 0 while b and c took turns, so it leads the next unrestricted pick.
    expect(names(s, 1)).toEqual(['a']);
    expect(names(s, 1, new Set([a, b, c]))).toEqual(['-']);
  });

  it('keeps the weighted split after a worker leaves, and takes it back, once, when it rejoins', () => {
    const { s, workers } = wrr([3, 2, 1]);
    const [, b] = workers;
    names(s, 4);
    s.onWorkerDown(b);
    const without = tally(s, 400);
    expect(without.b).toBeUndefined();
    expect(Math.abs(without.a - 300)).toBeLessThanOrEqual(1);
    s.onWorkerUp(b);
    s.onWorkerUp(b);
    const back = tally(s, 600);
    expect(Math.abs(back.a - 300)).toBeLessThanOrEqual(1);
    expect(Math.abs(back.b - 200)).toBeLessThanOrEqual(1);
    expect(Math.abs(back.c - 100)).toBeLessThanOrEqual(1);
  });

  it('counts a missing or non-positive weight as 1', () => {
    const { s } = wrr([0, Number.NaN]);
    expect(names(s, 4)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('returns undefined with no workers', () => {
    expect(names(new WeightedRoundRobin<FakeWorker>(), 1)).toEqual(['-']);
  });
});

function countNames(sequence: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of sequence) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/**
 * nginx's smooth weighted round robin written the plain O(n) way, as ngx_http_upstream_get_peer()
 * does it: every eligible peer gains its weight, the first of the largest wins and loses the total.
 * Peers already tried (avoid) are skipped: they neither gain nor count in the total.
 */
class NginxReference {
  private readonly peers: { worker: FakeWorker; weight: number; current: number }[] = [];

  pick(avoid?: ReadonlySet<FakeWorker>): FakeWorker | undefined {
    let best: { worker: FakeWorker; weight: number; current: number } | undefined;
    let total = 0;
    for (const peer of this.peers) {
      if (avoid?.has(peer.worker)) continue;
      peer.current += peer.weight;
      total += peer.weight;
      if (best === undefined || peer.current > best.current) best = peer;
    }
    if (best) best.current -= total;
    return best?.worker;
  }

  up(worker: FakeWorker): void {
    if (!this.peers.some((p) => p.worker === worker)) this.peers.push({ worker, weight: worker.weight, current: 0 });
  }

  down(worker: FakeWorker): void {
    const i = this.peers.findIndex((p) => p.worker === worker);
    if (i >= 0) this.peers.splice(i, 1);
  }

  weightChange(worker: FakeWorker): void {
    const peer = this.peers.find((p) => p.worker === worker);
    if (peer) peer.weight = worker.weight;
  }
}

describe('weighted-round-robin against a plain O(n) nginx implementation', () => {
  const WEIGHTS = [1, 2, 3, 5, 10];

  it("the reference itself gives nginx's 5,1,1 order", () => {
    const ref = new NginxReference();
    fakeWorkers(['a', 'b', 'c'], [5, 1, 1]).forEach((w) => ref.up(w));
    expect(Array.from({ length: 7 }, () => ref.pick()?.name)).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });

  /**
   * Both driven by one seeded sequence of joins, leaves, weight changes (in rotation or not), picks
   * and retries with avoid sets; the first step where they part, if any, is reported.
   */
  function firstDivergence(seed: number, steps: number, rebaseEvery?: number): string | undefined {
    const random = mulberry32(seed);
    const draw = <T>(list: T[]): T => list[Math.floor(random() * list.length)];
    const pool = fakeWorkers(
      40,
      Array.from({ length: 40 }, () => draw(WEIGHTS)),
    );
    const s = new WeightedRoundRobin<FakeWorker>({ rebaseEvery });
    const ref = new NginxReference();
    const members = new Set<FakeWorker>();
    for (const w of pool.slice(0, 12)) {
      s.onWorkerUp(w);
      ref.up(w);
      members.add(w);
    }
    for (let step = 0; step < steps; step++) {
      const r = random();
      const w = draw(pool);
      if (r < 0.06) {
        s.onWorkerUp(w); // sometimes already a member: must be ignored by both
        ref.up(w);
        members.add(w);
      } else if (r < 0.11) {
        s.onWorkerDown(w); // sometimes not a member
        ref.down(w);
        members.delete(w);
      } else if (r < 0.16) {
        w.weight = draw(WEIGHTS); // sometimes out of rotation, or unchanged
        s.onWeightChange(w);
        ref.weightChange(w);
      } else {
        let avoid: Set<FakeWorker> | undefined;
        if (r > 0.85) {
          // A retry: one to three tried workers, sometimes ones no longer held, now and then all of them.
          avoid = r > 0.99 ? new Set(members) : new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => draw(pool)));
        }
        const got = s.pick(ctx(), avoid);
        const want = ref.pick(avoid);
        if (got !== want) return `step ${step}: picked ${got?.name ?? '-'}, nginx picks ${want?.name ?? '-'}`;
      }
    }
    return undefined;
  }

  it.each([1, 2, 3, 4])("returns nginx's worker at every one of 4,000 random steps (seed %i)", (seed) => {
    expect(firstDivergence(seed, 4_000)).toBeUndefined();
  });

  it.each([5, 6])('stays exact across folds of the pick count into the bases (every 7 picks, seed %i)', (seed) => {
    expect(firstDivergence(seed, 4_000, 7)).toBeUndefined();
  });
});
