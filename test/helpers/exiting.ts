import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DIST, freePort, TEST_SECRET } from './processes';

/**
 * Runs a worker expected to stop by itself (a refused registration) and resolves with its exit code and
 * everything it printed. Unlike startWorker it does not wait for /healthz, which such a worker may
 * never answer for long. Killed after `timeoutMs` (the code is then null), so it always ends.
 */
export async function runWorkerToExit(
  registerUrl: string,
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<{ code: number | null; output: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(DIST, 'workers', 'worker-server.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      NAME: 'exiting',
      WORKER_DELAY_MS: '0',
      HEARTBEAT_INTERVAL_MS: '1000',
      LOAD_BALANCER_REGISTER: registerUrl,
      REGISTRATION_SECRET: TEST_SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}
