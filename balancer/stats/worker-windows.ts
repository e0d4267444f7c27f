import { HEADER_TIME_BUCKETS_MS, type WorkerStats } from './worker-stats';
import { histogramQuantile, perSecond, SnapshotRing, windowDelta } from './windows';

/** The sampler's tick, and the windows /status reports: requests/s over both, quantiles over the long one. */
export const SAMPLE_INTERVAL_MS = 1000;
export const SHORT_WINDOW_MS = 10_000;
export const LONG_WINDOW_MS = 60_000;
/** The histogram is copied every this many ticks: a one-minute quantile needs no finer steps than 10 s. */
export const LATENCY_EVERY_TICKS = 10;

const HISTOGRAM_WIDTH = HEADER_TIME_BUCKETS_MS.length + 1;

/** What /status reports of one worker's recent traffic. Requests count responses and failed exchanges alike. */
export interface WindowReading {
  readonly requestsPerSecond10s: number;
  readonly requestsPerSecond1m: number;
  readonly requests1m: number;
  readonly errors1m: number;
  /** Time to response headers over the last minute, ms; undefined without a response in it. */
  readonly headerTimeP50Ms: number | undefined;
  readonly headerTimeP99Ms: number | undefined;
}

/**
 * One worker's windows: [requests, errors] every tick (61 slots: a minute at 1 s) and the time-to-headers
 * histogram every tenth tick (7 slots), 2,416 bytes of typed arrays per worker whatever its traffic.
 * Errors are 5xx responses plus failed exchanges; an exchange that failed after its response head began
 * counts as a request twice (once responded, once failed), which is rare and errs toward showing it.
 * Created by the sampler when it first sees the worker, dropped when the worker leaves.
 */
export class WorkerWindows {
  private readonly counts = new SnapshotRing(LONG_WINDOW_MS / SAMPLE_INTERVAL_MS + 1, 2);
  private readonly latency = new SnapshotRing(LONG_WINDOW_MS / (SAMPLE_INTERVAL_MS * LATENCY_EVERY_TICKS) + 1, HISTOGRAM_WIDTH);
  private readonly live = new Float64Array(2);

  constructor(
    private readonly stats: WorkerStats,
    registeredAt: number,
  ) {
    // Every counter was 0 when the worker registered: the first baseline, so a young worker's windows
    // start at its registration instead of at the first tick after it.
    this.counts.push(registeredAt, this.live);
    this.latency.push(registeredAt, new Float64Array(HISTOGRAM_WIDTH));
  }

  /** Called by the sampler once per tick; `withLatency` on every LATENCY_EVERY_TICKS-th one. */
  sample(at: number, withLatency: boolean): void {
    this.counts.push(at, this.readLive());
    if (withLatency) this.latency.push(at, this.stats.headerTime);
  }

  read(now: number): WindowReading {
    const live = this.readLive();
    const short = windowDelta(this.counts, live, now, SHORT_WINDOW_MS);
    const long = windowDelta(this.counts, live, now, LONG_WINDOW_MS);
    const histogram = windowDelta(this.latency, this.stats.headerTime, now, LONG_WINDOW_MS).counts;
    return {
      requestsPerSecond10s: perSecond(short.counts[0], short.elapsedMs),
      requestsPerSecond1m: perSecond(long.counts[0], long.elapsedMs),
      requests1m: long.counts[0],
      errors1m: long.counts[1],
      headerTimeP50Ms: histogramQuantile(0.5, histogram, HEADER_TIME_BUCKETS_MS),
      headerTimeP99Ms: histogramQuantile(0.99, histogram, HEADER_TIME_BUCKETS_MS),
    };
  }

  /** Bytes of the rings (the typed arrays), for the memory figure above and its test. */
  get bytes(): number {
    return this.counts.bytes + this.latency.bytes;
  }

  private readLive(): Float64Array {
    this.live[0] = requestsOf(this.stats);
    this.live[1] = errorsOf(this.stats);
    return this.live;
  }
}

/** Requests a worker was sent: responses of every class plus exchanges that failed. */
export function requestsOf(stats: WorkerStats): number {
  return stats.responsesTotal + stats.errorsTotal;
}

/** Requests that went wrong at the worker: 5xx responses plus failed exchanges (client_gone is never counted). */
export function errorsOf(stats: WorkerStats): number {
  return stats.responses[4] + stats.errorsTotal;
}
