import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { WorkerRegistry, type WorkerRecord } from '../../../../balancer/registry';
import { lastSeenResolutionMs, SnapshotWriter, SNAPSHOT_DEBOUNCE_MS } from '../../../../balancer/state/snapshot-writer';
import type { SnapshotFile } from '../../../../balancer/state/snapshot';
import type { WorkerPool } from '../../../../balancer/upstream/pool';
import type { Strategy } from '../../../../strategies';

/**
 * The snapshot writer against a real registry and real files. Timers are jest's (setTimeout only), so
 * "no write is pending" is read as "no timer is armed"; the file system is the real one.
 */
const RESOLUTION_MS = 5_000;
const url = (i: number) => `http://127.0.0.1:${8080 + i}`;

let dir: string;
const writers: SnapshotWriter[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'snapshot-writer-'));
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'Date', 'performance'] });
});
afterEach(async () => {
  // No write of one test may land in the next one's timers.
  await Promise.all(writers.splice(0).map((w) => w.idle()));
  jest.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

function setup(path = join(dir, 'registry.json')) {
  const clock = { now: Date.parse('2026-01-01T00:00:00.000Z') };
  const lines: { msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  const strategy: Strategy<WorkerRecord> = { name: 'none', pick: () => undefined, onWorkerUp: () => undefined, onWorkerDown: () => undefined };
  const createPool = (): WorkerPool => ({ close: () => Promise.resolve() }) as unknown as WorkerPool;
  // No TTL, no health checks: the writer's debounce is the only timer there is.
  const registry = new WorkerRegistry(strategy, createPool, log, () => clock.now, { panicThresholdPercent: 0, registrationTtlMs: 0 });
  const writer = new SnapshotWriter(path, registry, log, () => clock.now, RESOLUTION_MS);
  writers.push(writer);
  writer.start();
  const read = () => JSON.parse(readFileSync(path, 'utf8')) as SnapshotFile;
  /** The armed write starts (its debounce elapses) and lands. */
  const elapse = async () => {
    jest.advanceTimersByTime(SNAPSHOT_DEBOUNCE_MS);
    await writer.idle();
  };
  return { clock, lines, registry, writer, path, read, elapse };
}

describe('SnapshotWriter', () => {
  it('writes a burst of registrations once, SNAPSHOT_DEBOUNCE_MS after the first', async () => {
    const { registry, path, read, writer } = setup();
    for (let i = 0; i < 20; i++) registry.register({ url: url(i), name: `w${i}`, weight: 1 });
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(SNAPSHOT_DEBOUNCE_MS - 1);
    await writer.idle();
    expect(existsSync(path)).toBe(false);
    jest.advanceTimersByTime(1);
    await writer.idle();
    expect(read().workers.map((w) => w.name)).toEqual(Array.from({ length: 20 }, (_, i) => `w${i}`));
    expect(jest.getTimerCount()).toBe(0);
  });

  it('arms no write for a heartbeat until the file’s lastSeenAt is the resolution old, but does for a rename', async () => {
    const { registry, clock, read, elapse } = setup();
    registry.register({ url: url(1), name: 'a', weight: 1 });
    await elapse();
    clock.now += 1_000;
    registry.register({ url: url(1), name: 'renamed', weight: 1 });
    expect(jest.getTimerCount()).toBe(1);
    await elapse();
    expect(read().workers).toMatchObject([{ name: 'renamed', lastSeenAt: '2026-01-01T00:00:01.000Z' }]);
    clock.now += RESOLUTION_MS - 1;
    registry.register({ url: url(1), name: 'renamed', weight: 1 });
    expect(jest.getTimerCount()).toBe(0);
    clock.now += 1;
    registry.register({ url: url(1), name: 'renamed', weight: 1 });
    expect(jest.getTimerCount()).toBe(1);
  });

  it('writes the exact state on close, then no more', async () => {
    const { registry, clock, writer, read } = setup();
    registry.register({ url: url(1), name: 'a', weight: 1 });
    registry.drainWorker(registry.get(url(1))!);
    clock.now += 1_234;
    await writer.close();
    expect(read()).toMatchObject({
      writtenAt: '2026-01-01T00:00:01.234Z',
      workers: [{ url: url(1), lastSeenAt: '2026-01-01T00:00:00.000Z' }],
      overrides: [{ url: url(1), drain: { by: 'admin' } }],
    });
    registry.register({ url: url(2), name: 'b', weight: 1 });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('says once that it cannot write, and once that it writes again', async () => {
    const stateDir = join(dir, 'gone');
    const { registry, lines, path, elapse } = setup(join(stateDir, 'registry.json'));
    for (let i = 1; i <= 3; i++) {
      registry.register({ url: url(i), name: `w${i}`, weight: 1 });
      await elapse();
    }
    mkdirSync(stateDir);
    registry.register({ url: url(4), name: 'w4', weight: 1 });
    await elapse();
    expect(existsSync(path)).toBe(true);
    expect(lines.map((l) => l.msg).filter((m) => /snapshot/.test(m))).toEqual([
      'could not write the registry snapshot; a restart now would lose the latest changes; retrying at the next change',
      'registry snapshot written again',
    ]);
  });
});

describe('lastSeenResolutionMs', () => {
  it('is a quarter of the TTL, between the debounce and 5 s, and 5 s without a TTL', () => {
    expect([0, 1_000, 8_000, 15_000, 60_000].map(lastSeenResolutionMs)).toEqual([5_000, SNAPSHOT_DEBOUNCE_MS, 2_000, 3_750, 5_000]);
  });
});
