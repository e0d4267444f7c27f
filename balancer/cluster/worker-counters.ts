import { EXCHANGE_ERROR_REASONS } from '../exchange-errors';
import type { WorkerRecord } from '../registry';
import { DEREGISTRATION_OUTCOMES, GATEWAY_ANSWER_REASONS, REGISTRATION_OUTCOMES, type GatewayStats } from '../stats/gateway-stats';
import { HEADER_TIME_BUCKETS_MS, STATUS_CLASSES, type WorkerStats } from '../stats/worker-stats';

/**
 * The flat layout in which a serving process sends one worker's counters to the primary, and in which
 * the primary sums them: responses by class, the header-time slots, their sum (ms), errors by reason,
 * retries, retries refused, then the four gauges (in flight, connections open, idle, queued). Plain
 * numbers in one array, so a reading of 1,000 workers is one small JSON message.
 */
const RESPONSES = 0;
const HEADER_TIME = RESPONSES + STATUS_CLASSES.length;
const HEADER_TIME_SUM = HEADER_TIME + HEADER_TIME_BUCKETS_MS.length + 1;
const ERRORS = HEADER_TIME_SUM + 1;
const RETRIES = ERRORS + EXCHANGE_ERROR_REASONS.length;
const RETRIES_REFUSED = RETRIES + 1;
const INFLIGHT = RETRIES_REFUSED + 1;
const OPEN = INFLIGHT + 1;
const IDLE = OPEN + 1;
const QUEUED = IDLE + 1;
export const WORKER_COUNTERS = QUEUED + 1;

/** Called in a serving process per registered worker, at each gather. */
export function packWorker(w: WorkerRecord): number[] {
  const s = w.stats;
  const out = new Array<number>(WORKER_COUNTERS);
  for (let i = 0; i < STATUS_CLASSES.length; i++) out[RESPONSES + i] = s.responses[i];
  for (let i = 0; i < s.headerTime.length; i++) out[HEADER_TIME + i] = s.headerTime[i];
  out[HEADER_TIME_SUM] = s.headerTimeSumMs;
  for (let i = 0; i < EXCHANGE_ERROR_REASONS.length; i++) out[ERRORS + i] = s.errors[i];
  out[RETRIES] = s.retries;
  out[RETRIES_REFUSED] = s.retriesRefusedByBudget;
  const pool = w.pool.stats;
  out[INFLIGHT] = w.inflight;
  out[OPEN] = pool.open;
  out[IDLE] = pool.idle;
  out[QUEUED] = pool.queued;
  return out;
}

/** Requests a packed worker was sent: responses of every class plus failed exchanges (as worker-windows.ts's requestsOf). */
export function requestsOfPacked(packed: ArrayLike<number>): number {
  let total = 0;
  for (let i = RESPONSES; i < RESPONSES + STATUS_CLASSES.length; i++) total += packed[i] || 0;
  for (let i = ERRORS; i < ERRORS + EXCHANGE_ERROR_REASONS.length; i++) total += packed[i] || 0;
  return total;
}

/** Adds `packed` into `into` (both WORKER_COUNTERS long); a shorter array from another build adds what it has. */
export function addPacked(into: Float64Array, packed: readonly number[]): void {
  const n = Math.min(into.length, packed.length);
  for (let i = 0; i < n; i++) into[i] += packed[i] || 0;
}

/** Zeroes the gauges of a sum: what a serving process that is gone leaves behind is its counters, not its load. */
export function dropGauges(sum: Float64Array): void {
  sum.fill(0, INFLIGHT, WORKER_COUNTERS);
}

/**
 * Called in the primary: writes the fleet's sum into the primary's record of the worker. The primary
 * proxies nothing, so these fields of its WorkerStats are otherwise 0; what the primary counts itself
 * (probes, ejections, state changes) is left as it is.
 */
export function writeSum(stats: WorkerStats, sum: Float64Array): void {
  for (let i = 0; i < STATUS_CLASSES.length; i++) stats.responses[i] = sum[RESPONSES + i];
  for (let i = 0; i < stats.headerTime.length; i++) stats.headerTime[i] = sum[HEADER_TIME + i];
  stats.headerTimeSumMs = sum[HEADER_TIME_SUM];
  for (let i = 0; i < EXCHANGE_ERROR_REASONS.length; i++) stats.errors[i] = sum[ERRORS + i];
  stats.retries = sum[RETRIES];
  stats.retriesRefusedByBudget = sum[RETRIES_REFUSED];
  stats.gathered = { inflight: sum[INFLIGHT], open: sum[OPEN], idle: sum[IDLE], queued: sum[QUEUED] };
}

/** GatewayStats as one array: answers, registrations, deregistrations by outcome, then the five scalars. */
export function packGateway(g: GatewayStats): number[] {
  return [
    ...GATEWAY_ANSWER_REASONS.map((r) => g.answers[r]),
    ...REGISTRATION_OUTCOMES.map((o) => g.registrations[o]),
    ...DEREGISTRATION_OUTCOMES.map((o) => g.deregistrations[o]),
    g.expirations,
    g.connectionsRefused,
    g.websocketsOpen,
    g.websocketsOpened,
  ];
}

/** Adds a packed GatewayStats into `into`; websocketsOpen only when `withGauges` (a live process). */
export function addGateway(into: GatewayStats, packed: readonly number[], withGauges: boolean): void {
  let i = 0;
  const next = () => packed[i++] || 0;
  for (const r of GATEWAY_ANSWER_REASONS) into.answers[r] += next();
  for (const o of REGISTRATION_OUTCOMES) into.registrations[o] += next();
  for (const o of DEREGISTRATION_OUTCOMES) into.deregistrations[o] += next();
  into.expirations += next();
  into.connectionsRefused += next();
  const open = next();
  if (withGauges) into.websocketsOpen += open;
  into.websocketsOpened += next();
}
