import { WORKER_STATES } from '../worker-state';
import { listWorkers, type StatusSampler, type WorkerSource } from './sampler';
import type { ReasonContext } from './state-reason';
import type { StatusDocument, StatusWorkerState } from './status-document';
import { inflightOf } from './worker-gauges';
import { trafficSettings, type TrafficConfig } from './traffic-settings';
import { round3, workerStatus } from './worker-status';
import { errorsOf, requestsOf, type WindowReading } from './worker-windows';

/** What GET /status reads; supplied once by createBalancer. */
export interface StatusInputs {
  readonly workers: WorkerSource & { readonly inPanic: boolean };
  readonly sampler: StatusSampler;
  readonly config: TrafficConfig;
  readonly version: string;
  /** ms epoch */
  readonly startedAt: number;
  isReady(): boolean;
}

/**
 * Builds the /status document (see status-document.ts) from the registry's records, their WorkerStats and
 * the sampler's windows: O(workers), at request time of the admin listener only. Workers appear in the
 * registry's order (registration order), then those leaving (listed as draining until their pool closed).
 * The fleet's in-rotation count is of registered workers only; a leaving one is never in rotation.
 */
export function buildStatus(src: StatusInputs, now: number): StatusDocument {
  const records = listWorkers(src.workers);
  const leaving = new Set(src.workers.leaving());
  src.sampler.retainOnly(records);
  const readings: WindowReading[] = records.map((w) => src.sampler.windowsOf(w).read(now));
  const sum = (pick: (r: WindowReading) => number) => readings.reduce((total, r) => total + pick(r), 0);
  const requests1m = sum((r) => r.requests1m);
  const { config } = src;
  const ctx: ReasonContext = {
    now,
    panic: src.workers.inPanic,
    slowStartMs: config.SLOW_START_MS,
    healthyThreshold: config.HEALTHY_THRESHOLD,
    outlierConsecutiveFailures: config.OUTLIER_CONSECUTIVE_FAILURES,
  };
  const workers = records.map((w, i) => workerStatus(w, readings[i], requests1m, { ...ctx, leaving: leaving.has(w) }));
  const byState = Object.fromEntries(WORKER_STATES.map((s) => [s, 0])) as Record<StatusWorkerState, number>;
  for (const w of workers) byState[w.state]++;
  const departed = src.sampler.departed;
  return {
    balancer: {
      version: src.version,
      generatedAt: new Date(now).toISOString(),
      startedAt: new Date(src.startedAt).toISOString(),
      uptimeS: Math.floor((now - src.startedAt) / 1000),
      strategy: config.STRATEGY,
      panic: src.workers.inPanic,
      ready: src.isReady(),
      workers: { registered: records.length - leaving.size, inRotation: records.filter((w) => w.inRotation).length, byState },
      settings: trafficSettings(config),
    },
    totals: {
      requests: departed.requests + records.reduce((total, w) => total + requestsOf(w.stats), 0),
      errors: departed.errors + records.reduce((total, w) => total + errorsOf(w.stats), 0),
      inflight: records.reduce((total, w) => total + inflightOf(w), 0),
      requestsPerSecond: { last10s: round3(sum((r) => r.requestsPerSecond10s)), last1m: round3(sum((r) => r.requestsPerSecond1m)) },
      errorRate1m: requests1m > 0 ? round3(sum((r) => r.errors1m) / requests1m) : 0,
    },
    workers,
  };
}
