import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { generateSecret } from '../utils/auth';

/**
 * `npm start`: the balancer on 127.0.0.1:PORT (8080) and three workers on the next three ports, all
 * sharing a freshly generated secret. Ctrl-C stops everything. Everything binds loopback only.
 * The secret is never printed: every process gets it from here, through its environment.
 *
 * Each child runs in its own process group (detached), so the terminal's Ctrl-C, which goes to the
 * whole foreground group, reaches only this script; it then stops the workers first (each
 * deregisters from the still-running balancer) and the balancer last. Were the children in the
 * terminal's group, all four would get SIGINT at once and each worker's deregistration would race
 * the balancer's exit (three "could not deregister" warnings).
 */
const balancerPort = Number(process.env.PORT ?? 8080);
const secret = generateSecret();
const dist = join(__dirname, '..');
const children: ChildProcess[] = [];

/** The admin listener's URL, from the balancer's "admin listening" line (it holds the port bound, also with ADMIN_PORT=0). */
let adminUrl: string | undefined;
function noteAdminUrl(line: string): void {
  if (adminUrl !== undefined || !line.includes('"admin listening"')) return;
  const { host, port } = JSON.parse(line) as { host: string; port: number };
  adminUrl = `http://${host}:${port}`;
}

function run(label: string, script: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [join(dist, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        if (label === 'balancer') noteAdminUrl(line);
        return `[${label}] ${line}\n`;
      })
      .join('');
  child.stdout.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.on('exit', (code, signal) => {
    if (stopping) return;
    // A child that dies while the demo runs (a busy port, a bad setting) ends the demo: its own output says why.
    console.error(`[${label}] exited (${signal ?? code}); stopping the demo`);
    stopAll(1);
  });
  children.push(child);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

let stopping = false;
/** Workers first, so each deregisters from a balancer still there to answer; then the balancer. */
function stopAll(code = 0): void {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping the demo...');
  setTimeout(() => process.exit(code || 1), 12_000).unref();
  const [balancer, ...workers] = children;
  for (const worker of workers) worker.kill('SIGTERM');
  void Promise.all(workers.map(exited))
    .then(() => {
      balancer?.kill('SIGTERM');
      return balancer && exited(balancer);
    })
    .then(() => process.exit(code));
}
process.on('SIGINT', () => stopAll());
process.on('SIGTERM', () => stopAll());
// A terminal that hangs up sends SIGHUP to the demo; its detached children would outlive it otherwise.
process.on('SIGHUP', () => stopAll());
// Detached children outlive this script unless told: a crash of the script still takes them down.
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});

/** Polls the balancer's /workers until `ready` says yes; bounded, like every loop here. */
async function waitForBalancer(ready: (workers: string[]) => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (stopping) throw new Error('stopped');
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

/** What the admin listener offers, for the closing message: the dashboard first, to open in a browser. */
function adminLines(admin: string): string {
  return `Dashboard: ${admin}/dashboard
  (live from ${admin}/status/stream; the same as JSON: ${admin}/status; Prometheus: ${admin}/metrics)
  In another terminal, 60 s of load to watch there: npm run benchmark -- --target http://127.0.0.1:${balancerPort}/
The admin listener: ${admin}/healthz and ${admin}/readyz (set ADMIN_TOKEN for POST ${admin}/admin/drain and the dashboard's controls).
`;
}

async function main(): Promise<void> {
  // The admin listener keeps its 8404 default (or the user's ADMIN_PORT), on loopback as everything here.
  // STATE_DIR=off: each demo starts from an empty registry, so its workers join in order, one at a time.
  run('balancer', 'load-balancer-server.js', {
    PORT: String(balancerPort),
    HOST: '127.0.0.1',
    ADMIN_HOST: '127.0.0.1',
    REGISTRATION_SECRET: secret,
    STATE_DIR: 'off',
  });
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
  // Without the line (LOG_LEVEL above info) a fixed ADMIN_PORT still says where it is.
  const configured = process.env.ADMIN_PORT ?? '8404';
  if (adminUrl === undefined && /^[1-9]\d*$/.test(configured)) adminUrl = `http://127.0.0.1:${configured}`;
  console.log(`
Demo running: a balancer on http://127.0.0.1:${balancerPort} and three workers on ports ${balancerPort + 1}-${balancerPort + 3}.
Try:
  curl http://127.0.0.1:${balancerPort}/            # answered by the next worker in turn, after 1 s
  curl http://127.0.0.1:${balancerPort}/workers     # the registered workers
${adminUrl === undefined ? '' : adminLines(adminUrl)}Press Ctrl-C to stop all four processes.
`);
}

main().catch((err: unknown) => {
  if (stopping) return;
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  stopAll(1);
});
