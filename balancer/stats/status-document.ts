/**
 * The JSON contract of GET /status and of each /status/stream event: what the dashboard (dashboard/*.js,
 * which type-checks against this file) and any operator's script read. Imports nothing, so the browser's
 * type-check can include it. Times are ISO 8601 strings, durations ms, rates per second, shares 0-1.
 * Fields are only ever added.
 */

/** As balancer/worker-state.ts names them; status.ts fails to compile if a state is added there and not here. */
export type StatusWorkerState = 'up' | 'slow_starting' | 'draining' | 'ejected' | 'unhealthy';
export type StatusDrainedBy = 'worker' | 'admin' | 'ttl';

export interface StatusDocument {
  readonly balancer: BalancerStatus;
  readonly totals: FleetTotals;
  readonly workers: readonly WorkerStatus[];
}

export interface BalancerStatus {
  readonly version: string;
  readonly generatedAt: string;
  readonly startedAt: string;
  readonly uptimeS: number;
  readonly strategy: string;
  /** Ejections ignored because too few workers would be left (PANIC_THRESHOLD_PERCENT). */
  readonly panic: boolean;
  /** False once the balancer drains (SIGTERM, POST /admin/drain): /readyz answers 503. */
  readonly ready: boolean;
  readonly workers: { readonly registered: number; readonly inRotation: number; readonly byState: Readonly<Record<StatusWorkerState, number>> };
  /** The settings that shape traffic, under their environment names (never a secret). */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
}

export interface RequestRates {
  readonly last10s: number;
  readonly last1m: number;
}

export interface FleetTotals {
  /** Since the balancer started, workers that left included. */
  readonly requests: number;
  readonly errors: number;
  readonly inflight: number;
  readonly requestsPerSecond: RequestRates;
  readonly errorRate1m: number;
}

export interface WorkerStatus {
  readonly name: string;
  readonly url: string;
  readonly state: StatusWorkerState;
  /** Why it is in that state, in words, from the fields below. */
  readonly reason: string;
  /**
   * configured: the weight in force (an operator's PUT .../weight, else the registered one); registered:
   * the worker's own; effective: what it gets now (0 out of rotation, scaled down by slow start).
   */
  readonly weight: { readonly configured: number; readonly registered: number; readonly effective: number };
  readonly inRotation: boolean;
  readonly probe: {
    readonly lastAt: string | null;
    readonly lastResult: 'ok' | 'failed' | null;
    readonly lastError: string | null;
    /** Consecutive results in the current direction: >0 successes, <0 failures. */
    readonly streak: number;
    readonly ok: number;
    readonly failed: number;
  };
  readonly ejection: { readonly count: number; readonly leftMs: number; readonly until: string | null };
  /** Share of its weight slow start grants now (0-1); null when it is not ramping up. */
  readonly slowStart: { readonly progress: number; readonly leftMs: number } | null;
  readonly drain: { readonly since: string; readonly by: StatusDrainedBy } | null;
  /** It has left the registry (deregistered, expired or removed) and finishes the requests it has. */
  readonly leaving: boolean;
  readonly inflight: number;
  readonly connections: { readonly open: number; readonly idle: number; readonly queued: number };
  readonly requestsPerSecond: RequestRates;
  readonly errorRate1m: number;
  /** Time to response headers over the last minute; null without a response in it. */
  readonly headerTimeMs: { readonly p50: number | null; readonly p99: number | null };
  /** Its part of the fleet's requests over the last minute. */
  readonly share1m: number;
  /** Since it registered. */
  readonly totals: {
    readonly requests: number;
    readonly errors: number;
    readonly responses: Readonly<Record<'1xx' | '2xx' | '3xx' | '4xx' | '5xx', number>>;
    /** Failed exchanges by reason (balancer/exchange-errors.ts), reasons seen at least once only. */
    readonly errorsByReason: Readonly<Record<string, number>>;
    readonly retries: number;
    readonly retriesRefusedByBudget: number;
  };
  readonly registeredAt: string;
  readonly lastSeenMsAgo: number;
}
