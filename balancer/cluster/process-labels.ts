import { AggregatorRegistry } from 'prom-client';
import type { ProcessMetricsJson } from './stats-messages';

/**
 * The process metrics (process_*, nodejs_*) of every process of the balancer in one exposition, each
 * sample labelled `process` ("primary", "serving-1", ...). prom-client's AggregatorRegistry merges
 * registries by metric name and label set; with the `process` label added to every value and every
 * family aggregated by `sum`, no two processes share a label set, so each keeps its own series and a
 * family stays one group of samples, as the text format requires. Called at scrape time only.
 */
export function labelledProcessMetrics(processes: readonly { name: string; metrics: ProcessMetricsJson }[]): Promise<string> {
  const labelled = processes.map(({ name, metrics }) =>
    metrics.map((m) => ({
      ...m,
      aggregator: 'sum' as const,
      values: m.values.map((v) => ({ ...v, labels: { ...v.labels, process: name } })),
    })),
  );
  return AggregatorRegistry.aggregate(labelled).metrics();
}
