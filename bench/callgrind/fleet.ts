import { join } from 'node:path';
import { generateSecret } from '../../utils/auth';
import { waitForRegistered } from '../fleet';
import { freePort, spawnTracked, waitForHttp, type Tracked } from '../processes';
import type { ControlTarget } from './control';

/**
 * The measured setup: one balancer under callgrind and two 0 ms workers registered to it, all from
 * the same dist/ (a worker and a balancer of one build always speak the same registration protocol),
 * all on 127.0.0.1 with health checks off, so that nothing but the client's requests reaches the
 * balancer between two dumps.
 *
 * With `processes` > 1 the balancer runs with PROCESSES=n and valgrind follows its cluster.fork
 * children (--trace-children=yes); each serving process inherits node's flags (cluster's execArgv
 * defaults to the primary's process.execArgv) and writes its own `cg.<pid>` dumps.
 */
export interface CallgrindFleet {
  readonly balancer: Tracked;
  readonly port: number;
  /** The process started under valgrind: the one that proxies (PROCESSES=1), or the primary. */
  readonly target: ControlTarget;
  /** callgrind_control's view of another process of the same valgrind tree (a serving process). */
  targetOf(pid: number): ControlTarget;
  readonly workers: Tracked[];
}

/** valgrind turns a start of about a second into tens of seconds; more on a loaded machine. */
const BALANCER_START_MS = 240_000;
// Longer than any run: a heartbeat is a signed registration, work a dump must not count as requests'.
const HEARTBEAT_MS = 3_600_000;

/** `onSpawned` learns the balancer's pid at once, so that its files can be cleaned up even if the start fails. */
export async function startCallgrindFleet(dist: string, processes: number, outDir: string, onSpawned: (pid: number) => void): Promise<CallgrindFleet> {
  const port = await freePort();
  const secret = generateSecret();
  const env = {
    HOST: '127.0.0.1',
    PORT: String(port),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    STRATEGY: 'round-robin',
    HEALTH_CHECK_INTERVAL_MS: '0',
    REGISTRATION_TTL_MS: '0',
    REGISTRATION_SECRET: secret,
    // The admin listener stays on, as in production, on a free port (never 8404, which a demo may hold).
    ADMIN_PORT: '0',
    // Each run starts from an empty registry: a snapshot of an earlier run would bring back its dead workers.
    STATE_DIR: 'off',
    PROCESSES: String(processes),
  };
  const balancer = spawnTracked(
    'balancer under callgrind',
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file', // V8 writes and patches code in anonymous memory
      ...(processes > 1 ? ['--trace-children=yes'] : []),
      `--callgrind-out-file=${join(outDir, 'cg.%p')}`, // %p: one file per process
      process.execPath,
      '--single-threaded', // TurboFan and GC on the main thread, so they are counted and can be taken out
      '--perf-basic-prof', // /tmp/perf-<pid>.map names the ???:0x... JIT entries of a dump
      join(dist, 'load-balancer-server.js'),
    ],
    env,
  );
  onSpawned(balancer.pid);
  const targetOf = (pid: number): ControlTarget => ({ pid, env: { HOST: env.HOST }, outDir, outBase: `cg.${pid}` });
  const target = targetOf(balancer.pid);
  const workers: Tracked[] = [];
  try {
    await startWorkers(dist, `http://127.0.0.1:${port}`, balancer, secret, workers);
  } catch (err) {
    await Promise.all([balancer.stop(30_000), ...workers.map((w) => w.stop())]);
    throw err;
  }
  return { balancer, port, target, targetOf, workers };
}

/** Waits for the balancer, then starts the workers one by one into `workers` (so that a failure can stop those started). */
async function startWorkers(dist: string, url: string, balancer: Tracked, secret: string, workers: Tracked[]): Promise<void> {
  await waitForHttp(`${url}/workers`, balancer, 200, BALANCER_START_MS);
  const urls: string[] = [];
  for (const name of ['worker-1', 'worker-2']) {
    const workerPort = await freePort();
    const worker = spawnTracked(name, process.execPath, [join(dist, 'workers/worker-server.js')], {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(workerPort),
      NAME: name,
      WORKER_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
      LOAD_BALANCER_REGISTER: `${url}/register-worker`,
      REGISTRATION_SECRET: secret,
    });
    workers.push(worker);
    urls.push(`http://127.0.0.1:${workerPort}`);
    await waitForHttp(`${urls[urls.length - 1]}/healthz`, worker);
  }
  await waitForRegistered({ url }, urls, 60_000);
}
