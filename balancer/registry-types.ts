import type { Candidate } from '../strategies';
import type { ActiveCheckOptions } from './health/active-checker';
import type { OutlierOptions, OutlierState } from './health/outlier-detector';
import type { WorkerPool } from './upstream/pool';
import type { WorkerStats } from './stats/worker-stats';
import type { Drain, DrainedBy } from './worker-state';

/*
 * The registry's vocabulary, apart from the class that keeps it (registry.ts), which re-exports it:
 * a worker's record, the state /workers?details=1 shows, a registration, the health settings.
 */

/** A registered worker as the balancer keeps it. Strategies see it through the Candidate fields. */
export interface WorkerRecord extends Candidate, OutlierState {
  readonly url: string;
  name: string;
  /** The weight in force: the operator's override if one is set, else the registered one. */
  weight: number;
  /** The weight the worker registered with (its last heartbeat's). */
  registeredWeight: number;
  inflight: number;
  readonly pool: WorkerPool;
  readonly registeredAt: number;
  lastSeenAt: number;
  /** Verdict of the active health checks; a new worker starts healthy (it just proved it is alive). */
  healthy: boolean;
  /** Consecutive probe results in the current direction: >0 successes, <0 failures. */
  probeStreak: number;
  /** Passive ejection: not picked before this time (ms epoch); 0 when not ejected. */
  ejectedUntil: number;
  /** Whether the strategy currently holds this worker. */
  inRotation: boolean;
  /** When it last entered the rotation, for slow start. */
  rotationSince: number;
  /** Proxied requests it completed without failure, and the count the last active probe saw. */
  answered: number;
  answeredAtLastProbe: number;
  /** Counters for /metrics and /status; the data plane increments them, the admin listener reads them. */
  readonly stats: WorkerStats;
  /**
   * Set while it is drained on purpose (see worker-state.ts): by 'admin' (an operator's drain, kept in
   * the registry's overrides), or by 'worker'/'ttl' once it has left and its pool is finishing; undefined otherwise.
   */
  drain: Drain | undefined;
}

/** The abort reason for requests stuck on a worker the health checks just took out; the proxy retries them. */
export class WorkerUnhealthyError extends Error {
  readonly code = 'WORKER_UNHEALTHY';
  constructor(url: string) {
    super(`${url} failed its health checks while this request waited`);
  }
}

/** One worker as GET /workers?details=1 shows it. */
export interface WorkerState {
  url: string;
  name: string;
  weight: number;
  inflight: number;
  /** Whether the strategy may pick it now. */
  inRotation: boolean;
  /** Verdict of the active health checks. */
  healthy: boolean;
  /** Time left in a passive ejection; 0 when not ejected. */
  ejectedForMs: number;
  ejections: number;
  lastSeenMsAgo: number;
  registeredAt: string;
  /** The weight it registered with; `weight` differs when an operator set one. */
  registeredWeight: number;
  /** The operator's weight in force, or null (reset with PUT .../weight {"weight": null}). */
  weightOverride: number | null;
  /** Out of rotation on purpose: since when (ISO 8601) and by whom; null otherwise. */
  drain: { since: string; by: DrainedBy } | null;
  /** It has left the registry (deregistered, expired or deleted) and its pool is finishing in-flight requests. */
  leaving: boolean;
}

export interface Registration {
  url: string;
  name: string;
  weight: number;
}

export interface HealthOptions {
  active?: ActiveCheckOptions & { unhealthyThreshold: number; healthyThreshold: number; skipBusy: boolean };
  outlier?: OutlierOptions;
  /** Eject no worker if that would leave fewer than this share (0-100) of the healthy ones in rotation. */
  panicThresholdPercent: number;
  /** Drop a worker that has not re-registered for this long; 0 disables. */
  registrationTtlMs: number;
  /** SLOW_START_MS, for the state a worker is reported in (worker-state.ts); 0 or unset: no slow start. */
  slowStartMs?: number;
  /**
   * Asked by the TTL sweep before it expires anyone: false holds every worker (self-preservation, as
   * Eureka's: with REDIS_URL, while the shared store is out of sight, heartbeats through other replicas
   * cannot be seen). Unset: always true.
   */
  mayExpire?: () => boolean;
}
