import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { generateSecret } from '../utils/auth';

/**
 * `npm start`: the balancer on 127.0.0.1:PORT (8080) and three workers on the next three ports, all
 * sharing a freshly generated secret. Ctrl-C stops everything. Everything binds loopback only.
 */
const balancerPort = Number(process.env.PORT ?? 8080);
const secret = generateSecret();
const dist = join(__dirname, '..');
const children: ChildProcess[] = [];

function run(label: string, script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(dist, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).map((line) => `[${label}] ${line}\n`).join('');
  child.stdout.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code, signal) => {
    if (!stopping) console.log(`[${label}] exited (${signal ?? code})`);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stopAll(): void {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the demo...');
  for (const child of children) child.kill('SIGTERM');
  let left = children.length;
  for (const child of children) child.once('exit', () => --left === 0 && process.exit(0));
  setTimeout(() => process.exit(0), 12_000).unref();
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

/** Polls the balancer's /workers until `ready` says yes; bounded, like every loop here. */
async function waitForBalancer(ready: (workers: string[]) => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const workers = (await (await fetch(`http://127.0.0.1:${balancerPort}/workers`)).json()) as string[];
      if (ready(workers)) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the balancer did not come up within 10 s');
}

async function main(): Promise<void> {
  run('balancer', 'load-balancer-server.js', { PORT: String(balancerPort), HOST: '127.0.0.1', REGISTRATION_SECRET: secret });
  await waitForBalancer(() => true);
  // One at a time, so they register, and so take turns, in the order 1, 2, 3 as in the seed.
  for (let i = 1; i <= 3; i++) {
    run(`worker-${i}`, 'workers/worker-server.js', {
      PORT: String(balancerPort + i),
      HOST: '127.0.0.1',
      NAME: `worker-${i}`,
      LOAD_BALANCER_REGISTER: `http://127.0.0.1:${balancerPort}/register-worker`,
      REGISTRATION_SECRET: secret,
      LOG_LEVEL: 'warn',
    });
    await waitForBalancer((workers) => workers.length === i);
  }
  console.log(`
Demo running: a balancer on http://127.0.0.1:${balancerPort} and three workers on ports ${balancerPort + 1}-${balancerPort + 3}.
Try:
  curl http://127.0.0.1:${balancerPort}/            # answered by the next worker in turn, after 1 s
  curl http://127.0.0.1:${balancerPort}/workers     # the registered workers
Press Ctrl-C to stop all four processes.
`);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  stopAll();
});
