import pino from 'pino';
import { RedisBackend } from '../../../balancer/shared-registry/redis-backend';
import type { WorkerRegistry } from '../../../balancer/registry';
import { TrustPolicy } from '../../../balancer/proxy/forwarding';
import { WorkerAddressPolicy } from '../../../balancer/worker-address';
import { waitFor } from '../../helpers/processes';
import { primaryRegistry } from '../../helpers/registry-view-child';
import { redisServerAvailable, requireRedisServer, startRedis, type TestRedis } from '../../helpers/redis';

/**
 * Whoever can write to Redis can name a worker without the registration secret: a replica judges
 * every worker it learns from Redis as a registration would be, by its own WORKER_ALLOW and the
 * forbidden addresses. Written straight through a view here, as a process with Redis access but no
 * secret would. No health checks run and no request is proxied: nothing connects to any address.
 */
let redis: TestRedis | undefined;
let writer: RedisBackend | undefined;
let replica: { registry: WorkerRegistry; backend: RedisBackend; lines: string[] } | undefined;

beforeAll(async () => {
  if (!redisServerAvailable()) return;
  redis = await startRedis();
  const options = { url: redis.url, prefix: 'refuse:', resyncIntervalMs: 60_000, ttlMs: 60_000 };
  writer = new RedisBackend(primaryRegistry(), { ...options, log: pino({ level: 'silent' }) });
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const registry = primaryRegistry();
  const addresses = new WorkerAddressPolicy(new TrustPolicy('127.0.0.0/8'));
  replica = { registry, backend: new RedisBackend(registry, { ...options, log, addresses }), lines };
  await Promise.all([writer.start(), replica.backend.start()]);
});

afterAll(async () => {
  for (const backend of [writer, replica?.backend]) {
    if (backend === undefined) continue;
    await backend.close();
    await backend.registry.close();
  }
  await redis?.stop();
});

test('a worker written to Redis at a forbidden or disallowed address is not taken in; an allowed one is', async () => {
  if (!requireRedisServer('a replica refuses forbidden workers from Redis')) return;
  const put = (url: string) =>
    writer!.view.putWorker(
      { url, name: 'x', registeredWeight: 1, lastSeenAt: Date.now() },
      { type: 'joined', url, name: 'x', weight: 1, registeredWeight: 1, drained: false, lastSeenAt: Date.now() },
    );
  await put('http://169.254.169.254:80'); // cloud metadata: forbidden everywhere
  await put('http://192.0.2.7:8080'); // TEST-NET-1: outside this replica's WORKER_ALLOW
  await put('http://127.0.0.1:65051'); // allowed
  await waitFor(() => replica!.registry.get('http://127.0.0.1:65051') !== undefined, 'the allowed worker on the replica');
  expect(replica!.registry.urls()).toEqual(['http://127.0.0.1:65051']);
  const refused = replica!.lines.filter((l) => l.includes('a worker in Redis refused here')).map((l) => (JSON.parse(l) as { worker: string }).worker);
  expect(refused.sort()).toEqual(['http://169.254.169.254:80', 'http://192.0.2.7:8080'].sort());

  // Each heartbeat brings it back through Redis: refused again, logged once.
  await put('http://169.254.169.254:80');
  await put('http://127.0.0.1:65051');
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(replica!.registry.urls()).toEqual(['http://127.0.0.1:65051']);
  expect(replica!.lines.filter((l) => l.includes('a worker in Redis refused here'))).toHaveLength(2);
});
