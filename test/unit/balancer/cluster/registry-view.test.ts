import { EventEmitter } from 'node:events';
import pino from 'pino';
import { RegistryBroadcaster, type ServingChannel } from '../../../../balancer/cluster/registry-broadcaster';
import { RegistryView } from '../../../../balancer/cluster/registry-view';
import { FEED_TAG, type FeedMessage } from '../../../../balancer/cluster/feed-messages';
import { WorkerRegistry, type WorkerRecord } from '../../../../balancer/registry';
import type { WorkerPool } from '../../../../balancer/upstream/pool';
import { createStrategy } from '../../../../strategies';
import { mulberry32 } from '../../../helpers/random';

/**
 * The view against the real registry it mirrors, in one process: both ends of an IPC channel are
 * stood in for by a pair of emitters that pass each message through JSON, as process.send does.
 */
const silent = pino({ level: 'silent' });
const pool = (): WorkerPool => ({ close: () => Promise.resolve() }) as unknown as WorkerPool;

function registry(clock: { now: number }): WorkerRegistry {
  const strategy = createStrategy<WorkerRecord>('weighted-round-robin', { random: mulberry32(1), now: () => clock.now, hashKey: 'ip' });
  return new WorkerRegistry(strategy, pool, silent, () => clock.now);
}

/** A connected pair: what one end sends, the other receives on the next turn, as JSON. */
function channelPair() {
  const primaryEnd = new EventEmitter();
  const servingEnd = new EventEmitter();
  const deliver = (to: EventEmitter) => (message: FeedMessage) => {
    const copy: unknown = JSON.parse(JSON.stringify(message));
    setImmediate(() => to.emit('message', copy));
    return true;
  };
  const primary = Object.assign(primaryEnd, { connected: true, send: deliver(servingEnd) }) as unknown as ServingChannel;
  const serving = Object.assign(servingEnd, { send: deliver(primaryEnd) });
  return { primary, serving };
}

// A turn of the check phase after the timer: every message queued before it (setImmediate) is delivered
// first, even when the timer is already due (a loaded machine took over 5 ms to send them).
const settle = () => new Promise((r) => setTimeout(() => setImmediate(r), 5));

/** What a pick depends on, for each worker the strategy may see. */
const state = (r: WorkerRegistry) =>
  r.describe().map(({ url, name, weight, inRotation, drain, leaving }) => ({ url, name, weight, inRotation, drained: drain !== null, leaving }));

describe('RegistryView', () => {
  it('follows a long seeded run of registrations, heartbeats, weights, drains and leaves exactly', async () => {
    const clock = { now: 1_000 };
    const primary = registry(clock);
    const local = registry(clock);
    const broadcaster = new RegistryBroadcaster(primary, silent);
    const { primary: toServing, serving } = channelPair();
    broadcaster.attach(toServing);
    await new RegistryView(local, silent).follow(serving).ready;

    const random = mulberry32(42);
    const urls = Array.from({ length: 5 }, (_, i) => `http://127.0.0.1:${9000 + i}`);
    for (let step = 0; step < 400; step++) {
      clock.now += 100;
      const url = urls[Math.floor(random() * urls.length)];
      const worker = primary.get(url);
      const action = Math.floor(random() * 6);
      if (!worker || action === 0) primary.register({ url, name: `n${Math.floor(random() * 3)}`, weight: 1 + Math.floor(random() * 4) });
      else if (action === 1) primary.drainWorker(worker);
      else if (action === 2) primary.readyWorker(worker);
      else if (action === 3) primary.overrideWeight(worker, random() < 0.5 ? undefined : 1 + Math.floor(random() * 4));
      else if (action === 4) primary.deregister(url, random() < 0.5 ? 'worker' : 'ttl');
      else primary.removeWorker(worker);
    }
    await settle();
    expect(state(local).filter((w) => !w.leaving)).toEqual(state(primary).filter((w) => !w.leaving));
    broadcaster.close();
  });

  it('a snapshot replaces the view: unlisted workers leave, a stale local drain is lifted', () => {
    const clock = { now: 1_000 };
    const local = registry(clock);
    const view = new RegistryView(local, silent);
    const [A, B] = ['http://127.0.0.1:9100', 'http://127.0.0.1:9101'];
    const joined = (url: string, drained: boolean) => ({
      type: 'joined' as const,
      url,
      name: 'w',
      weight: 2,
      registeredWeight: 2,
      drained,
      lastSeenAt: 500,
      healthy: true,
      ejectedUntil: 0,
    });
    view.apply({ tag: FEED_TAG, kind: 'snapshot', workers: [joined(A, true), joined(B, false)] });
    expect(state(local).map((w) => [w.url, w.drained])).toEqual([
      [A, true],
      [B, false],
    ]);

    view.apply({ tag: FEED_TAG, kind: 'snapshot', workers: [joined(A, false)] });
    expect(state(local).filter((w) => !w.leaving)).toEqual([{ url: A, name: 'w', weight: 2, inRotation: true, drained: false, leaving: false }]);
    expect(local.get(A)!.lastSeenAt).toBe(500);
  });

  it('refuses to follow without a channel to a primary, rather than waiting for a snapshot forever', () => {
    const view = new RegistryView(registry({ now: 1_000 }), silent);
    expect(() => view.follow(new EventEmitter())).toThrow('the registry view needs an IPC channel to the primary: this process was not forked by it');
  });

  it('the broadcaster drops a serving process whose channel closed, and keeps feeding the others', async () => {
    const clock = { now: 1_000 };
    const primary = registry(clock);
    const broadcaster = new RegistryBroadcaster(primary, silent);
    const alive = channelPair();
    const closed = channelPair();
    broadcaster.attach(alive.primary);
    broadcaster.attach(closed.primary);
    const local = registry(clock);
    await new RegistryView(local, silent).follow(alive.serving).ready;
    await new RegistryView(registry(clock), silent).follow(closed.serving).ready;
    expect(broadcaster.subscribers).toBe(2);

    (closed.primary as { send: unknown }).send = () => {
      throw new Error('Channel closed');
    };
    primary.register({ url: 'http://127.0.0.1:9200', name: 'w', weight: 1 });
    await settle();
    expect(broadcaster.subscribers).toBe(1);
    expect(local.urls()).toEqual(['http://127.0.0.1:9200']);
    broadcaster.close();
  });
});
