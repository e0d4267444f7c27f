import { signedPayload } from '../../../utils/auth';
import { startBalancer, startWorker, TEST_SECRET, waitFor, waitForWorkers, type RunningProcess } from '../../helpers/processes';
import { redisServerAvailable, requireRedisServer, startRedis, type TestRedis } from '../../helpers/redis';
import { postRaw } from '../../helpers/registration';
import { ADMIN_TEST_TOKEN, adminCall, details, workerPath, type AdminBalancer } from '../../helpers/admin';

/**
 * Two balancer processes (replicas A and B) sharing one registry through a real redis-server
 * (REDIS_URL). The tests run in order on one fleet: the outage test comes last and leaves Redis back up.
 * A 3 s TTL with 1 s heartbeats, so the 4 s outage is longer than a TTL: only self-preservation keeps
 * a worker that heartbeats A in B's view meanwhile.
 */

const TTL_MS = 3_000;
let redis: TestRedis | undefined;
let a: AdminBalancer;
let b: AdminBalancer;
const workers: RunningProcess[] = [];

const names = (balancer: RunningProcess) => async (): Promise<string[]> => (await (await fetch(`${balancer.url}/workers`)).json()) as string[];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The names of the workers that answered `count` GET / through `balancer` (round robin: each in turn). */
async function servedBy(balancer: RunningProcess, count: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${balancer.url}/`);
    expect(res.status).toBe(200);
    seen.add(/^Server: (\S+),/.exec(await res.text())?.[1] ?? '?');
  }
  return seen;
}

const linesOf = (p: RunningProcess, text: string) =>
  p
    .output()
    .split('\n')
    .filter((l) => l.includes(text)).length;

beforeAll(async () => {
  if (!redisServerAvailable()) return;
  redis = await startRedis();
  const env = { REDIS_URL: redis.url, REDIS_RESYNC_INTERVAL_MS: '500', REGISTRATION_TTL_MS: String(TTL_MS), LOG_LEVEL: 'info', ADMIN_TOKEN: ADMIN_TEST_TOKEN };
  [a, b] = await Promise.all([startBalancer(env), startBalancer(env)]);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all([a, b].filter(Boolean).map((p) => p.stop()));
  await redis?.stop();
});

test('a worker that registers with A is served by B', async () => {
  if (!requireRedisServer('a worker that registers with A is served by B')) return;
  const w1 = await startWorker('w1', a);
  workers.push(w1);
  await waitForWorkers(b, [w1.url]);
  expect(await servedBy(b, 3)).toEqual(new Set(['w1']));
  // The URL may hold a password: the balancer logs host:port only.
  expect(b.output()).toContain(`"redis":"127.0.0.1:${redis!.port}"`);
  expect(b.output()).not.toContain(redis!.url);
});

test('a worker stopped with SIGTERM deregisters through B and leaves A too, long before its TTL', async () => {
  if (!requireRedisServer('a worker stopped with SIGTERM deregisters through B')) return;
  const w2 = await startWorker('w2', b);
  await waitForWorkers(a, [workers[0].url, w2.url]);
  await w2.stop('SIGTERM');
  await waitForWorkers(a, [workers[0].url], TTL_MS - 500);
  await waitForWorkers(b, [workers[0].url], 1_000);
  // A learnt of the deregistration through Redis: its reason is B's, not an expiry.
  const removal = a
    .output()
    .split('\n')
    .find((l) => l.includes('"worker removed, draining"') && l.includes(`"worker":"${w2.url}"`));
  expect(removal).toContain('"reason":"deregistered"');
});

test('a registration accepted by A is refused when replayed against B', async () => {
  if (!requireRedisServer('a registration accepted by A is refused when replayed against B')) return;
  const captured = signedPayload({ url: 'http://127.0.0.1:65030', name: 'replayed' }, TEST_SECRET);
  expect((await postRaw(a.url, 'register-worker', captured.body, captured.signature)).status).toBe(201);
  const replay = await postRaw(b.url, 'register-worker', captured.body, captured.signature);
  expect(replay).toEqual({ status: 401, body: { error: 'replayed_nonce', message: 'nonce was already used' } });
  // Gone again for the next test (nothing listens there).
  const gone = signedPayload({ url: 'http://127.0.0.1:65030' }, TEST_SECRET);
  expect((await postRaw(a.url, 'deregister-worker', gone.body, gone.signature)).status).toBe(200);
  await waitForWorkers(b, [workers[0].url], 1_000);
});

test("an operator's drain and weight through one replica's admin API reach the other", async () => {
  if (!requireRedisServer("an operator's drain and weight reach the other replica")) return;
  const w1 = workers[0];
  const detail = async (p: RunningProcess) => (await details(p)).find((w) => w.url === w1.url && !w.leaving);
  expect((await adminCall(await a.adminUrl(), 'POST', workerPath(w1.url, '/drain'))).status).toBe(200);
  await waitFor(async () => (await detail(b))?.drain?.by === 'admin', 'drain on b');
  // Its only worker drained, B has nobody to send to.
  expect((await fetch(`${b.url}/`)).status).toBe(503);
  expect((await adminCall(await a.adminUrl(), 'POST', workerPath(w1.url, '/ready'))).status).toBe(200);
  await waitFor(async () => (await detail(b))?.inRotation === true, 'ready on b');
  expect(await servedBy(b, 2)).toEqual(new Set(['w1']));

  const bAdmin = await b.adminUrl();
  expect((await adminCall(bAdmin, 'PUT', workerPath(w1.url, '/weight'), { body: JSON.stringify({ weight: 4 }) })).status).toBe(200);
  // Outlives w1's heartbeats (weight 1) through A.
  await waitFor(async () => (await detail(a))?.weightOverride === 4, 'weight on a');
  await sleep(1_500);
  expect(await detail(a)).toMatchObject({ weight: 4, registeredWeight: 1 });
  expect((await adminCall(bAdmin, 'PUT', workerPath(w1.url, '/weight'), { body: JSON.stringify({ weight: null }) })).status).toBe(200);
  await waitFor(async () => (await detail(a))?.weightOverride === null, 'weight reset on a');
});

test('Redis killed: both keep serving; Redis back: a worker that registered with A meanwhile reaches B', async () => {
  if (!requireRedisServer('Redis killed: both keep serving')) return;
  const w1 = workers[0];
  await redis!.kill();
  await waitFor(() => linesOf(a, 'shared registry (Redis) unreachable') > 0 && linesOf(b, 'shared registry (Redis) unreachable') > 0, 'outage logged');
  const w3 = await startWorker('w3', a);
  workers.push(w3);
  await waitForWorkers(a, [w1.url, w3.url]);
  // Longer than a TTL: w1 heartbeats A only, and B expires nobody while it cannot see Redis.
  await sleep(TTL_MS + 1_000);
  expect(await servedBy(a, 4)).toEqual(new Set(['w1', 'w3']));
  expect(await servedBy(b, 4)).toEqual(new Set(['w1']));
  expect((await names(b)()).sort()).toEqual([w1.url]);

  await redis!.start();
  await waitForWorkers(b, [w1.url, w3.url], 10_000);
  expect(await servedBy(b, 4)).toEqual(new Set(['w1', 'w3']));
  // Past one TTL after the end of the outage, nobody was dropped: the replicas wrote back what they learned.
  await sleep(TTL_MS);
  expect((await names(b)()).sort()).toEqual([w1.url, w3.url].sort());
  expect((await names(a)()).sort()).toEqual([w1.url, w3.url].sort());
  for (const replica of [a, b]) {
    expect(linesOf(replica, 'shared registry (Redis) unreachable')).toBe(1);
    expect(linesOf(replica, 'shared registry (Redis) reachable again')).toBe(1);
  }
}, 40_000);
