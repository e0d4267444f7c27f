import { RoundRobin } from '../../../strategies/round-robin';
import { fakeWorkers, join, names, type FakeWorker } from './fixtures';

describe('round-robin', () => {
  it('goes 1,2,3,1,2,3,1,2,3,1 over three workers, in the order they joined', () => {
    const rr = new RoundRobin<FakeWorker>();
    join(rr, fakeWorkers(['1', '2', '3']));
    expect(names(rr, 10)).toEqual(['1', '2', '3', '1', '2', '3', '1', '2', '3', '1']);
  });

  it('keeps the rotation when a worker before the cursor leaves: nobody skipped or repeated', () => {
    const rr = new RoundRobin<FakeWorker>();
    const [a, b, c, d] = fakeWorkers(['a', 'b', 'c', 'd']);
    join(rr, [a, b, c, d]);
    expect(names(rr, 2)).toEqual(['a', 'b']);
    rr.onWorkerDown(a);
    expect(names(rr, 6)).toEqual(['c', 'd', 'b', 'c', 'd', 'b']);
  });

  it('keeps the rotation when a worker after the cursor leaves', () => {
    const rr = new RoundRobin<FakeWorker>();
    const [a, b, c, d] = fakeWorkers(['a', 'b', 'c', 'd']);
    join(rr, [a, b, c, d]);
    expect(names(rr, 2)).toEqual(['a', 'b']);
    rr.onWorkerDown(d);
    expect(names(rr, 6)).toEqual(['c', 'a', 'b', 'c', 'a', 'b']);
  });

  it('goes on with the next when the worker just picked leaves', () => {
    const rr = new RoundRobin<FakeWorker>();
    const [a, b, c] = fakeWorkers(['a', 'b', 'c']);
    join(rr, [a, b, c]);
    expect(names(rr, 2)).toEqual(['a', 'b']);
    rr.onWorkerDown(b);
    expect(names(rr, 4)).toEqual(['c', 'a', 'c', 'a']);
  });

  it('puts a rejoining worker at the end of the rotation, once even if told twice', () => {
    const rr = new RoundRobin<FakeWorker>();
    const [a, b, c] = fakeWorkers(['a', 'b', 'c']);
    join(rr, [a, b, c]);
    rr.onWorkerDown(a);
    rr.onWorkerUp(a);
    rr.onWorkerUp(a);
    expect(names(rr, 6)).toEqual(['b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('skips avoided workers without losing its place, and returns undefined when all are avoided', () => {
    const rr = new RoundRobin<FakeWorker>();
    const [a, b, c] = fakeWorkers(['a', 'b', 'c']);
    join(rr, [a, b, c]);
    expect(names(rr, 4, new Set([b]))).toEqual(['a', 'c', 'a', 'c']);
    expect(names(rr, 1, new Set([a, b, c]))).toEqual(['-']);
  });

  it('returns undefined with no workers, and ignores the leaving of one it never had', () => {
    const rr = new RoundRobin<FakeWorker>();
    rr.onWorkerDown(fakeWorkers(1)[0]);
    expect(names(rr, 1)).toEqual(['-']);
  });
});
