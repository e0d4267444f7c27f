import Redis from 'ioredis';
import pino from 'pino';
import { RedisBackend } from '../../../balancer/shared-registry/redis-backend';
import type { WorkerRegistry } from '../../../balancer/registry';
import { waitFor } from '../../helpers/processes';
import { primaryRegistry } from '../../helpers/registry-view-child';
import { redisServerAvailable, requireRedisServer, startRedis, type TestRedis } from '../../helpers/redis';

/**
 * Two replicas' RedisBackends on a real redis-server: a change through one is written to Redis once
 * (the revision counter moves by one), and the replica that applies it writes nothing back.
 */
let redis: TestRedis | undefined;
let client: Redis | undefined;
const PREFIX = 'echo:';
const replicas: { registry: WorkerRegistry; backend: RedisBackend }[] = [];

beforeAll(async () => {
  if (!redisServerAvailable()) return;
  redis = await startRedis();
  client = new Redis(redis.url);
  for (let i = 0; i < 2; i++) {
    const registry = primaryRegistry();
    replicas.push({
      registry,
      backend: new RedisBackend(registry, { url: redis.url, prefix: PREFIX, resyncIntervalMs: 60_000, ttlMs: 60_000, log: pino({ level: 'silent' }) }),
    });
  }
  await Promise.all(replicas.map((r) => r.backend.start()));
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.backend.close()));
  await Promise.all(replicas.map((r) => r.registry.close()));
  client?.disconnect();
  await redis?.stop();
});

const rev = async () => Number((await client!.get(`${PREFIX}rev`)) ?? 0);
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

test('a registration, a heartbeat, a drain and a deregistration are each one write to Redis, with no echo', async () => {
  if (!requireRedisServer('a change is one write to Redis, with no echo')) return;
  const [a, b] = replicas;
  const url = 'http://127.0.0.1:65040';
  const before = await rev();
  await a.backend.register({ url, name: 'w', weight: 1 });
  await waitFor(() => b.registry.get(url) !== undefined, 'registration on b');
  await settle();
  expect(await rev()).toBe(before + 1);

  await a.backend.register({ url, name: 'w', weight: 1 });
  await settle();
  expect(await rev()).toBe(before + 2);

  b.registry.drainWorker(b.registry.get(url)!);
  await waitFor(() => a.registry.get(url)?.drain?.by === 'admin', 'drain on a');
  await settle();
  expect(await rev()).toBe(before + 3);

  expect(await b.backend.deregister(url)).toBe(true);
  await waitFor(() => a.registry.get(url) === undefined, 'deregistration on a');
  await settle();
  expect(await rev()).toBe(before + 4);
});
