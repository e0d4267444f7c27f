import pino from 'pino';
import { FEED_TAG, type FeedMessage } from '../../../../balancer/cluster/feed-messages';
import { OutcomeReporter } from '../../../../balancer/cluster/passive-outcomes';
import { RegistryView } from '../../../../balancer/cluster/registry-view';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from '../../../../balancer/registry';
import type { RegistryChange } from '../../../../balancer/registry-changes';
import type { WorkerPool } from '../../../../balancer/upstream/pool';
import { createStrategy } from '../../../../strategies';
import { mulberry32 } from '../../../helpers/random';

/**
 * Health in the registry feed (PROCESSES): the primary's registry emits its verdicts (`health`) and
 * passive ejections (`ejected`); a view applied them to a registry with no checks of its own, which
 * takes the worker out of its rotation and back as the primary's does. The reporter tells the
 * primary of failures and of the first success after them only.
 */
const silent = pino({ level: 'silent' });
const A = 'http://127.0.0.1:9200';
const B = 'http://127.0.0.1:9201';
const pool = (): WorkerPool => ({ close: () => Promise.resolve(), rescueWaiting: () => 0 }) as unknown as WorkerPool;
const PRIMARY_HEALTH: HealthOptions = {
  active: { path: '/healthz', intervalMs: 60_000, timeoutMs: 1_000, unhealthyThreshold: 2, healthyThreshold: 2, skipBusy: false },
  outlier: { consecutiveFailures: 3, baseEjectionMs: 10_000, maxEjectionMs: 60_000 },
  panicThresholdPercent: 0,
  registrationTtlMs: 0,
};

function registry(clock: { now: number }, health?: HealthOptions): WorkerRegistry {
  const strategy = createStrategy<WorkerRecord>('round-robin', { random: mulberry32(1), now: () => clock.now, hashKey: 'ip' });
  return new WorkerRegistry(strategy, pool, silent, () => clock.now, health);
}

function fleet() {
  const clock = { now: 1_000 };
  const primary = registry(clock, PRIMARY_HEALTH);
  const local = registry(clock);
  const view = new RegistryView(local, silent);
  const changes: RegistryChange[] = [];
  // What the broadcaster does, minus the channel: each change, through JSON, to the view.
  primary.changes.subscribe((change) => {
    changes.push(change);
    view.apply(JSON.parse(JSON.stringify({ tag: FEED_TAG, kind: 'change', change })) as FeedMessage);
  });
  primary.register({ url: A, name: 'a', weight: 1 });
  primary.register({ url: B, name: 'b', weight: 1 });
  const rotation = (r: WorkerRegistry) => r.describe().map((w) => [w.url, w.inRotation]);
  return { clock, primary, local, changes, rotation, close: () => Promise.all([primary.close(), local.close()]) };
}

describe('health verdicts in the registry feed', () => {
  it('an active-check verdict flips in the primary and the view alike, both ways', async () => {
    const { primary, local, changes, rotation, close } = fleet();
    primary.recordProbe(A, false);
    primary.recordProbe(A, false);
    expect(changes.at(-1)).toEqual({ type: 'health', url: A, healthy: false });
    expect(rotation(local)).toEqual(rotation(primary));
    expect(rotation(local)).toEqual([
      [A, false],
      [B, true],
    ]);
    primary.recordProbe(A, true);
    primary.recordProbe(A, true);
    expect(changes.at(-1)).toEqual({ type: 'health', url: A, healthy: true });
    expect(rotation(local)).toEqual([
      [A, true],
      [B, true],
    ]);
    await close();
  });

  it('a passive ejection in the primary reaches the view with its end', async () => {
    const { primary, local, changes, rotation, close } = fleet();
    for (let i = 0; i < 3; i++) primary.recordExchange(primary.get(B)!, true);
    expect(changes.at(-1)).toEqual({ type: 'ejected', url: B, until: 11_000 });
    expect(local.get(B)!.ejectedUntil).toBe(11_000);
    expect(rotation(local)).toEqual([
      [A, true],
      [B, false],
    ]);
    // A view has no outlier detector of its own: local failures change nothing there.
    for (let i = 0; i < 5; i++) local.recordExchange(local.get(A)!, true);
    expect(local.get(A)!.inRotation).toBe(true);
    await close();
  });

  it("a snapshot carries the primary's verdicts, so a new serving process starts from them", async () => {
    const { primary, close } = fleet();
    primary.recordProbe(A, false);
    primary.recordProbe(A, false);
    const fresh = registry({ now: 1_000 });
    new RegistryView(fresh, silent).apply({
      tag: FEED_TAG,
      kind: 'snapshot',
      workers: [A, B].map((url) => {
        const w = primary.get(url)!;
        return { type: 'joined', url, name: w.name, weight: 1, registeredWeight: 1, drained: false, lastSeenAt: 1_000, healthy: w.healthy, ejectedUntil: 0 };
      }),
    });
    expect(fresh.describe().map((w) => [w.url, w.healthy, w.inRotation])).toEqual([
      [A, false, false],
      [B, true, true],
    ]);
    await Promise.all([close(), fresh.close()]);
  });
});

it("the view's own timer lets an ejected worker back when the primary's ejection ends", async () => {
  const primary = new WorkerRegistry(
    createStrategy<WorkerRecord>('round-robin', { random: Math.random, now: Date.now, hashKey: 'ip' }),
    pool,
    silent,
    Date.now,
    {
      ...PRIMARY_HEALTH,
      outlier: { consecutiveFailures: 1, baseEjectionMs: 100, maxEjectionMs: 1_000 },
    },
  );
  const local = new WorkerRegistry(createStrategy<WorkerRecord>('round-robin', { random: Math.random, now: Date.now, hashKey: 'ip' }), pool, silent);
  const view = new RegistryView(local, silent);
  primary.changes.subscribe((change) => view.apply({ tag: FEED_TAG, kind: 'change', change }));
  primary.register({ url: A, name: 'a', weight: 1 });
  primary.recordExchange(primary.get(A)!, true);
  expect(local.get(A)!.inRotation).toBe(false);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(local.get(A)!.inRotation).toBe(true);
  await Promise.all([primary.close(), local.close()]);
});

describe('OutcomeReporter', () => {
  it('tells each failure and the first success after failures, never the other successes', () => {
    const told: [string, boolean][] = [];
    const reporter = new OutcomeReporter((url, failed) => told.push([url, failed]));
    for (const [url, failed] of [
      [A, false],
      [A, false],
      [A, true],
      [B, false],
      [A, true],
      [A, false],
      [A, false],
      [B, true],
      [B, false],
    ] as const)
      reporter.note(url, failed);
    expect(told).toEqual([
      [A, true],
      [A, true],
      [A, false],
      [B, true],
      [B, false],
    ]);
  });
});
