import { Writable } from 'node:stream';
import pino from 'pino';
import type { RegistryChange } from '../../../balancer/registry-changes';
import { RedisRegistryView } from '../../../balancer/shared-registry/redis-view';
import type { SharedWorker } from '../../../balancer/shared-registry/types';
import { waitFor } from '../../helpers/processes';
import { redisServerAvailable, requireRedisServer, startRedis, type TestRedis } from '../../helpers/redis';

/** Two replicas' views of one real redis-server: what one learns, the other sees; an outage loses nothing. */

interface Replica {
  view: RedisRegistryView;
  logs: { msg: string; level: number }[];
}

const TTL_MS = 60_000;
let redis: TestRedis | undefined;
const replicas: Replica[] = [];

function replica(url: string): Replica {
  const logs: Replica['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Replica['logs'][number]);
      done();
    },
  });
  const view = new RedisRegistryView({ url, log: pino({ level: 'info' }, sink), ttlMs: TTL_MS, resyncIntervalMs: 250, maxBackoffMs: 100 });
  const r = { view, logs };
  replicas.push(r);
  return r;
}

async function twoReplicas(): Promise<[Replica, Replica]> {
  const a = replica(redis!.url);
  const b = replica(redis!.url);
  await Promise.all([a.view.start(), b.view.start()]);
  await waitFor(() => a.view.shared && b.view.shared, 'both views connected');
  return [a, b];
}

let seq = 0;
function worker(): SharedWorker {
  seq += 1;
  return { url: `http://127.0.0.1:${40000 + seq}`, name: `w${seq}`, registeredWeight: 1, lastSeenAt: Date.now() };
}

function joined(w: SharedWorker): RegistryChange {
  return {
    type: 'joined',
    url: w.url,
    name: w.name,
    weight: w.registeredWeight,
    registeredWeight: w.registeredWeight,
    drained: false,
    lastSeenAt: w.lastSeenAt,
  };
}

const count = (r: Replica, text: string) => r.logs.filter((l) => l.msg.includes(text)).length;

beforeAll(async () => {
  if (redisServerAvailable()) redis = await startRedis();
});

afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.view.close()));
});

afterAll(async () => {
  await redis?.stop();
});

test('a registration through one replica reaches the other', async () => {
  if (!requireRedisServer('a registration through one replica reaches the other')) return;
  const [a, b] = await twoReplicas();
  const seen: RegistryChange[] = [];
  b.view.subscribe((c) => seen.push(c));
  const w = worker();
  await a.view.putWorker(w, joined(w));
  await waitFor(() => b.view.workers().get(w.url), 'the worker in the other view', 1_000);
  expect(b.view.workers().get(w.url)).toEqual(w);
  expect(seen).toContainEqual(joined(w));
});

test('a nonce accepted through one replica is refused through the other', async () => {
  if (!requireRedisServer('a nonce accepted through one replica is refused through the other')) return;
  const [a, b] = await twoReplicas();
  expect(await a.view.claimNonce('00112233445566778899aabbccddeeff', 30_000)).toEqual({ ok: true, value: true });
  expect(await b.view.claimNonce('00112233445566778899aabbccddeeff', 30_000)).toEqual({ ok: true, value: false });
  expect(await a.view.claimNonce('00112233445566778899aabbccddeeff', 30_000)).toEqual({ ok: true, value: false });
});

test('a deregistration through one replica leaves the other', async () => {
  if (!requireRedisServer('a deregistration through one replica leaves the other')) return;
  const [a, b] = await twoReplicas();
  const w = worker();
  await a.view.putWorker(w, joined(w));
  await waitFor(() => b.view.workers().has(w.url), 'the worker in the other view');
  await b.view.removeWorker(w.url, { type: 'left', url: w.url, by: 'worker' });
  expect(b.view.workers().has(w.url)).toBe(false);
  await waitFor(() => !a.view.workers().has(w.url), 'the worker gone from the first view');
});

test('an operator override through one replica is shared', async () => {
  if (!requireRedisServer('an operator override through one replica is shared')) return;
  const [a, b] = await twoReplicas();
  const w = worker();
  await a.view.putWorker(w, joined(w));
  await a.view.putOverride(w.url, { drain: { since: 123 }, weight: 7 }, { type: 'drained', url: w.url, since: 123 });
  await waitFor(() => b.view.overrides().get(w.url)?.weight === 7, 'the override in the other view');
  expect(b.view.overrides().get(w.url)).toEqual({ drain: { since: 123 }, weight: 7 });
  await b.view.putOverride(w.url, undefined, { type: 'readied', url: w.url });
  await waitFor(() => !a.view.overrides().has(w.url), 'the override forgotten in the first view');
});

