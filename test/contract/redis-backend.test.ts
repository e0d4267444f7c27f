import pino from 'pino';
import { RedisBackend } from '../../balancer/shared-registry/redis-backend';
import { waitFor } from '../helpers/processes';
import { primaryRegistry } from '../helpers/registry-view-child';
import { redisServerAvailable, requireRedisServer, startRedis, type TestRedis } from '../helpers/redis';
import { localHandle } from './local-handle';
import { registryBackendContract } from './registry-backend.contract';

// Two replicas in this process, each its own WorkerRegistry and RedisBackend, on one real redis-server.
// Each fleet gets its own key prefix, so no test sees another's workers, overrides or nonces.
let redis: TestRedis | undefined;
let fleets = 0;

beforeAll(async () => {
  if (redisServerAvailable()) redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

describe('registry backend contract: redis', () => {
  if (!redisServerAvailable()) {
    test('needs redis-server', () => {
      requireRedisServer('registry backend contract: redis');
    });
    return;
  }
  registryBackendContract(async () => {
    const prefix = `contract-${process.pid}-${++fleets}:`;
    const replicas = [0, 1].map(() => {
      const registry = primaryRegistry();
      const backend = new RedisBackend(registry, { url: redis!.url, prefix, resyncIntervalMs: 500, ttlMs: 60_000, log: pino({ level: 'silent' }) });
      return { registry, backend };
    });
    await Promise.all(replicas.map((r) => r.backend.start()));
    await waitFor(() => replicas.every((r) => r.backend.shared), 'both replicas following Redis');
    const [a, b] = replicas;
    return {
      a: localHandle(a.backend),
      b: localHandle(b.backend),
      close: async () => {
        await Promise.all(replicas.map((r) => r.backend.close()));
        await Promise.all(replicas.map((r) => r.registry.close()));
      },
    };
  });
});
