import { LeastConnections } from '../../../strategies/least-connections';
import { mulberry32 } from '../../helpers/random';
import { ctx, fakeWorkers, join, names, type FakeWorker } from './fixtures';

/** What the proxy does around an exchange: count first, then tell the strategy. */
function start(s: LeastConnections<FakeWorker>, w: FakeWorker): void {
  w.inflight++;
  s.onRequestStart(w);
}
function end(s: LeastConnections<FakeWorker>, w: FakeWorker): void {
  w.inflight--;
  s.onRequestEnd(w);
}
/** A pick followed by the start of the exchange, as the proxy does it. */
function send(s: LeastConnections<FakeWorker>): FakeWorker {
  const w = s.pick(ctx())!;
  start(s, w);
  return w;
}

describe('least-connections', () => {
  it('rotates among idle workers: a,b,c,a,b,c', () => {
    const s = new LeastConnections<FakeWorker>();
    join(s, fakeWorkers(['a', 'b', 'c']));
    expect(names(s, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('sends each request to the worker with the fewest in flight, ties in turn', () => {
    const s = new LeastConnections<FakeWorker>();
    const [a, b, c] = fakeWorkers(['a', 'b', 'c']);
    join(s, [a, b, c]);
    expect([send(s), send(s), send(s)].map((w) => w.name)).toEqual(['a', 'b', 'c']);
    end(s, b);
    expect(send(s).name).toBe('b');
    end(s, c);
    end(s, a);
    // c finished before a, so c is first in line among the idle ones; then b, longest at 1.
    expect([send(s), send(s), send(s)].map((w) => w.name)).toEqual(['c', 'a', 'b']);
    expect([a.inflight, b.inflight, c.inflight]).toEqual([1, 2, 1]);
  });

  it('rotates ties at any load, not only among idle workers', () => {
    const s = new LeastConnections<FakeWorker>();
    const workers = fakeWorkers(['a', 'b', 'c']);
    join(s, workers);
    for (const w of workers) [1, 2].forEach(() => start(s, w));
    expect(names(s, 6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('skips avoided workers to the next least loaded, and returns undefined if all are avoided', () => {
    const s = new LeastConnections<FakeWorker>();
    const [a, b, c] = fakeWorkers(['a', 'b', 'c']);
    join(s, [a, b, c]);
    start(s, b);
    start(s, c);
    start(s, c);
    expect(names(s, 2, new Set([a]))).toEqual(['b', 'b']);
    expect(names(s, 1, new Set([a, b]))).toEqual(['c']);
    expect(names(s, 1, new Set([a, b, c]))).toEqual(['-']);
  });

  it('lets a worker rejoin at its current count, ignoring the ends of requests it finished while out', () => {
    const s = new LeastConnections<FakeWorker>();
    const [a, b] = fakeWorkers(['a', 'b']);
    join(s, [a, b]);
    start(s, a);
    start(s, a);
    start(s, b);
    s.onWorkerDown(a);
    end(s, a); // the proxy reports it; the strategy no longer holds a
    expect(names(s, 3)).toEqual(['b', 'b', 'b']);
    s.onWorkerUp(a);
    s.onWorkerUp(a);
    expect(names(s, 2)).toEqual(['b', 'a']); // both at 1: b joined that count first
    start(s, b);
    expect(names(s, 1)).toEqual(['a']);
  });

  it('returns undefined with no workers', () => {
    expect(names(new LeastConnections<FakeWorker>(), 1)).toEqual(['-']);
  });

  it('always picks a least-loaded eligible worker through 10,000 random joins, leaves, starts, ends and retries', () => {
    const random = mulberry32(99);
    const s = new LeastConnections<FakeWorker>();
    const workers = fakeWorkers(12);
    const held = new Set<FakeWorker>();
    const pickAt = (n: number) => Math.floor(random() * n);
    for (let step = 0; step < 10_000; step++) {
      const w = workers[pickAt(workers.length)];
      const op = random();
      if (op < 0.05) {
        s.onWorkerUp(w);
        held.add(w);
      } else if (op < 0.08) {
        s.onWorkerDown(w);
        held.delete(w);
      } else if (op < 0.5) {
        if (w.inflight > 0) end(s, w);
      } else {
        const avoid = random() < 0.2 ? new Set([w]) : undefined;
        const eligible = [...held].filter((h) => !avoid?.has(h));
        const picked = s.pick(ctx(), avoid);
        if (eligible.length === 0) {
          expect(picked).toBeUndefined();
          continue;
        }
        expect(eligible).toContain(picked);
        expect(picked!.inflight).toBe(Math.min(...eligible.map((e) => e.inflight)));
        start(s, picked!);
      }
    }
  });
});
