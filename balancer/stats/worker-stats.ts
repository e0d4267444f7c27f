import { EXCHANGE_ERROR_REASONS, type ExchangeErrorReason } from '../exchange-errors';
import type { WorkerStateName } from '../worker-state';

/**
 * Upper bounds (ms, inclusive) of the time-to-response-headers histogram, from 0.5 ms to 30 s. Fixed at
 * build time so every worker's series have the same `le` labels; one more slot counts what is slower.
 */
export const HEADER_TIME_BUCKETS_MS: readonly number[] = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000];

/** Status classes as counted: index 0 is 1xx, 4 is 5xx. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

const REASON_INDEX: Readonly<Record<ExchangeErrorReason, number>> = Object.fromEntries(EXCHANGE_ERROR_REASONS.map((r, i) => [r, i])) as Record<
  ExchangeErrorReason,
  number
>;

/** Result of one active health probe, as the registry hears it. */
export type ProbeResult = 'ok' | 'failed';

/**
 * One worker's counters, cumulative since it registered. The data plane writes plain numbers into
 * preallocated arrays (no labels, no maps, no allocation per request); /metrics and /status read and
 * format them at scrape time, so their cost is paid by the scraper, not by the request. Created once per
 * registration with the WorkerRecord and dropped with it, so a worker's series leave when it does.
 */
export class WorkerStats {
  /** Responses relayed from this worker, by status class (STATUS_CLASSES). */
  readonly responses = new Float64Array(STATUS_CLASSES.length);
  /** Non-cumulative counts per HEADER_TIME_BUCKETS_MS slot, plus a last slot for slower ones. */
  readonly headerTime = new Float64Array(HEADER_TIME_BUCKETS_MS.length + 1);
  headerTimeSumMs = 0;
  /** Failed exchanges by reason, indexed as EXCHANGE_ERROR_REASONS. */
  readonly errors = new Float64Array(EXCHANGE_ERROR_REASONS.length);
  /** Requests retried on another worker after failing on this one, and those the retry budget refused. */
  retries = 0;
  retriesRefusedByBudget = 0;
  /** Active probes by result, and the last one's time (ms epoch, 0 = none yet), result and error. */
  probesOk = 0;
  probesFailed = 0;
  lastProbeAt = 0;
  lastProbeOk = true;
  lastProbeError: string | undefined = undefined;
  /** Times its state (see worker-state.ts) changed, and since when the current one holds (ms epoch). */
  stateChanges = 0;
  stateSince = 0;
  /** The state as last read by noteState() (stats/state-changes.ts); undefined before the first reading. */
  lastState: WorkerStateName | undefined = undefined;
  /** Passive ejections since it registered: the record's `ejections` restarts once a worker stays well, this does not. */
  ejectionsTotal = 0;
  /**
   * PROCESSES > 1, in the primary only: the worker's requests in flight and upstream connections summed
   * over the serving processes at the last gather (cluster/stats-gather.ts). Undefined in a process that
   * proxies, whose record and pool hold its own (read both through worker-gauges.ts).
   */
  gathered: { inflight: number; open: number; idle: number; queued: number } | undefined = undefined;

  /** Called by the proxy once per response head relayed from this worker. */
  recordResponse(status: number, headerTimeMs: number): void {
    const cls = ((status / 100) | 0) - 1;
    if (cls >= 0 && cls < 5) this.responses[cls]++;
    const buckets = HEADER_TIME_BUCKETS_MS;
    let i = 0;
    while (i < buckets.length && headerTimeMs > buckets[i]) i++;
    this.headerTime[i]++;
    this.headerTimeSumMs += headerTimeMs;
  }

  /** Called by the proxy when an exchange with this worker failed (never for client_gone). */
  recordError(reason: ExchangeErrorReason): void {
    this.errors[REASON_INDEX[reason]]++;
  }

  recordProbe(ok: boolean, at: number, error: string | undefined): void {
    if (ok) this.probesOk++;
    else this.probesFailed++;
    this.lastProbeAt = at;
    this.lastProbeOk = ok;
    this.lastProbeError = ok ? undefined : error;
  }

  /** Responses of every class: the request count the windows of /status are built from. */
  get responsesTotal(): number {
    const r = this.responses;
    return r[0] + r[1] + r[2] + r[3] + r[4];
  }

  get errorsTotal(): number {
    let total = 0;
    for (const n of this.errors) total += n;
    return total;
  }
}
