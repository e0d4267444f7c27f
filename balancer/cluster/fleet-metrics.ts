import { ExpositionWriter } from '../metrics/exposition';
import { processMetricsJson } from '../metrics/process-metrics';
import { labelledProcessMetrics } from './process-labels';
import type { FleetStatsGatherer } from './stats-gather';

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
    return { extra: out.toString(), processMetrics: await labelledProcessMetrics(processes) };
  };
}
