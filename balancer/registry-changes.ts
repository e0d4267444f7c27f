import type { Logger } from './logger';
import type { DrainedBy } from './worker-state';

/**
 * What changed in the registry's membership and the operator's decisions, as plain data (no record,
 * no pool), so the same events can later cross a process or a network (issue 13: one registry, many
 * local views). Health verdicts and passive ejections are here too, so that with PROCESSES the
 * primary (which probes and runs the outlier detector) can hand them to every serving process; the
 * STATE_DIR snapshot ignores them (a restart starts every worker healthy).
 */
export type RegistryChange =
  /** A new record: a first registration, a worker back after it left, or one restored from a snapshot. */
  | { type: 'joined'; url: string; name: string; weight: number; registeredWeight: number; drained: boolean; lastSeenAt: number }
  /** A heartbeat: only lastSeenAt moved, unless `renamed`. Frequent: one per worker per HEARTBEAT_INTERVAL_MS. */
  | { type: 'refreshed'; url: string; name: string; lastSeenAt: number; renamed: boolean }
  /** The weight in force or the registered one changed (a heartbeat with a new weight, or an operator's weight). */
  | { type: 'weight_changed'; url: string; weight: number; registeredWeight: number }
  /** An operator drained it (POST /admin/workers/:worker/drain). */
  | { type: 'drained'; url: string; since: number }
  /** An operator made it ready again (POST /admin/workers/:worker/ready). */
  | { type: 'readied'; url: string }
  /** It left the registry: deregistered ('worker'), expired ('ttl') or deleted by an operator ('admin'). */
  | { type: 'left'; url: string; by: DrainedBy }
  /** The operator's weight for the URL was set (a number) or reset (undefined). */
  | { type: 'override_changed'; url: string; weight: number | undefined }
  /** The active health checks' verdict flipped (a verdict of healthy also ends a passive ejection). Rare. */
  | { type: 'health'; url: string; healthy: boolean }
  /** Passive health ejected it until `until` (ms epoch), after consecutive failed exchanges. Rare. */
  | { type: 'ejected'; url: string; until: number };

export type RegistryListener = (change: RegistryChange) => void;

/**
 * The registry's change feed: listeners are called synchronously, in subscription order, after the
 * registry has applied the change (so they may read it). Emitted on registrations, heartbeats,
 * expiries and operator actions, never per proxied request. A listener that throws is a bug in it:
 * logged, and the others still run.
 */
export class ChangeFeed {
  private listeners: RegistryListener[] = [];

  constructor(private readonly log: Logger) {}

  /** Returns the function that unsubscribes `listener`. */
  subscribe(listener: RegistryListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(change: RegistryChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ change: change.type, worker: change.url, err: err instanceof Error ? err.message : String(err) }, 'registry listener failed');
      }
    }
  }
}
