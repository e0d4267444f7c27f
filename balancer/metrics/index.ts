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
