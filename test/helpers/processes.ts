import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Root of the compiled tree that `npm test` builds before jest runs. */
export const DIST = join(__dirname, '..', '..', 'dist');
export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789';

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Sends `signal` and resolves when the process has exited (SIGKILL after 5 s). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1 (the kernel picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Thrown by a waitFor probe to stop waiting at once, e.g. because the process it waits for has exited. */
export class GiveUp extends Error {}

/** Polls `probe` every 50 ms until it returns a value other than undefined/false; a throw means "not yet", except GiveUp. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Spawns a compiled entrypoint (relative to dist/) with `env` on a fresh loopback port and waits until
 * `readyPath` answers. The caller must stop() it; tests do so in afterAll/afterEach.
 */
export async function startProcess(script: string, env: Record<string, string>, readyPath = '/'): Promise<RunningProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, [join(DIST, script)], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const proc: RunningProcess = {
    child,
    port,
    url,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    // Generous: a bound on a failure only. PROCESSES=2 starts three node processes, which took over 10 s on a loaded machine.
    await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new GiveUp(`${script} exited early (${child.exitCode ?? child.signalCode})`);
        const res = await fetch(url + readyPath);
        await res.arrayBuffer();
        return true;
      },
      `${script} on ${url}`,
      30_000,
    );
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return proc;
}

/**
 * Both values of FAST_PATH: suites about what a client sees on the wire run in each, so the
 * listener's own reader and node:http (the reader an operator falls back to) answer alike.
 */
export const FAST_PATH_MODES = ['on', 'off'] as const;

/** A fresh, empty directory for a balancer's STATE_DIR; the caller removes it (rmSync, recursive). */
export function tempStateDir(): string {
  return mkdtempSync(join(tmpdir(), 'lb-state-'));
}

/**
 * For a test file whose balancers share one STATE_DIR per test (restarts): registers the jest hooks that
 * make a fresh directory before each test, and afterwards stop every process pushed on `running` and
 * remove the directory. Call at the top level of the file.
 */
export function stateDirPerTest(): { readonly running: RunningProcess[]; readonly dir: () => string } {
  const running: RunningProcess[] = [];
  let dir = '';
  beforeEach(() => {
    dir = tempStateDir();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  return { running, dir: () => dir };
}

/**
 * A balancer on a fresh loopback port. Its admin listener takes a free port too (ADMIN_PORT=0), so no two
 * balancers a test run starts contend for 8404; adminUrl() reads the port from its "admin listening"
 * line, which needs LOG_LEVEL=info or lower. Without a STATE_DIR in `env` it gets an empty one of its
 * own, removed once it has stopped, so no balancer restores another's workers (or the repo's ./state);
 * a test of restarts passes the same STATE_DIR to both.
 */
export async function startBalancer(env: Record<string, string> = {}): Promise<RunningProcess & { adminUrl(): Promise<string> }> {
  const ownStateDir = env.STATE_DIR === undefined ? tempStateDir() : undefined;
  const removeStateDir = () => {
    if (ownStateDir !== undefined) rmSync(ownStateDir, { recursive: true, force: true });
  };
  let proc: RunningProcess;
  try {
    proc = await startProcess(
      'load-balancer-server.js',
      { REGISTRATION_SECRET: TEST_SECRET, ADMIN_PORT: '0', ...(ownStateDir === undefined ? {} : { STATE_DIR: ownStateDir }), ...env },
      '/workers',
    );
  } catch (err) {
    removeStateDir();
    throw err;
  }
  const stop = async (signal?: NodeJS.Signals) => {
    await proc.stop(signal);
    removeStateDir();
  };
  return { ...proc, stop, adminUrl: () => adminUrlOf(proc) };
}

/** The admin listener's URL, from the balancer's `{"msg":"admin listening","host":...,"port":...}` log line. */
export function adminUrlOf(proc: RunningProcess): Promise<string> {
  return waitFor(() => {
    for (const line of proc.output().split('\n')) {
      if (!line.includes('"admin listening"')) continue;
      const { host, port } = JSON.parse(line) as { host: string; port: number };
      return `http://${host}:${port}`;
    }
    return undefined;
  }, 'the "admin listening" log line (LOG_LEVEL must be info or lower)');
}

/** A worker that registers with `balancer` (unless balancer is undefined) and answers GET / at once by default. */
export function startWorker(name: string, balancer: { url: string } | undefined, env: Record<string, string> = {}): Promise<RunningProcess> {
  return startProcess(
    'workers/worker-server.js',
    {
      NAME: name,
      WORKER_DELAY_MS: '0',
      HEARTBEAT_INTERVAL_MS: '1000',
      ...(balancer ? { LOAD_BALANCER_REGISTER: `${balancer.url}/register-worker`, REGISTRATION_SECRET: TEST_SECRET } : {}),
      ...env,
    },
    '/healthz',
  );
}

/** Resolves once the balancer lists exactly `urls` (in any order). */
export function waitForWorkers(balancer: { url: string }, urls: string[], timeoutMs = 10_000): Promise<string[]> {
  const want = [...urls].sort().join(',');
  return waitFor(
    async () => {
      const list = (await (await fetch(`${balancer.url}/workers`)).json()) as string[];
      return [...list].sort().join(',') === want ? list : undefined;
    },
    `workers ${want}`,
    timeoutMs,
  );
}
