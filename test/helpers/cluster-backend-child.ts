import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Registration } from '../../balancer/registry';
import type { ViewedWorker } from '../contract/registry-backend.contract';
import { DIST } from './processes';
import { stopForkedChild } from './registry-view-child';

/** A forked serving process holding a ClusterBackend (bench/extras/cluster-backend-child.ts), driven over IPC. */
export interface BackendChild {
  readonly child: ChildProcess;
  register(reg: Registration): Promise<'created' | 'refreshed'>;
  deregister(url: string): Promise<boolean>;
  claimNonce(nonce: string, ttlMs: number): Promise<boolean>;
  /** Its local registry, sorted by URL. */
  view(): Promise<ViewedWorker[]>;
  stop(): Promise<void>;
}

type Answer = { probe?: string; id?: number; value?: unknown; error?: string; code?: string; workers?: ViewedWorker[] };

/** A failed call in the child, with the error's code (registry_unavailable when the primary did not answer). */
export class ChildCallError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Forks the compiled child; `attach` is called at once (as the primary attaches each serving process:
 * the feed first, then the control side), and this resolves once the child's view holds the first snapshot.
 */
export async function forkBackendChild(attach: (child: ChildProcess) => void, env: Record<string, string> = {}): Promise<BackendChild> {
  const child = fork(join(DIST, 'bench/extras/cluster-backend-child.js'), [], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: 'inherit',
  });
  attach(child);
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: Answer) => m.probe === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`backend child exited with ${code} before it was ready`)));
  });
  let nextId = 0;
  const ask = (message: Record<string, unknown>, kind: string): Promise<Answer> =>
    new Promise((resolve) => {
      const id = ++nextId;
      const on = (m: Answer) => {
        if (m.probe !== kind || m.id !== id) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
      child.send({ ...message, id });
    });
  const call = async (op: string, ...args: unknown[]) => {
    const answer = await ask({ probe: 'call', op, args }, 'result');
    if (answer.error !== undefined) throw new ChildCallError(answer.error, answer.code);
    return answer.value;
  };
  return {
    child,
    register: async (reg) => (await call('register', reg)) as 'created' | 'refreshed',
    deregister: async (url) => (await call('deregister', url)) as boolean,
    claimNonce: async (nonce, ttlMs) => (await call('claimNonce', nonce, ttlMs)) as boolean,
    view: async () => ((await ask({ probe: 'view' }, 'view')).workers ?? []).sort((x, y) => x.url.localeCompare(y.url)),
    stop: () => stopForkedChild(child),
  };
}
