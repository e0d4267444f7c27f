import type { BalancerConfig } from '../config';
import type { Logger } from '../logger';
import type { WorkerRegistry } from '../registry';
import type { WorkerAddressPolicy } from '../worker-address';
import type { RedisBackend } from '../shared-registry/redis-backend';
import { MemoryBackend } from './memory';
import type { RegistryBackend } from './types';

type BackendSettings = Pick<BalancerConfig, 'REDIS_URL' | 'REDIS_KEY_PREFIX' | 'REDIS_RESYNC_INTERVAL_MS' | 'REGISTRATION_TTL_MS'>;

/**
 * Where the registry's truth lives, from the settings: Redis with REDIS_URL (several replicas),
 * else this process (the embedded default). Called once by createBalancer; with PROCESSES > 1 the
 * primary holds the backend this returns.
 */
export function createRegistryBackend(
  config: BackendSettings,
  registry: WorkerRegistry,
  log: Logger,
  now: () => number,
  addresses: WorkerAddressPolicy,
): RegistryBackend {
  if (config.REDIS_URL === undefined) return new MemoryBackend(registry, now);
  return new (loadRedisBackend())(registry, {
    url: config.REDIS_URL,
    prefix: config.REDIS_KEY_PREFIX,
    resyncIntervalMs: config.REDIS_RESYNC_INTERVAL_MS,
    ttlMs: config.REGISTRATION_TTL_MS,
    log,
    now,
    addresses,
  });
}

/**
 * ioredis is loaded only when REDIS_URL is set: a balancer without it has no use for its modules.
 * Loading it once made every proxied request cost about a third more user-space instructions, through
 * String.prototype (docs/performance.md, "Loading ioredis"); redis-client.ts undoes that now.
 */
function loadRedisBackend(): typeof RedisBackend {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load, on purpose (see above)
  return (require('../shared-registry/redis-backend') as typeof import('../shared-registry/redis-backend')).RedisBackend;
}
