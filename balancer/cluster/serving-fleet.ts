import cluster, { type Address, type Worker } from 'node:cluster';
import type { Logger } from '../logger';
import { isStartFailure } from './start-failure';

export interface FleetOptions {
  /** How many serving processes to keep running (PROCESSES). */
  size: number;
  /** Added to each serving process's environment (the generated secret travels here, never in a log line). */
  env: Record<string, string>;
  log: Logger;
  /** Called right after each fork, before the process can say anything: the feed and the control side attach here. */
  attach(worker: Worker): void;
  /** How long a serving process may take to drain on SIGTERM before it is killed. */
  stopTimeoutMs?: number;
}

/** A serving process that died before it listened is forked again after this long, not at once (no crash loop). */
const RESTART_BACKOFF_MS = 1_000;

/**
 * The primary's serving processes (PROCESSES > 1): forks them, tracks them, and forks a replacement at
 * once when one dies, while the others keep serving. The seam for replacing them: forkOne() a new one
 * (resolves once it listens), then retire() an old one (drained, not replaced).
 * Requires cluster.schedulingPolicy to be set before the first fork (primary.ts sets SCHED_RR).
 */
export class ServingFleet {
  private readonly running = new Set<Worker>();
  /** Leaving on purpose (retire(), stop()): their exit is not a death to repair. */
  private readonly leaving = new Set<Worker>();
  /** Forked as replacements (forkOne('report')) and not listening yet: a failure is the caller's to handle, not a death to repair. */
  private readonly trial = new Set<Worker>();
  private stopping = false;
  /** Set once start() has seen every process listen: before that, a death fails the start instead. */
  private started = false;

  constructor(private readonly options: FleetOptions) {}

  /** The serving processes in service now. */
  get members(): readonly Worker[] {
    return [...this.running];
  }

  /** At start: forks `size` processes; resolves with the port they share once all listen, rejects if one exits first. */
  async start(): Promise<number> {
    const listening = await Promise.all(Array.from({ length: this.options.size }, () => this.forkOne()));
    this.started = true;
    return listening[0].port;
  }

  /**
   * Forks one serving process; resolves once it listens on PORT (its view is loaded by then), rejects if
   * it exits first. `onEarlyExit`: 'repair' (a member of the fleet: forked again, after a pause) or
   * 'report' (one more process, as a SIGHUP replacement forks: only the rejection says it failed, so a
   * build that cannot start is not forked again and again while the old processes keep serving).
   */
  forkOne(onEarlyExit: 'repair' | 'report' = 'repair'): Promise<{ worker: Worker; port: number }> {
    const worker = cluster.fork(this.options.env);
    this.options.attach(worker);
    this.running.add(worker);
    if (onEarlyExit === 'report') this.trial.add(worker);
    let listened = false;
    let reason: string | undefined;
    const noteReason = (message: unknown) => {
      if (isStartFailure(message)) reason = message.reason;
    };
    worker.on('message', noteReason);
    const ready = new Promise<{ worker: Worker; port: number }>((resolve, reject) => {
      worker.once('listening', (address: Address) => {
        listened = true;
        worker.off('message', noteReason);
        this.trial.delete(worker);
        resolve({ worker, port: address.port });
      });
      worker.once('exit', (code, signal) => {
        const how = `serving process ${worker.process.pid} exited (${signal ?? code}) before it listened`;
        reject(new Error(reason === undefined ? how : `${how}: ${reason}`));
      });
    });
    worker.once('exit', (code, signal) => this.exited(worker, listened, signal ?? code));
    return ready;
  }

  /** Takes one serving process out of service: SIGTERM (it drains), no replacement; resolves once it has exited. */
  retire(worker: Worker): Promise<void> {
    this.running.delete(worker);
    this.leaving.add(worker);
    return this.terminate(worker);
  }

  /** SIGTERM to the primary: every serving process drains; resolves once all have exited. Nothing is forked again. */
  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.running];
    this.running.clear();
    for (const worker of all) this.leaving.add(worker);
    await Promise.all(all.map((worker) => this.terminate(worker)));
  }

  private terminate(worker: Worker): Promise<void> {
    if (worker.isDead()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => worker.process.kill('SIGKILL'), this.options.stopTimeoutMs ?? 12_000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.process.kill('SIGTERM');
    });
  }

  private exited(worker: Worker, listened: boolean, how: string | number): void {
    this.running.delete(worker);
    const trial = this.trial.delete(worker);
    if (this.leaving.delete(worker) || trial || this.stopping || !this.started) return;
    const { log } = this.options;
    log.warn({ servingPid: worker.process.pid, exit: how, serving: this.running.size }, 'a serving process died; forking a replacement');
    const fork = () => {
      if (this.stopping) return;
      this.forkOne().catch((err: unknown) => log.error({ err: err instanceof Error ? err.message : String(err) }, 'the replacement serving process failed'));
    };
    if (listened) fork();
    else setTimeout(fork, RESTART_BACKOFF_MS).unref();
  }
}
