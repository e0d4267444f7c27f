import { histogramQuantile, perSecond, SnapshotRing, windowDelta } from '../../../../balancer/stats/windows';

describe('SnapshotRing', () => {
  it('finds the oldest snapshot inside the window, its edge included', () => {
    const ring = new SnapshotRing(4, 1);
    ring.push(1000, [1]);
    ring.push(2000, [5]);
    ring.push(3000, [9]);
    expect(ring.oldestWithin(3000, 2000)).toEqual({ at: 1000, counters: Float64Array.of(1) });
    expect(ring.oldestWithin(3000, 1999)).toEqual({ at: 2000, counters: Float64Array.of(5) });
    expect(ring.oldestWithin(9000, 1000)).toBeUndefined();
  });

  it('overwrites the oldest snapshot once full, so the window can reach back capacity - 1 pushes at most', () => {
    const ring = new SnapshotRing(3, 2);
    for (let t = 1; t <= 5; t++) ring.push(t * 1000, [t, 10 * t]);
    // Held: t = 3, 4, 5; 1 and 2 were overwritten.
    expect(ring.oldestWithin(5000, 60_000)).toEqual({ at: 3000, counters: Float64Array.of(3, 30) });
    expect(ring.bytes).toBe(3 * 8 + 3 * 2 * 8);
  });
});

describe('windowDelta and perSecond', () => {
  it('subtracts the baseline from the live counters and measures the time since it', () => {
    const ring = new SnapshotRing(61, 2);
    ring.push(0, [0, 0]);
    ring.push(50_000, [400, 4]);
    ring.push(55_000, [450, 5]);
    const last10s = windowDelta(ring, [500, 7], 60_000, 10_000);
    expect([...last10s.counts, last10s.elapsedMs]).toEqual([100, 3, 10_000]);
    expect(perSecond(last10s.counts[0], last10s.elapsedMs)).toBe(10);
    const lastMinute = windowDelta(ring, [500, 7], 60_000, 60_000);
    expect([...lastMinute.counts, lastMinute.elapsedMs]).toEqual([500, 7, 60_000]);
  });

  it('counts nothing over no time when the window holds no snapshot, and never a negative count', () => {
    const ring = new SnapshotRing(4, 1);
    ring.push(0, [10]);
    const empty = windowDelta(ring, [20], 100_000, 10_000);
    expect([...empty.counts, empty.elapsedMs]).toEqual([0, 0]);
    expect(perSecond(5, 0)).toBe(0);
    expect([...windowDelta(ring, [3], 1000, 10_000).counts]).toEqual([0]);
  });
});

describe('histogramQuantile', () => {
  const bounds = [1, 10, 100];

  it('interpolates linearly inside the slot holding the rank, from the previous bound', () => {
    // 10 in (0,1], 10 in (1,10]: the median is the top of the first slot, p75 halfway up the second.
    expect(histogramQuantile(0.5, [10, 10, 0, 0], bounds)).toBe(1);
    expect(histogramQuantile(0.75, [10, 10, 0, 0], bounds)).toBe(5.5);
    expect(histogramQuantile(0.99, [0, 0, 100, 0], bounds)).toBeCloseTo(99.1);
  });

  it('skips empty slots, answers the last bound for a rank beyond it, and undefined for no data', () => {
    expect(histogramQuantile(0.5, [0, 4, 0, 0], bounds)).toBe(5.5);
    expect(histogramQuantile(0.99, [1, 0, 0, 99], bounds)).toBe(100);
    expect(histogramQuantile(0.5, [0, 0, 0, 0], bounds)).toBeUndefined();
  });
});
