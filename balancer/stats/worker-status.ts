import { EXCHANGE_ERROR_REASONS } from '../exchange-errors';
import type { WorkerRecord } from '../registry';
import { workerState } from '../worker-state';
import { stateReason, type ReasonContext } from './state-reason';
import type { StatusWorkerState, WorkerStatus } from './status-document';
import type { WindowReading } from './worker-windows';
import { errorsOf, requestsOf } from './worker-windows';
import { connectionsOf, inflightOf } from './worker-gauges';
import { STATUS_CLASSES } from './worker-stats';

const iso = (ms: number) => new Date(ms).toISOString();
/** Rates, shares and times keep three decimals: enough for a person, and the JSON stays readable. */
export const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Slow start's ramp as choose-worker.ts applies it: a worker `age` ms into the rotation keeps a pick with
 * probability age/window, so that is the share of its weight it gets. Null when it is not ramping up.
 */
function slowStartOf(w: WorkerRecord, now: number, windowMs: number): { progress: number; leftMs: number } | null {
  const age = now - w.rotationSince;
  if (windowMs === 0 || !w.inRotation || age >= windowMs) return null;
  return { progress: round3(age / windowMs), leftMs: windowMs - age };
}

/**
 * One worker as /status shows it: its configuration, its state and why, and its recent traffic from the
 * sampler's windows. `fleetRequests1m` is every worker's requests over the last minute, for the share.
 * Effective weight: 0 out of rotation, the configured weight scaled by slow start's progress while it
 * ramps up, the configured weight otherwise.
 */
export function workerStatus(w: WorkerRecord, reading: WindowReading, fleetRequests1m: number, ctx: ReasonContext): WorkerStatus {
  const { now } = ctx;
  const state: StatusWorkerState = workerState(w, now, ctx.slowStartMs);
  const ramp = slowStartOf(w, now, ctx.slowStartMs);
  const s = w.stats;
  const errorsByReason: Record<string, number> = {};
  EXCHANGE_ERROR_REASONS.forEach((reason, i) => {
    if (s.errors[i] > 0) errorsByReason[reason] = s.errors[i];
  });
  return {
    name: w.name,
    url: w.url,
    state,
    reason: stateReason(w, state, ctx),
    weight: { configured: w.weight, registered: w.registeredWeight, effective: w.inRotation ? round3(w.weight * (ramp?.progress ?? 1)) : 0 },
    inRotation: w.inRotation,
    probe: {
      lastAt: s.lastProbeAt === 0 ? null : iso(s.lastProbeAt),
      lastResult: s.lastProbeAt === 0 ? null : s.lastProbeOk ? 'ok' : 'failed',
      lastError: s.lastProbeError ?? null,
      streak: w.probeStreak,
      ok: s.probesOk,
      failed: s.probesFailed,
    },
    ejection: { count: w.ejections, leftMs: Math.max(0, w.ejectedUntil - now), until: w.ejectedUntil > now ? iso(w.ejectedUntil) : null },
    slowStart: ramp,
    drain: w.drain === undefined ? null : { since: iso(w.drain.since), by: w.drain.by },
    leaving: ctx.leaving === true,
    inflight: inflightOf(w),
    connections: connectionsOf(w),
    requestsPerSecond: { last10s: round3(reading.requestsPerSecond10s), last1m: round3(reading.requestsPerSecond1m) },
    errorRate1m: reading.requests1m > 0 ? round3(reading.errors1m / reading.requests1m) : 0,
    headerTimeMs: { p50: roundOrNull(reading.headerTimeP50Ms), p99: roundOrNull(reading.headerTimeP99Ms) },
    share1m: fleetRequests1m > 0 ? round3(reading.requests1m / fleetRequests1m) : 0,
    totals: {
      requests: requestsOf(s),
      errors: errorsOf(s),
      responses: Object.fromEntries(STATUS_CLASSES.map((c, i) => [c, s.responses[i]])) as WorkerStatus['totals']['responses'],
      errorsByReason,
      retries: s.retries,
      retriesRefusedByBudget: s.retriesRefusedByBudget,
    },
    registeredAt: iso(w.registeredAt),
    lastSeenMsAgo: now - w.lastSeenAt,
  };
}

const roundOrNull = (n: number | undefined) => (n === undefined ? null : round3(n));
