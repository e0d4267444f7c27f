import { collectDefaultMetrics, Registry } from 'prom-client';

/** The content type of the text exposition format, version 0.0.4, which Prometheus asks for first. */
export const EXPOSITION_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

let registry: Registry | undefined;

/**
 * Node's process metrics (CPU, memory, heap, GC, event-loop lag, handles) from prom-client, under its
 * standard process_* and nodejs_* names, so dashboards and alerts written for any Node service read
 * them unchanged. One registry of our own (never prom-client's global one) per process, since they
 * describe the process, not one balancer; made at the first scrape, which starts prom-client's GC
 * observer and event-loop delay monitor, so a balancer nobody scrapes runs neither.
 */
function processRegistry(): Registry {
  if (registry === undefined) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

export function processMetrics(): Promise<string> {
  return processRegistry().metrics();
}

/** The same metrics as plain data, for a serving process to send to the primary (PROCESSES > 1). */
export function processMetricsJson(): ReturnType<Registry['getMetricsAsJSON']> {
  return processRegistry().getMetricsAsJSON();
}
