import type { WorkerRecord } from '../registry';
import type { Drain, WorkerStateName } from '../worker-state';

/** What the words need beyond the worker: the clock, the fleet's panic flag and the thresholds in force. */
export interface ReasonContext {
  readonly now: number;
  readonly panic: boolean;
  readonly slowStartMs: number;
  readonly healthyThreshold: number;
  readonly outlierConsecutiveFailures: number;
  /** The worker has left the registry and only finishes what it was sent. */
  readonly leaving?: boolean;
}

/** A duration as an operator reads it: 0.4 s, 12 s, 3 min 5 s, 2 h 10 min. */
export function inWords(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${(Math.round(s * 10) / 10).toString()} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/**
 * Why a worker is in its state, in one sentence built from the same fields /status lists beside it (the
 * last probe, the ejection, slow start, the drain), so the dashboard needs no rules of its own. Called at
 * /status time, never per request. The switch is exhaustive: a state added to worker-state.ts without
 * words here does not compile.
 */
export function stateReason(w: WorkerRecord, state: WorkerStateName, ctx: ReasonContext): string {
  const { now } = ctx;
  switch (state) {
    case 'draining':
      return drainReason(w.drain!, w.inflight, now, ctx.leaving === true);
    case 'unhealthy':
      if (w.probeStreak > 0) return `recovering: ${w.probeStreak} of ${ctx.healthyThreshold} good health probes in a row needed to return`;
      return `failed its last ${-w.probeStreak} health probes (${w.stats.lastProbeError ?? 'failed'}, ${inWords(now - w.stats.lastProbeAt)} ago)`;
    case 'ejected': {
      const why = `ejected after ${ctx.outlierConsecutiveFailures} consecutive failed requests (ejection ${w.ejections}), ${inWords(w.ejectedUntil - now)} left`;
      return ctx.panic && w.inRotation ? `${why}; still routed: panic mode` : why;
    }
    case 'slow_starting': {
      const age = now - w.rotationSince;
      return `warming up: ${Math.floor((100 * age) / ctx.slowStartMs)} % of its weight, full in ${inWords(ctx.slowStartMs - age)}`;
    }
    case 'up':
      if (!w.inRotation) return 'waiting to enter the rotation';
      return w.stats.lastProbeAt === 0 ? 'in rotation' : `in rotation; last health probe ok ${inWords(now - w.stats.lastProbeAt)} ago`;
  }
}

function drainReason(drain: Drain, inflight: number, now: number, leaving: boolean): string {
  const finishing = inflight === 0 ? 'nothing in flight' : `finishing ${inflight} in-flight request${inflight === 1 ? '' : 's'}`;
  const ago = inWords(now - drain.since);
  switch (drain.by) {
    case 'admin':
      // DELETE /admin/workers/:worker drains by 'admin' too, then the worker leaves the registry.
      return `${leaving ? 'removed' : 'drained'} by an operator ${ago} ago: no new requests, ${finishing}`;
    case 'worker':
      return `deregistered itself ${ago} ago: no new requests, ${finishing}`;
    case 'ttl':
      return `no heartbeat within REGISTRATION_TTL_MS, drained ${ago} ago: ${finishing}`;
  }
}
