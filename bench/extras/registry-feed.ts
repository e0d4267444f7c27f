import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RegistryBroadcaster } from '../../balancer/cluster/registry-broadcaster';
import { createLogger } from '../../balancer/logger';
import { WorkerRegistry, type WorkerRecord } from '../../balancer/registry';
import { UpstreamPool } from '../../balancer/upstream/pool';
import { createStrategy } from '../../strategies';
import { sleep } from '../processes';

/**
 * `node dist/bench/extras/registry-feed.js [processes=2] [registrations=100]`: the time for a
 * registration in the primary's registry to reach every serving process's view (issue 13: p50/p99
 * over 100 registrations, under 50 ms). Each serving process (registry-view-child.ts) reports back
 * each change it applied; the time is from register() in the primary to the last of those reports,
 * so it includes the report's own trip back: an upper bound on the one-way figure. Registrations go
 * one at a time, 10 ms apart, as heartbeats of a fleet would, never in a burst. 127.0.0.1 URLs that
 * nothing contacts (no health checks); bounded by the count and a 30 s backstop.
 */

const BACKSTOP_MS = 30_000;

/** The nearest-rank percentile `q` (0-100) of ascending `sorted`. */
function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))];
}

function startChild(broadcaster: RegistryBroadcaster): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'registry-view-child.js'), [], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' } });
  broadcaster.attach(child);
  return new Promise((resolve) => child.on('message', (m: { probe?: string }) => m.probe === 'ready' && resolve(child)));
}

function appliedBy(children: ChildProcess[], url: string): Promise<void> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          const on = (m: { probe?: string; type?: string; url?: string }) => {
            if (m.probe !== 'applied' || m.type !== 'joined' || m.url !== url) return;
            child.off('message', on);
            resolve();
          };
          child.on('message', on);
        }),
    ),
  ).then(() => undefined);
}

async function main(processes: number, registrations: number): Promise<void> {
  const backstop = setTimeout(() => {
    console.error(`registry feed benchmark: not done after ${BACKSTOP_MS} ms`);
    process.exit(1);
  }, BACKSTOP_MS);
  const log = createLogger('warn', 'primary');
  const strategy = createStrategy<WorkerRecord>('weighted-round-robin', { random: Math.random, now: Date.now, hashKey: 'ip' });
  const pools = { connectTimeoutMs: 1_000, responseTimeoutMs: 1_000, idleTimeoutMs: 1_000, maxConnections: 0 };
  const registry = new WorkerRegistry(strategy, (origin) => new UpstreamPool(origin, pools), log);
  const broadcaster = new RegistryBroadcaster(registry, log);
  const children = await Promise.all(Array.from({ length: processes }, () => startChild(broadcaster)));
  const times: number[] = [];
  for (let i = 0; i < registrations; i++) {
    const url = `http://127.0.0.1:${20_000 + i}`;
    const arrived = appliedBy(children, url);
    const start = performance.now();
    registry.register({ url, name: `w${i}`, weight: 1 });
    await arrived;
    times.push(performance.now() - start);
    await sleep(10);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const ms = (q: number) => percentile(sorted, q).toFixed(2);
  console.log(
    `registration to every one of ${processes} serving processes, ${registrations} registrations: p50 ${ms(50)} ms, p99 ${ms(99)} ms, max ${ms(100)} ms`,
  );
  for (const child of children) child.disconnect();
  broadcaster.close();
  await registry.close();
  clearTimeout(backstop);
}

void main(Number(process.argv[2] ?? 2), Number(process.argv[3] ?? 100));
