import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Every process the benchmark starts goes through here, so one exit hook can kill them all: on normal
 * exit, on an error and on Ctrl-C. Nothing is detached, and each child is killed by its own pid.
 */

/** Root of the compiled tree: benchmark.js lives at dist/, this file at dist/bench/. */
export const DIST = join(__dirname, '..');

export interface Tracked {
  readonly label: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far, capped, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Tracked>();
const OUTPUT_CAP = 64 * 1024;

/**
 * `stdoutTo`: a file the child's stdout is appended to instead of a pipe into this process, as a
 * server's access log would be written (the benchmark then never reads those lines); output() holds
 * stderr only.
 */
export function spawnTracked(label: string, command: string, args: string[], env: Record<string, string> = {}, stdoutTo?: string): Tracked {
  const stdoutFd = stdoutTo === undefined ? undefined : openSync(stdoutTo, 'a');
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'] });
  // The child has its own copy of the descriptor now.
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > OUTPUT_CAP) output = output.slice(-OUTPUT_CAP);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => {
    output += `\nspawn failed: ${err.message}`;
  });
  const tracked: Tracked = {
    label,
    child,
    pid: child.pid ?? -1,
    output: () => output,
    stop: async (graceMs = 3_000) => {
      running.delete(tracked);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(tracked);
  child.once('exit', () => running.delete(tracked));
  return tracked;
}

/** A compiled entry point of this repo (path relative to dist/), run with the same Node binary. */
export function spawnNode(label: string, script: string, env: Record<string, string>, stdoutTo?: string): Tracked {
  return spawnTracked(label, process.execPath, [join(DIST, script)], { NODE_ENV: 'production', ...env }, stdoutTo);
}

export function hasExited(proc: Tracked): boolean {
  return proc.child.exitCode !== null || proc.child.signalCode !== null;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(1_000)));
}

/** Synchronous last resort for process 'exit', where nothing async runs any more. */
function killAllNow(): void {
  for (const p of running) {
    if (!hasExited(p)) p.child.kill('SIGKILL');
  }
  running.clear();
}

/** Installs the exit hooks once: children die with the benchmark whatever way it ends. */
export function installCleanup(extra: () => void = () => {}): void {
  process.once('exit', () => {
    killAllNow();
    extra();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping every process the benchmark started\n`);
      killAllNow();
      process.exit(130);
    });
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the kernel picked it by listening on port 0). */
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

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `probe` every 50 ms until it returns something other than undefined/false; throws after
 * `timeoutMs`, or at once when `fatal` returns a reason (e.g. the process being waited for exited).
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000, fatal?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const reason = fatal?.();
    if (reason) throw new Error(`gave up waiting for ${what}: ${reason}`);
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await sleep(50);
  }
}

/** Waits until `url` answers `status` (200 by default); fails fast if `proc` exits meanwhile. */
export async function waitForHttp(url: string, proc: Tracked | undefined, status = 200, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.status === status;
    },
    `${proc?.label ?? url} to answer ${status} on ${url}`,
    timeoutMs,
    () => (proc && hasExited(proc) ? `${proc.label} exited (${proc.child.exitCode ?? proc.child.signalCode})` : undefined),
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}${proc ? `\n--- ${proc.label} output ---\n${proc.output()}` : ''}`);
  });
}

/** Resident set size of a process in kB (VmRSS), or undefined if it is gone. */
export function rssKb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  /** Stops sampling; returns the peak VmRSS seen (kB), or undefined if no sample was read. */
  stop(): number | undefined;
}

/** Samples VmRSS of `pid` every `everyMs` until stopped; keeps only the peak. */
export function sampleRss(pid: number, everyMs = 200): RssSampler {
  let peak: number | undefined;
  const take = () => {
    const kb = rssKb(pid);
    if (kb !== undefined && (peak === undefined || kb > peak)) peak = kb;
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return peak;
    },
  };
}

/** Clock ticks per second, the unit of CPU times in /proc/<pid>/stat. */
let clockTicks: number | undefined;

/**
 * The fields of /proc/<pid>/stat from field 3 (state) on, so field N is at index N - 3: utime and
 * stime (14, 15) at 11 and 12. The command name before them is in parentheses and may itself hold
 * spaces or parentheses. Throws when there is no such process.
 */
export function procStatFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** User + system CPU time a process has used so far, in microseconds; undefined when /proc has no such process. */
export function cpuTimeUs(pid: number): number | undefined {
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const fields = procStatFields(pid);
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * The path of executable `name` on PATH (plus /usr/sbin and /usr/local/sbin, where Debian puts nginx
 * and haproxy and where a non-root PATH often does not look), or undefined.
 */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
