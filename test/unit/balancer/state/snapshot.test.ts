import pino from 'pino';
import { WorkerRegistry, type WorkerRecord } from '../../../../balancer/registry';
import { parseSnapshot, snapshotOf } from '../../../../balancer/state/snapshot';
import type { WorkerPool } from '../../../../balancer/upstream/pool';
import type { Strategy } from '../../../../strategies';

const A = 'http://127.0.0.1:8081';
const B = 'http://127.0.0.1:8082';
const C = 'http://127.0.0.1:8083';

function registry(now: () => number) {
  const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: () => undefined, onWorkerDown: () => undefined };
  const createPool = (): WorkerPool => ({ close: () => Promise.resolve() }) as unknown as WorkerPool;
  return new WorkerRegistry(strategy, createPool, pino({ level: 'silent' }), now, { panicThresholdPercent: 0, registrationTtlMs: 15_000 });
}

describe('the registry snapshot', () => {
  it('holds the workers in registration order and the overrides, and reads back to the same', () => {
    const clock = { now: Date.parse('2026-01-01T00:00:00.000Z') };
    const reg = registry(() => clock.now);
    reg.register({ url: B, name: 'b', weight: 2 });
    clock.now += 1_000;
    reg.register({ url: A, name: 'a', weight: 1 });
    reg.drainWorker(reg.get(A)!);
    reg.overrideWeight(reg.get(B)!, 7);
    reg.register({ url: C, name: 'c', weight: 1 });
    reg.overrideWeight(reg.get(C)!, 3);
    reg.deregister(C);
    const file = snapshotOf(reg, clock.now);
    expect(file).toEqual({
      version: 1,
      writtenAt: '2026-01-01T00:00:01.000Z',
      workers: [
        { url: B, name: 'b', registeredWeight: 2, lastSeenAt: '2026-01-01T00:00:00.000Z' },
        { url: A, name: 'a', registeredWeight: 1, lastSeenAt: '2026-01-01T00:00:01.000Z' },
      ],
      overrides: [
        { url: A, drain: { since: '2026-01-01T00:00:01.000Z', by: 'admin' }, weight: null, absentSince: null },
        { url: B, drain: null, weight: 7, absentSince: null },
        { url: C, drain: null, weight: 3, absentSince: '2026-01-01T00:00:01.000Z' },
      ],
    });
    const parsed = parseSnapshot(JSON.stringify(file));
    expect(parsed).toEqual({
      snapshot: {
        writtenAt: clock.now,
        workers: [
          { url: B, name: 'b', registeredWeight: 2, lastSeenAt: clock.now - 1_000 },
          { url: A, name: 'a', registeredWeight: 1, lastSeenAt: clock.now },
        ],
        overrides: [
          { url: A, override: { drain: { since: clock.now, by: 'admin' }, weight: undefined, absentSince: undefined } },
          { url: B, override: { drain: undefined, weight: 7, absentSince: undefined } },
          { url: C, override: { drain: undefined, weight: 3, absentSince: clock.now } },
        ],
      },
    });
  });

  it('says why a file cannot be used, in one sentence', () => {
    const good = { version: 1, writtenAt: '2026-01-01T00:00:00.000Z', workers: [], overrides: [] };
    expect(parseSnapshot('{"version": 1, "work')).toEqual({ problem: 'it is not valid JSON' });
    expect(parseSnapshot(JSON.stringify({ ...good, version: 2 }))).toEqual({ problem: expect.stringMatching(/^version: /) });
    expect(parseSnapshot(JSON.stringify({ ...good, workers: [{ url: A, name: 'a', registeredWeight: 0, lastSeenAt: good.writtenAt }] }))).toEqual({
      problem: expect.stringMatching(/^workers\.0\.registeredWeight: /),
    });
    expect(parseSnapshot('[]')).toEqual({ problem: expect.stringMatching(/^the file: /) });
    expect(parseSnapshot(JSON.stringify(good))).toEqual({ snapshot: { writtenAt: Date.parse(good.writtenAt), workers: [], overrides: [] } });
  });
});
