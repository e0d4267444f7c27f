import { overrideChanges, workerChanges } from '../../../../balancer/shared-registry/snapshot-diff';
import type { SharedOverride, SharedWorker } from '../../../../balancer/shared-registry/types';

const w = (port: number, extra: Partial<SharedWorker> = {}): SharedWorker => ({
  url: `http://127.0.0.1:${port}`,
  name: `w${port}`,
  registeredWeight: 1,
  lastSeenAt: 1000,
  ...extra,
});
const byUrl = <T extends { url: string }>(items: T[]) => new Map(items.map((i) => [i.url, i]));

describe('workerChanges', () => {
  test('a new record joined, a missing one left by ttl, an unchanged one says nothing', () => {
    const changes = workerChanges(byUrl([w(1), w(2)]), [w(2), w(3)]);
    expect(changes).toEqual([
      { type: 'joined', url: w(3).url, name: 'w3', weight: 1, registeredWeight: 1, drained: false, lastSeenAt: 1000 },
      { type: 'left', url: w(1).url, by: 'ttl' },
    ]);
  });

  test('a later heartbeat is a refresh, a new name a rename, a new weight a weight change', () => {
    const changes = workerChanges(byUrl([w(1)]), [w(1, { lastSeenAt: 2000, name: 'renamed', registeredWeight: 5 })]);
    expect(changes).toEqual([
      { type: 'refreshed', url: w(1).url, name: 'renamed', lastSeenAt: 2000, renamed: true },
      { type: 'weight_changed', url: w(1).url, weight: 5, registeredWeight: 5 },
    ]);
  });
});

describe('overrideChanges', () => {
  const url = 'http://127.0.0.1:1';
  const o = (drain: number | undefined, weight: number | undefined): SharedOverride => ({ drain: drain === undefined ? undefined : { since: drain }, weight });

  test('a drain and a weight that appear are a drain and an override change', () => {
    expect(overrideChanges(new Map(), new Map([[url, o(5, 3)]]))).toEqual([
      { type: 'drained', url, since: 5 },
      { type: 'override_changed', url, weight: 3 },
    ]);
  });

  test('an override that disappears readies the worker and resets its weight', () => {
    expect(overrideChanges(new Map([[url, o(5, 3)]]), new Map())).toEqual([
      { type: 'readied', url },
      { type: 'override_changed', url, weight: undefined },
    ]);
  });

  test('the same override says nothing', () => {
    expect(overrideChanges(new Map([[url, o(5, 3)]]), new Map([[url, o(5, 3)]]))).toEqual([]);
  });
});
