import { RegistryView } from '../../balancer/cluster/registry-view';
import { createLogger } from '../../balancer/logger';
import { WorkerRegistry, type WorkerRecord } from '../../balancer/registry';
import { UpstreamPool } from '../../balancer/upstream/pool';
import { createStrategy } from '../../strategies';

/**
 * A serving process without a listener, for the registry feed's tests and benchmark: a local view fed
 * by its parent over IPC (registry-view.ts), picked from by a weighted round robin, as a serving
 * process's gateway would. It tells the parent each change its view applied ({probe: 'applied'}), and
 * answers {probe: 'dump'} with its workers and the next `picks` picks. It exits when the parent goes.
 */

interface DumpRequest {
  probe?: string;
  picks?: number;
}

const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'serving');
const strategy = createStrategy<WorkerRecord>('weighted-round-robin', { random: Math.random, now: Date.now, hashKey: 'ip' });
const pools = { connectTimeoutMs: 1_000, responseTimeoutMs: 1_000, idleTimeoutMs: 1_000, maxConnections: 0 };
const registry = new WorkerRegistry(strategy, (origin) => new UpstreamPool(origin, pools), log);
registry.changes.subscribe((change) => process.send?.({ probe: 'applied', type: change.type, url: change.url }));

const view = new RegistryView(registry, log);
const { ready } = view.follow(process);
void ready.then(() => process.send?.({ probe: 'ready', pid: process.pid }));

process.on('message', (message: DumpRequest) => {
  if (message.probe !== 'dump') return;
  const workers = registry
    .describe()
    .map(({ url, name, weight, inRotation, drain, leaving }) => ({ url, name, weight, inRotation, drained: drain !== null, leaving }));
  const ctx = { req: { headers: {} }, clientIp: '127.0.0.1' };
  const picks = Array.from({ length: message.picks ?? 0 }, () => strategy.pick(ctx)?.url ?? null);
  process.send?.({ probe: 'state', workers, picks });
});

process.on('disconnect', () => void registry.close().finally(() => process.exit(0)));
