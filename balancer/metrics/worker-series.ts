import { EXCHANGE_ERROR_REASONS } from '../exchange-errors';
import type { WorkerRecord } from '../registry';
import { noteState } from '../stats/state-changes';
import { connectionsOf, inflightOf } from '../stats/worker-gauges';
import { HEADER_TIME_BUCKETS_MS, STATUS_CLASSES } from '../stats/worker-stats';
import { effectiveWeight, WORKER_STATES, type WorkerStateName } from '../worker-state';
import { label, type ExpositionWriter, type MetricType } from './exposition';

/** One worker as a scrape reads it: its record, its `worker` and `url` labels, its state now. */
export interface WorkerRow {
  readonly w: WorkerRecord;
  readonly labels: string;
  readonly state: WorkerStateName;
}

/** Reads every worker once per scrape (noteState also dates a slow start that ended since the last reading). */
export function workerRows(workers: Iterable<WorkerRecord>, now: number, slowStartMs: number): WorkerRow[] {
  const rows: WorkerRow[] = [];
  for (const w of workers) rows.push({ w, labels: `${label('worker', w.name)},${label('url', w.url)}`, state: noteState(w, now, slowStartMs) });
  return rows;
}

// client_gone is never a worker's fault and never recorded against one (proxy/index.ts).
const WORKER_ERROR_REASONS = EXCHANGE_ERROR_REASONS.filter((r) => r !== 'client_gone');
const ERROR_INDEX = WORKER_ERROR_REASONS.map((r) => EXCHANGE_ERROR_REASONS.indexOf(r));
const LE_LABELS = [...HEADER_TIME_BUCKETS_MS.map((ms) => String(ms / 1000)), '+Inf'].map((le) => label('le', le));

interface Scalar {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  value(row: WorkerRow, now: number, slowStartMs: number): number;
}

/** The families with one sample per worker. */
const SCALARS: readonly Scalar[] = [
  { name: 'lb_worker_in_flight', type: 'gauge', help: 'Requests (and open WebSockets) on the worker now.', value: (r) => inflightOf(r.w) },
  { name: 'lb_worker_connections_open', type: 'gauge', help: 'Upstream connections open to the worker, busy or idle.', value: (r) => connectionsOf(r.w).open },
  { name: 'lb_worker_connections_idle', type: 'gauge', help: 'Upstream connections to the worker kept idle for reuse.', value: (r) => connectionsOf(r.w).idle },
  {
    name: 'lb_worker_requests_queued',
    type: 'gauge',
    help: 'Requests waiting for a connection to the worker (WORKER_MAX_CONNECTIONS reached).',
    value: (r) => connectionsOf(r.w).queued,
  },
  {
    name: 'lb_worker_retries_total',
    type: 'counter',
    help: 'Requests retried on another worker after failing on this one.',
    value: (r) => r.w.stats.retries,
  },
  {
    name: 'lb_worker_retries_refused_total',
    type: 'counter',
    help: 'Retries after a failure on this worker that the retry budget refused (RETRY_BUDGET_PERCENT).',
    value: (r) => r.w.stats.retriesRefusedByBudget,
  },
  {
    name: 'lb_worker_ejections_total',
    type: 'counter',
    help: 'Passive ejections of the worker after consecutive failures (outlier detection).',
    value: (r) => r.w.stats.ejectionsTotal,
  },
  {
    name: 'lb_worker_state_changes_total',
    type: 'counter',
    help: 'Changes of the worker state since it registered.',
    value: (r) => r.w.stats.stateChanges,
  },
  {
    name: 'lb_worker_state_since_timestamp_seconds',
    type: 'gauge',
    help: 'When the worker entered its current state (Unix time).',
    value: (r) => r.w.stats.stateSince / 1000,
  },
  { name: 'lb_worker_weight', type: 'gauge', help: 'The weight the worker registered with.', value: (r) => r.w.weight },
  {
    name: 'lb_worker_effective_weight',
    type: 'gauge',
    help: 'The weight scaled by slow start progress (SLOW_START_MS); 0 out of rotation.',
    value: (r, now, slowStartMs) => effectiveWeight(r.w, now, slowStartMs),
  },
];

/** Every per-worker family, each one group of samples over all workers (the text format requires it). */
export function writeWorkerSeries(out: ExpositionWriter, rows: readonly WorkerRow[], now: number, slowStartMs: number): void {
  out.family('lb_worker_state', 'gauge', 'The worker state: 1 for the state it is in, 0 for the others.');
  for (const r of rows) for (const s of WORKER_STATES) out.sample('lb_worker_state', `${r.labels},${label('state', s)}`, s === r.state ? 1 : 0);

  out.family('lb_worker_requests_total', 'counter', 'Responses relayed from the worker, by status class.');
  for (const r of rows) {
    for (let i = 0; i < STATUS_CLASSES.length; i++)
      out.sample('lb_worker_requests_total', `${r.labels},${label('class', STATUS_CLASSES[i])}`, r.w.stats.responses[i]);
  }

  out.family('lb_worker_header_time_seconds', 'histogram', 'Time from sending the request to the worker until its response head arrived.');
  for (const r of rows) writeHistogram(out, r);

  out.family('lb_worker_errors_total', 'counter', 'Failed exchanges with the worker, by reason (a 5xx answer is counted in lb_worker_requests_total).');
  for (const r of rows) {
    for (let i = 0; i < WORKER_ERROR_REASONS.length; i++) {
      out.sample('lb_worker_errors_total', `${r.labels},${label('reason', WORKER_ERROR_REASONS[i])}`, r.w.stats.errors[ERROR_INDEX[i]]);
    }
  }

  out.family('lb_worker_probes_total', 'counter', 'Active health probes of the worker, by result.');
  for (const r of rows) {
    out.sample('lb_worker_probes_total', `${r.labels},result="ok"`, r.w.stats.probesOk);
    out.sample('lb_worker_probes_total', `${r.labels},result="failed"`, r.w.stats.probesFailed);
  }

  out.family('lb_worker_last_probe_timestamp_seconds', 'gauge', 'When the last active health probe of the worker ended (Unix time); absent before the first.');
  for (const r of rows) if (r.w.stats.lastProbeAt > 0) out.sample('lb_worker_last_probe_timestamp_seconds', r.labels, r.w.stats.lastProbeAt / 1000);

  for (const s of SCALARS) {
    out.family(s.name, s.type, s.help);
    for (const r of rows) out.sample(s.name, r.labels, s.value(r, now, slowStartMs));
  }
}

/** Cumulative buckets from the worker's per-slot counts, then +Inf (which equals _count), _sum in seconds, _count. */
function writeHistogram(out: ExpositionWriter, r: WorkerRow): void {
  const slots = r.w.stats.headerTime;
  let cumulative = 0;
  for (let i = 0; i < slots.length; i++) {
    cumulative += slots[i];
    out.sample('lb_worker_header_time_seconds_bucket', `${r.labels},${LE_LABELS[i]}`, cumulative);
  }
  out.sample('lb_worker_header_time_seconds_sum', r.labels, r.w.stats.headerTimeSumMs / 1000);
  out.sample('lb_worker_header_time_seconds_count', r.labels, cumulative);
}
