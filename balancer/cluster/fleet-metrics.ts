import { ExpositionWriter, label } from '../metrics/exposition';
import { processMetricsJson } from '../metrics/process-metrics';
import { labelledProcessMetrics } from './process-labels';
import type { FleetStatsGatherer } from './stats-gather';
import type { ServingReading } from './stats-messages';
import { requestsOfPacked } from './worker-counters';

/** What a scrape adds in the primary of PROCESSES > 1: its own families about the gather, and every process's metrics. */
export interface FleetScrape {
  readonly extra: string;
  readonly processMetrics: string;
}

/**
 * MetricsSource.gatherFleet for the primary: gathers (so the lb_* families written after it are the
 * whole balancer's), then labels the process metrics of the primary and of each serving process that
 * answered. Resolves within the gatherer's timeout whatever the serving processes do.
 */
export function fleetScrape(gatherer: FleetStatsGatherer): () => Promise<FleetScrape> {
  return async () => {
    const result = await gatherer.gather(true);
    const processes = [{ name: 'primary', metrics: await processMetricsJson() }];
    for (const m of result.answered) if (m.last?.process !== undefined) processes.push({ name: m.name, metrics: m.last.process });
    const out = new ExpositionWriter();
    out.family('lb_serving_processes', 'gauge', 'Serving processes the primary gathers counters from (PROCESSES).');
    out.sample('lb_serving_processes', '', result.answered.length + result.unanswered.length);
    out.family('lb_serving_processes_unanswered', 'gauge', 'Serving processes that did not answer this scrape in time: their last answer stands in.');
    out.sample('lb_serving_processes_unanswered', '', result.unanswered.length);
    out.family('lb_stats_gather_unanswered_total', 'counter', 'Times a serving process did not answer a gather of counters in time.');
    out.sample('lb_stats_gather_unanswered_total', '', gatherer.unansweredTotal);
    // How the load spreads over the serving processes (node:cluster's SCHED_RR hands out connections, not requests).
    out.family('lb_process_requests_total', 'counter', 'Requests each serving process sent to workers (responses and failed exchanges), since it started.');
    for (const m of result.answered) out.sample('lb_process_requests_total', label('process', m.name), requestsIn(m.last!));
    out.family('lb_process_client_connections_open', 'gauge', 'Client connections each serving process holds now.');
    for (const m of result.answered) out.sample('lb_process_client_connections_open', label('process', m.name), m.last!.clientConnectionsOpen);
    return { extra: out.toString(), processMetrics: await labelledProcessMetrics(processes) };
  };
}

function requestsIn(reading: ServingReading): number {
  return reading.workers.reduce((total, w) => total + requestsOfPacked(w.counters), 0);
}
