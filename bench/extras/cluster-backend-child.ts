import { ClusterBackend, CONTROL_REPLY_TIMEOUT_MS } from '../../balancer/cluster/cluster-backend';
import { createLogger } from '../../balancer/logger';
import { WorkerRegistry, type Registration, type WorkerRecord } from '../../balancer/registry';
import { UpstreamPool } from '../../balancer/upstream/pool';
import { createStrategy } from '../../strategies';

/**
 * A serving process without a listener, for the cluster backend's contract test
 * (test/contract/cluster-backend.test.ts): a local registry kept by a ClusterBackend whose primary is
 * the parent, driven over the same IPC channel. {probe: 'call', id, op, args} runs one backend write
 * and answers {probe: 'result', id, value} or {probe: 'result', id, error, code}; {probe: 'view', id}
 * answers with the local registry's workers. It says {probe: 'ready'} once the first snapshot is in,
 * and exits when the parent goes. CONTROL_REPLY_TIMEOUT_MS in its environment shortens the timeout.
 */

type Probe = { probe?: string; id: number; op: 'register' | 'deregister' | 'claimNonce'; args: unknown[] };

const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'serving');
const strategy = createStrategy<WorkerRecord>('weighted-round-robin', { random: Math.random, now: Date.now, hashKey: 'ip' });
const pools = { connectTimeoutMs: 1_000, responseTimeoutMs: 1_000, idleTimeoutMs: 1_000, maxConnections: 0 };
const registry = new WorkerRegistry(strategy, (origin) => new UpstreamPool(origin, pools), log);
const timeoutMs = Number(process.env.CONTROL_REPLY_TIMEOUT_MS ?? CONTROL_REPLY_TIMEOUT_MS);
const backend = new ClusterBackend(registry, process, log, timeoutMs);

function run(op: Probe['op'], args: unknown[]): Promise<unknown> {
  if (op === 'register') return backend.register(args[0] as Registration);
  if (op === 'deregister') return backend.deregister(args[0] as string);
  return backend.claimNonce(args[0] as string, args[1] as number);
}

process.on('message', (message: Probe) => {
  if (message.probe === 'call') {
    run(message.op, message.args).then(
      (value) => process.send?.({ probe: 'result', id: message.id, value }),
      (err: unknown) => {
        const { message: error, code } = err as Error & { code?: string };
        process.send?.({ probe: 'result', id: message.id, error, code });
      },
    );
  } else if (message.probe === 'view') {
    const workers = [...registry.records()].map((w) => ({ url: w.url, name: w.name, weight: w.weight, drained: w.drain !== undefined }));
    process.send?.({ probe: 'view', id: message.id, workers });
  }
});

void backend.start().then(() => process.send?.({ probe: 'ready' }));
process.on('disconnect', () => void backend.close().then(() => registry.close().finally(() => process.exit(0))));
