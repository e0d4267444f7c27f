import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { WorkerRegistry, type WorkerRecord } from '../../balancer/registry';
import { UpstreamPool } from '../../balancer/upstream/pool';
import { createStrategy } from '../../strategies';
import { DIST, waitFor } from './processes';

/** A worker as a serving process's view shows it (bench/extras/registry-view-child.ts). */
export interface ViewedWorker {
  url: string;
  name: string;
  weight: number;
  inRotation: boolean;
  drained: boolean;
  leaving: boolean;
}

export interface ViewChild {
  readonly child: ChildProcess;
  /** Its workers (the leaving ones left out) and the next `picks` picks of its strategy. */
  dump(picks?: number): Promise<{ workers: ViewedWorker[]; picks: (string | null)[] }>;
  /** Polls dump() until `accept` holds, and returns that dump. */
  until(accept: (workers: ViewedWorker[]) => boolean, what: string): Promise<ViewedWorker[]>;
  stop(): Promise<void>;
}

/** A primary-side registry as PROCESSES would hold it: weighted round robin, no health checks, no TTL. */
export function primaryRegistry(): WorkerRegistry {
  const strategy = createStrategy<WorkerRecord>('weighted-round-robin', { random: Math.random, now: Date.now, hashKey: 'ip' });
  const pools = { connectTimeoutMs: 1_000, responseTimeoutMs: 1_000, idleTimeoutMs: 1_000, maxConnections: 0 };
  return new WorkerRegistry(strategy, (origin) => new UpstreamPool(origin, pools), pino({ level: 'silent' }));
}

/**
 * Forks the compiled view child; `attach` is called at once (as a primary attaches each process it
 * forks), and this resolves once the child has applied its first snapshot.
 */
export async function forkViewChild(attach: (child: ChildProcess) => void): Promise<ViewChild> {
  const child = fork(join(DIST, 'bench/extras/registry-view-child.js'), [], { env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' }, stdio: 'inherit' });
  attach(child);
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { probe?: string }) => m.probe === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`view child exited with ${code} before it was ready`)));
  });
  const dump: ViewChild['dump'] = (picks = 0) =>
    new Promise((resolve) => {
      const on = (m: { probe?: string; workers: ViewedWorker[]; picks: (string | null)[] }) => {
        if (m.probe !== 'state') return;
        child.off('message', on);
        resolve({ workers: m.workers.filter((w) => !w.leaving), picks: m.picks });
      };
      child.on('message', on);
      child.send({ probe: 'dump', picks });
    });
  return {
    child,
    dump,
    until: (accept, what) =>
      waitFor(async () => {
        const { workers } = await dump();
        return accept(workers) ? workers : undefined;
      }, what),
    stop: () => stopForkedChild(child),
  };
}

/** How many times each URL was picked. */
export function countPicks(picks: (string | null)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const url of picks) counts[String(url)] = (counts[String(url)] ?? 0) + 1;
  return counts;
}

/** Disconnects a forked child's IPC channel (it exits once it has nothing left to do); SIGKILL after 3 s. */
export async function stopForkedChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
