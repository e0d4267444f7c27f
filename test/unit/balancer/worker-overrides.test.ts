import { MAX_ABSENT_OVERRIDES, OperatorOverrides } from '../../../balancer/worker-overrides';

const url = (i: number) => `http://127.0.0.1:${10_000 + i}`;
const DRAIN = { since: 1, by: 'admin' as const };

describe('OperatorOverrides', () => {
  it('forgets an override left with neither a drain nor a weight', () => {
    const overrides = new OperatorOverrides(15_000);
    overrides.update(url(1), { drain: DRAIN });
    overrides.update(url(1), { weight: 4 });
    overrides.update(url(1), { drain: undefined });
    expect(overrides.get(url(1))).toEqual({ drain: undefined, weight: 4, absentSince: undefined });
    overrides.update(url(1), { weight: undefined });
    expect(overrides.size).toBe(0);
  });

  it('keeps an absent worker’s override for the retention, then forgets it when the worker comes back too late', () => {
    const overrides = new OperatorOverrides(15_000);
    overrides.update(url(1), { drain: DRAIN });
    overrides.absent(url(1), 1_000);
    expect(overrides.present(url(1), 16_000)).toMatchObject({ drain: DRAIN, absentSince: undefined });
    overrides.absent(url(1), 20_000);
    expect(overrides.present(url(1), 35_001)).toBeUndefined();
    expect(overrides.size).toBe(0);
  });

  it('drops expired absent overrides as another worker leaves, so URLs that never come back do not pile up', () => {
    const overrides = new OperatorOverrides(15_000);
    for (let i = 0; i < 100; i++) {
      overrides.update(url(i), { weight: 2 });
      overrides.absent(url(i), 1_000);
    }
    overrides.update(url(500), { weight: 2 });
    overrides.absent(url(500), 20_000);
    expect(overrides.size).toBe(1);
  });

  it(`keeps at most ${MAX_ABSENT_OVERRIDES} absent overrides, oldest absence first out, and never drops a present one`, () => {
    const overrides = new OperatorOverrides(0); // TTL 0: workers never expire, so only the cap bounds the map
    overrides.update(url(-1), { drain: DRAIN });
    for (let i = 0; i < MAX_ABSENT_OVERRIDES + 10; i++) {
      overrides.update(url(i), { weight: 3 });
      overrides.absent(url(i), 1_000 + i);
    }
    expect(overrides.size).toBe(MAX_ABSENT_OVERRIDES + 1);
    expect(overrides.get(url(-1))).toBeDefined();
    expect(overrides.get(url(9))).toBeUndefined();
    expect(overrides.get(url(10))).toBeDefined();
    expect(overrides.present(url(10), 1e12)).toMatchObject({ weight: 3 });
  });
});
