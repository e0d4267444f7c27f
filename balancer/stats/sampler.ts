import type { WorkerRecord } from '../registry';
import { errorsOf, LATENCY_EVERY_TICKS, requestsOf, SAMPLE_INTERVAL_MS, WorkerWindows } from './worker-windows';

/** The registry as the sampler reads it. */
export interface WorkerSource {
  urls(): string[];
  get(url: string): WorkerRecord | undefined;
}

interface Tracked {
  readonly record: WorkerRecord;
  readonly windows: WorkerWindows;
  seenAtTick: number;
}

/**
 * Copies every worker's cumulative counters into its windows once a second, from a timer off the request
 * path (the data plane only increments WorkerStats). Started and stopped with the admin listener, whose
 * /status reads it. A worker's windows are dropped at the first tick after it leaves, and a worker that
 * registers again (a new WorkerRecord, counters from 0) gets new ones. Requests and errors of workers
 * that left are kept as two sums, so the fleet's totals do not fall when a worker goes.
 */
export class StatusSampler {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private departedRequests = 0;
  private departedErrors = 0;

  constructor(
    private readonly workers: WorkerSource,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), SAMPLE_INTERVAL_MS);
    // The windows are for operators: they never keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample of every worker; public so tests drive it with their own clock. O(workers). */
  tick(): void {
    const at = this.now();
    const tick = ++this.ticks;
    const withLatency = tick % LATENCY_EVERY_TICKS === 0;
    for (const url of this.workers.urls()) {
      const record = this.workers.get(url);
      if (record === undefined) continue;
      const entry = this.track(record);
      entry.seenAtTick = tick;
      entry.windows.sample(at, withLatency);
    }
    for (const entry of this.tracked.values()) if (entry.seenAtTick !== tick) this.forget(entry);
  }

  /** The windows of a registered worker, created on first sight (a worker seen by /status before any tick). */
  windowsOf(record: WorkerRecord): WorkerWindows {
    return this.track(record).windows;
  }

  /** Requests and errors of workers no longer registered, counted up to the tick that noticed they left. */
  get departed(): { requests: number; errors: number } {
    return { requests: this.departedRequests, errors: this.departedErrors };
  }

  /** Workers whose windows are held: the registry's, as of the last tick. */
  get size(): number {
    return this.tracked.size;
  }

  private track(record: WorkerRecord): Tracked {
    const known = this.tracked.get(record.url);
    if (known?.record === record) return known;
    // A worker that left and came back between two ticks: its old record's counts join the departed sums.
    if (known !== undefined) this.forget(known);
    const entry: Tracked = { record, windows: new WorkerWindows(record.stats, record.registeredAt), seenAtTick: this.ticks };
    this.tracked.set(record.url, entry);
    return entry;
  }

  private forget(entry: Tracked): void {
    this.departedRequests += requestsOf(entry.record.stats);
    this.departedErrors += errorsOf(entry.record.stats);
    this.tracked.delete(entry.record.url);
  }
}
