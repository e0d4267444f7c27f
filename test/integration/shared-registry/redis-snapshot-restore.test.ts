import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SNAPSHOT_FILE } from '../../../balancer/state/state-dir';
import { startFleetWorker, type FleetWorker } from '../../helpers/fleet';
import { startBalancer, stateDirPerTest, waitFor, type RunningProcess } from '../../helpers/processes';
import { redisServerAvailable, requireRedisServer, startRedis, type TestRedis } from '../../helpers/redis';
import { signedPost } from '../../helpers/registration';

/**
 * REDIS_URL with STATE_DIR, real processes and a real redis-server: a replica restarted while Redis is
 * up takes the fleet from Redis, not from its own snapshot, which may be older (a worker that left
 * through another replica meanwhile would come back, for every replica). A replica restarted while
 * Redis is down serves from its snapshot.
 */

let redis: TestRedis | undefined;
let worker: FleetWorker;
const state = stateDirPerTest();

const workersOf = async (balancer: RunningProcess): Promise<string[]> => (await (await fetch(`${balancer.url}/workers`)).json()) as string[];

beforeAll(async () => {
  if (redisServerAvailable()) redis = await startRedis();
  worker = await startFleetWorker();
});
afterAll(async () => {
  await worker.close();
  await redis?.stop();
});

/** Replica A (with the test's STATE_DIR) and B; the worker, which never heartbeats, registered through A and in A's snapshot. */
async function fleetWithSnapshot(): Promise<{ env: Record<string, string>; a: RunningProcess; b: RunningProcess }> {
  const env = { REDIS_URL: redis!.url, REDIS_RESYNC_INTERVAL_MS: '250', REGISTRATION_TTL_MS: '60000', HEALTH_CHECK_INTERVAL_MS: '0', LOG_LEVEL: 'info' };
  const a = await startBalancer({ ...env, STATE_DIR: state.dir() });
  const b = await startBalancer(env);
  state.running.push(b);
  expect((await signedPost(a.url, 'register-worker', { url: worker.url, name: 'w' })).status).toBe(201);
  await waitFor(async () => (await workersOf(b)).includes(worker.url) || undefined, 'the worker in B');
  await waitFor(() => readFileSync(join(state.dir(), SNAPSHOT_FILE), 'utf8').includes(worker.url) || undefined, "the worker in A's snapshot");
  await a.stop();
  return { env, a, b };
}

test('restarted while Redis is up, a replica takes the fleet from Redis: a worker that left meanwhile stays gone', async () => {
  if (!requireRedisServer('a replica restarted while Redis is up')) return;
  const { env, b } = await fleetWithSnapshot();
  // While A is down, the worker leaves through B.
  expect((await signedPost(b.url, 'deregister-worker', { url: worker.url })).status).toBe(200);
  expect(await workersOf(b)).toEqual([]);

  const a = await startBalancer({ ...env, STATE_DIR: state.dir() });
  state.running.push(a);
  expect(await workersOf(a)).toEqual([]);
  expect(a.output()).toContain('"msg":"registry snapshot not restored: the shared registry (Redis) holds the fleet"');
  // Several resyncs later, nothing wrote it back for B either.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(await workersOf(b)).toEqual([]);
  expect(await workersOf(a)).toEqual([]);
});

test('restarted while Redis is down, a replica serves from its snapshot', async () => {
  if (!requireRedisServer('a replica restarted while Redis is down')) return;
  const { env } = await fleetWithSnapshot();
  await redis!.kill();
  try {
    const a = await startBalancer({ ...env, STATE_DIR: state.dir() });
    state.running.push(a);
    expect(await workersOf(a)).toEqual([worker.url]);
    expect(a.output()).toContain('"msg":"registry restored from the snapshot"');
  } finally {
    await redis!.start();
  }
});
