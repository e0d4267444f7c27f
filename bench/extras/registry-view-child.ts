import { RegistryView } from '../../balancer/cluster/registry-view';
import { answerStatsRequests } from '../../balancer/cluster/stats-answer';
import { createLogger } from '../../balancer/logger';
import { WorkerRegistry, type WorkerRecord } from '../../balancer/registry';
import { GatewayStats } from '../../balancer/stats/gateway-stats';
import { UpstreamPool } from '../../balancer/upstream/pool';
import { createStrategy } from '../../strategies';

/**
 * A serving process without a listener, for the registry feed's tests and benchmark: a local view fed
 * by its parent over IPC (registry-view.ts), picked from by a weighted round robin, as a serving
 * process's gateway would. It tells the parent each change its view applied ({probe: 'applied'}), and
 * answers {probe: 'dump'} with its workers and the next `picks` picks. It exits when the parent goes.
 * It answers the primary's requests for its counters (stats-answer.ts); {probe: 'respond'} counts
 * `count` responses of `status` from `url` into its record, and {probe: 'block'} blocks its event loop
 * for `ms`, as a serving process stuck in a long synchronous task would.
 */

interface DumpRequest {
  probe?: string;
  picks?: number;
  url?: string;
  count?: number;
  status?: number;
  ms?: number;
}

const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'serving');
const strategy = createStrategy<WorkerRecord>('weighted-round-robin', { random: Math.random, now: Date.now, hashKey: 'ip' });
const pools = { connectTimeoutMs: 1_000, responseTimeoutMs: 1_000, idleTimeoutMs: 1_000, maxConnections: 0 };
const registry = new WorkerRegistry(strategy, (origin) => new UpstreamPool(origin, pools), log);
registry.changes.subscribe((change) => process.send?.({ probe: 'applied', type: change.type, url: change.url }));

const view = new RegistryView(registry, log);
const { ready } = view.follow(process);
void ready.then(() => process.send?.({ probe: 'ready', pid: process.pid }));
answerStatsRequests(process, { registry, gateway: new GatewayStats(), clientConnectionsOpen: () => 0 }, log);

process.on('message', (message: DumpRequest) => {
  if (message.probe === 'respond') {
    const stats = registry.get(message.url ?? '')?.stats;
    for (let i = 0; i < (message.count ?? 0); i++) stats?.recordResponse(message.status ?? 200, 3);
    return void process.send?.({ probe: 'responded' });
  }
  if (message.probe === 'block') {
    const until = Date.now() + (message.ms ?? 0);
    while (Date.now() < until); // on purpose: nothing else runs meanwhile
    return;
  }
  if (message.probe !== 'dump') return;
  const workers = registry
    .describe()
    .map(({ url, name, weight, inRotation, drain, leaving }) => ({ url, name, weight, inRotation, drained: drain !== null, leaving }));
  const ctx = { req: { headers: {} }, clientIp: '127.0.0.1' };
  const picks = Array.from({ length: message.picks ?? 0 }, () => strategy.pick(ctx)?.url ?? null);
  process.send?.({ probe: 'state', workers, picks });
});

process.on('disconnect', () => void registry.close().finally(() => process.exit(0)));
