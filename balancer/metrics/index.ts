import type { WorkerRegistry } from '../registry';
import type { GatewayStats } from '../stats/gateway-stats';
import { ExpositionWriter } from './exposition';
import { writeFleetSeries } from './fleet-series';
import { workerRows, writeWorkerSeries } from './worker-series';

/** What GET /metrics reads; supplied by createBalancer. */
export interface MetricsSource {
  readonly registry: WorkerRegistry;
  readonly gateway: GatewayStats;
  /** SLOW_START_MS, for the slow_starting state and the effective weight. */
  readonly slowStartMs: number;
  clientConnectionsOpen(): number;
  /**
   * PROCESSES > 1, in the primary (cluster/fleet-metrics.ts): gathers the serving processes' counters
   * into `registry` and `gateway` before the scrape is written; gives the families it adds and the
   * process metrics of every process. Absent in a single process, whose own process metrics are used.
   */
  gatherFleet?(): Promise<{ readonly extra: string; readonly processMetrics: string }>;
}

/**
 * The lb_* part of a scrape, in the Prometheus text format, built from the counters the data plane keeps
 * (balancer/stats): O(workers), at scrape time only. A worker's series are those of the workers
 * registered now, so they leave with it.
 */
export function writeBalancerMetrics(source: MetricsSource, now: number): string {
  const out = new ExpositionWriter();
  const rows = workerRows(source.registry.records(), now, source.slowStartMs);
  writeFleetSeries(out, rows, { registry: source.registry, gateway: source.gateway, clientConnectionsOpen: source.clientConnectionsOpen() });
  writeWorkerSeries(out, rows, now, source.slowStartMs);
  return out.toString();
}
