import type { Logger } from '../logger';
import type { WorkerRegistry } from '../registry';
import type { RegistryChange } from '../registry-changes';
import { writeFileAtomic } from './atomic-file';
import { snapshotOf } from './snapshot';

/** Writes of the snapshot are at least this far apart; the changes in between go into the next one. */
export const SNAPSHOT_DEBOUNCE_MS = 500;

/**
 * How stale the snapshot's lastSeenAt may get from heartbeats alone: a heartbeat rewrites the file only
 * when the last write is older than this. A quarter of REGISTRATION_TTL_MS (at most 5 s), so after a
 * crash a restored worker still has most of its TTL left for its next heartbeat; 5 s without a TTL,
 * where lastSeenAt decides nothing.
 */
export function lastSeenResolutionMs(registrationTtlMs: number): number {
  if (registrationTtlMs <= 0) return 5_000;
  return Math.max(SNAPSHOT_DEBOUNCE_MS, Math.min(5_000, Math.floor(registrationTtlMs / 4)));
}

/**
 * Whether `change` calls for a new snapshot: every change does, but a plain heartbeat only once the last
 * write is `resolutionMs` old, and a health verdict or an ejection never (the snapshot holds neither).
 */
export function callsForWrite(change: RegistryChange, sinceLastWriteMs: number, resolutionMs: number): boolean {
  if (change.type === 'health' || change.type === 'ejected') return false;
  return change.type !== 'refreshed' || change.renamed || sinceLastWriteMs >= resolutionMs;
}

/**
 * Keeps STATE_DIR/registry.json in step with the registry: any change from its feed schedules a
 * write SNAPSHOT_DEBOUNCE_MS later (a burst of registrations is one write), a heartbeat only when the
 * file's lastSeenAt has aged past `resolutionMs`. One write at a time, each atomic (atomic-file.ts), of
 * the registry as it is when the write starts. A failed write is one warn line until a write succeeds
 * again; the next change retries. Created by createBalancer when STATE_DIR is usable.
 */
export class SnapshotWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  private closed = false;
  private failing = false;
  private lastWriteAt = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly path: string,
    private readonly registry: WorkerRegistry,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly resolutionMs: number,
  ) {}

  /** Called before the snapshot is restored, so the file is rewritten to what the restore kept. */
  start(): void {
    this.unsubscribe = this.registry.changes.subscribe((change) => this.onChange(change));
  }

  /** Called by the balancer's close() before the registry empties: a last, exact write, awaited. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.idle();
    await this.write();
  }

  /** Resolves once no write is in flight; one that is armed and not yet started is not waited for. */
  async idle(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private onChange(change: RegistryChange): void {
    if (!callsForWrite(change, this.now() - this.lastWriteAt, this.resolutionMs)) return;
    this.dirty = true;
    if (this.timer === undefined && this.writing === undefined) this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.write().finally(() => {
        this.writing = undefined;
        if (this.dirty && !this.closed) this.arm();
      });
    }, SNAPSHOT_DEBOUNCE_MS);
    // A pending write never holds the process open; close() writes what is pending.
    this.timer.unref();
  }

  private async write(): Promise<void> {
    this.dirty = false;
    this.lastWriteAt = this.now();
    const text = `${JSON.stringify(snapshotOf(this.registry, this.lastWriteAt), null, 2)}\n`;
    try {
      await writeFileAtomic(this.path, text);
      if (this.failing) this.log.info({ snapshot: this.path }, 'registry snapshot written again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) {
        this.log.warn(
          { snapshot: this.path, reason: err instanceof Error ? err.message : String(err) },
          'could not write the registry snapshot; a restart now would lose the latest changes; retrying at the next change',
        );
      }
      this.failing = true;
    }
  }
}
