import type { Worker } from 'node:cluster';
import type { Logger } from '../logger';

/** The part of ServingFleet (serving-fleet.ts) a rolling replacement drives. */
export interface ReplaceableFleet {
  /** The serving processes in service now. */
  readonly members: readonly Worker[];
  /** Forks one more; resolves once it listens on PORT, which it does only with its first snapshot applied; 'report': a failure only rejects. */
  forkOne(onEarlyExit: 'report'): Promise<{ worker: Worker; port: number }>;
  /** SIGTERM to one (it stops accepting, finishes its in-flight requests, exits), no replacement forked. */
  retire(worker: Worker): Promise<void>;
}

/** What one replacement did: the pids replaced, and why it stopped early (the old process then keeps serving). */
export interface ReplaceOutcome {
  readonly replaced: { readonly old: number | undefined; readonly new: number | undefined }[];
  readonly failed?: string;
}

/**
 * SIGHUP with PROCESSES > 1 (issue 13, "Restarts that cost nothing"): replaces the serving processes
 * one at a time, as nginx replaces its workers on a reload. For each process in service when it began:
 * fork the new one and wait until it listens (its view holds the primary's snapshot by then), and only
 * then retire the old one, waiting for its exit before the next. So there are always at least N
 * processes accepting: node:cluster hands every connection to one that listens (a connection sent to a
 * process that has just closed is handed to another), and the old one finishes what it has. A new
 * process that fails to start stops the replacement, the old ones keep serving, and the log says so.
 *
 * Called by the primary's SIGHUP handler, after the reload hooks. A SIGHUP during a replacement is
 * folded into one more run after it, so every process ends up started after the last SIGHUP.
 */
export class RollingReplacer {
  private running: Promise<ReplaceOutcome> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly fleet: ReplaceableFleet,
    private readonly log: Logger,
  ) {}

  /** True while a replacement runs. */
  get replacing(): boolean {
    return this.running !== undefined;
  }

  /** At shutdown, before the fleet stops: forks nothing more, so a SIGTERM during a replacement ends it. */
  stop(): void {
    this.stopped = true;
  }

  /** Starts a replacement, or asks for one more after the one running; resolves when this one ends. */
  replace(): Promise<ReplaceOutcome> {
    if (this.stopped) return Promise.resolve({ replaced: [], failed: 'shutting down' });
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const run = this.replaceAll().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        void this.replace();
      }
    });
    this.running = run;
    return run;
  }

  private async replaceAll(): Promise<ReplaceOutcome> {
    const olds = [...this.fleet.members];
    const replaced: { old: number | undefined; new: number | undefined }[] = [];
    this.log.info({ processes: olds.length }, 'SIGHUP: replacing the serving processes one at a time');
    for (const old of olds) {
      if (this.stopped) return { replaced, failed: 'shutting down' };
      // One that died meanwhile has been replaced by the fleet already; nothing to retire.
      if (old.isDead()) continue;
      let fresh: Worker;
      try {
        fresh = (await this.fleet.forkOne('report')).worker;
      } catch (err) {
        const failed = err instanceof Error ? err.message : String(err);
        this.log.error({ failed, replaced: replaced.length, of: olds.length }, 'SIGHUP: a new serving process did not start; the old ones keep serving');
        return { replaced, failed };
      }
      await this.fleet.retire(old);
      replaced.push({ old: old.process.pid, new: fresh.process.pid });
    }
    this.log.info({ replaced }, `SIGHUP: replaced ${replaced.length} serving processes`);
    return { replaced };
  }
}