test('an expired record leaves every view at the next resynchronisation', async () => {
  if (!requireRedisServer('an expired record leaves every view at the next resynchronisation')) return;
  const [a, b] = await twoReplicas();
  const w = { ...worker(), lastSeenAt: Date.now() - TTL_MS + 300 }; // 300 ms of its TTL left
  const left: RegistryChange[] = [];
  b.view.subscribe((c) => c.type === 'left' && left.push(c));
  await a.view.putWorker(w, joined(w));
  await waitFor(() => left.length > 0, 'the expired worker leaving the other view');
  expect(left).toEqual([{ type: 'left', url: w.url, by: 'ttl' }]);
  expect(b.view.workers().has(w.url)).toBe(false);
});

test('Redis killed: both views keep their workers and log once; back: what was learned meanwhile reaches the other', async () => {
  if (!requireRedisServer('Redis killed and back')) return;
  const [a, b] = await twoReplicas();
  const before = worker();
  await a.view.putWorker(before, joined(before));
  await waitFor(() => b.view.workers().has(before.url), 'the first worker in the other view');

  await redis!.kill();
  await waitFor(() => !a.view.shared && !b.view.shared, 'both views noticing the outage');
  const during = worker();
  await a.view.putWorker(during, joined(during)); // Redis is gone: kept locally, written back later
  expect(a.view.workers().has(during.url)).toBe(true);
  // Several reconnection attempts fail meanwhile (backoff capped at 100 ms): still one outage line each.
  await new Promise((r) => setTimeout(r, 1_000));
  for (const r of [a, b]) {
    expect(r.view.workers().has(before.url)).toBe(true);
    expect(count(r, 'unreachable')).toBe(1);
    expect(count(r, 'reachable again')).toBe(0);
  }

  await redis!.start(); // empty: nothing was saved
  await waitFor(() => b.view.workers().has(during.url), 'the worker registered during the outage in the other view');
  await waitFor(() => a.view.shared && b.view.shared, 'both views reconnected');
  for (const r of [a, b]) {
    expect(r.view.workers().has(before.url)).toBe(true);
    expect(count(r, 'unreachable')).toBe(1);
    expect(count(r, 'reachable again')).toBe(1);
  }
});

test('a replica started while Redis is down serves its own view and shares it once Redis is up', async () => {
  if (!requireRedisServer('a replica started while Redis is down')) return;
  const own = await startRedis();
  try {
    await own.kill();
    const a = replica(own.url);
    await a.view.start();
    expect(a.view.shared).toBe(false);
    const w = worker();
    await a.view.putWorker(w, joined(w));
    expect(a.view.workers().has(w.url)).toBe(true);
    expect(count(a, 'unreachable')).toBe(1);

    await own.start();
    const b = replica(own.url);
    await b.view.start();
    await waitFor(() => b.view.workers().has(w.url), 'the worker in the view of a replica started later');
    expect(a.view.shared).toBe(true);
    expect(count(a, 'reachable again')).toBe(1);
    expect(count(b, 'unreachable')).toBe(0);
  } finally {
    await own.stop();
  }
});

test('nonces accepted while Redis was down are claimed on reconnect: a replay through the other replica is refused', async () => {
  if (!requireRedisServer('nonces accepted while Redis was down')) return;
  const [a, b] = await twoReplicas();
  await redis!.kill();
  await waitFor(() => !a.view.shared && !b.view.shared, 'both views noticing the outage');
  const once = 'aa112233445566778899aabbccddeeff';
  const twice = 'bb112233445566778899aabbccddeeff';
  // Unreachable: the caller's local replay guard is all there is (RedisBackend accepts on its word).
  expect((await a.view.claimNonce(once, 30_000)).ok).toBe(false);
  // The same nonce at both replicas during the outage: neither could tell.
  expect((await a.view.claimNonce(twice, 30_000)).ok).toBe(false);
  expect((await b.view.claimNonce(twice, 30_000)).ok).toBe(false);

  await redis!.start();
  await waitFor(() => a.view.shared && b.view.shared, 'both views reconnected');
  // A resync asked for now runs after any under way, and writes back first: both write-backs are done after these.
  expect((await a.view.resync()).ok).toBe(true);
  expect((await b.view.resync()).ok).toBe(true);
  expect(await b.view.claimNonce(once, 30_000)).toEqual({ ok: true, value: false });
  expect(await a.view.claimNonce(twice, 30_000)).toEqual({ ok: true, value: false });
  // The second replica to write it back found it claimed, and said so once.
  const usedTwice = 'a registration nonce accepted during the Redis outage was also used at another replica';
  expect(count(a, usedTwice) + count(b, usedTwice)).toBe(1);
});
