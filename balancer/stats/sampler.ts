import type { WorkerRecord } from '../registry';
import { errorsOf, LATENCY_EVERY_TICKS, requestsOf, SAMPLE_INTERVAL_MS, WorkerWindows } from './worker-windows';

/** The registry as the sampler and /status read it. */
export interface WorkerSource {
  urls(): string[];
  get(url: string): WorkerRecord | undefined;
  /** Workers that left but still finish requests they were sent. */
  leaving(): WorkerRecord[];
}

/** Every worker /status shows: the registered ones in registration order, then those leaving. */
export function listWorkers(source: WorkerSource): WorkerRecord[] {
  const records: WorkerRecord[] = [];
  for (const url of source.urls()) {
    const record = source.get(url);
    if (record !== undefined) records.push(record);
  }
  records.push(...source.leaving());
  return records;
}

interface Tracked {
  readonly windows: WorkerWindows;
  /** The last retainOnly() call that listed it. */
  seenIn: number;
}

/**
 * Copies every worker's cumulative counters into its windows once a second, from a timer off the request
 * path (the data plane only increments WorkerStats). Started and stopped with the admin listener, whose
 * /status reads it. Keyed by WorkerRecord, not URL: a worker that registers again while its old record
 * still finishes requests is two records with two sets of counters. A record's windows are dropped at
 * the first tick or /status after it is gone (its pool closed); its requests and errors then join two
 * sums, so the fleet's totals do not fall when a worker goes.
 */
export class StatusSampler {
  private readonly tracked = new Map<WorkerRecord, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private generation = 0;
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
    const withLatency = ++this.ticks % LATENCY_EVERY_TICKS === 0;
    const records = listWorkers(this.workers);
    for (const record of records) this.track(record).windows.sample(at, withLatency);
    this.retainOnly(records);
  }

  /**
   * Forgets the windows of every record not in `records` (the workers listed now), adding their counts to
   * the departed sums. Called by each tick, and by /status before it sums, so a worker gone since the
   * last tick is counted once, never zero times nor twice.
   */
  retainOnly(records: readonly WorkerRecord[]): void {
    const listed = ++this.generation;
    for (const record of records) this.track(record).seenIn = listed;
    for (const [record, entry] of this.tracked) if (entry.seenIn !== listed) this.forget(record);
  }

  /** The windows of a listed worker, created on first sight (a worker seen by /status before any tick). */
  windowsOf(record: WorkerRecord): WorkerWindows {
    return this.track(record).windows;
  }

  /** Requests and errors of workers gone, as their counters stood when retainOnly() noticed. */
  get departed(): { requests: number; errors: number } {
    return { requests: this.departedRequests, errors: this.departedErrors };
  }

  /** Workers whose windows are held: those listed at the last tick or /status. */
  get size(): number {
    return this.tracked.size;
  }

  private track(record: WorkerRecord): Tracked {
    const known = this.tracked.get(record);
    if (known !== undefined) return known;
    const entry: Tracked = { windows: new WorkerWindows(record.stats, record.registeredAt), seenIn: this.generation };
    this.tracked.set(record, entry);
    return entry;
  }

  private forget(record: WorkerRecord): void {
    this.departedRequests += requestsOf(record.stats);
    this.departedErrors += errorsOf(record.stats);
    this.tracked.delete(record);
  }
}
