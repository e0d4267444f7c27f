import type { Logger } from '../logger';
import { processMetricsJson } from '../metrics/process-metrics';
import type { WorkerRegistry } from '../registry';
import type { GatewayStats } from '../stats/gateway-stats';
import { STATS_TAG, isStatsMessage, type ServingReading, type StatsMessage } from './stats-messages';
import { packGateway, packWorker } from './worker-counters';

/**
 * The parts of `process` (a cluster worker's IPC channel) a serving process answers on. `send` takes
 * any message (the channel carries the feed's and the control calls' too); this file sends StatsMessages.
 */
export interface PrimaryChannel {
  send?(message: unknown): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** What a serving process counts: its local registry's records, its gateway counters, its client side. */
export interface ServingCounters {
  readonly registry: WorkerRegistry;
  readonly gateway: GatewayStats;
  clientConnectionsOpen(): number;
}

/** Reads everything this process counted: O(workers), at the primary's request only. */
export async function readServing(counters: ServingCounters, withProcess: boolean): Promise<ServingReading> {
  const workers = [...counters.registry.records()].map((w) => ({ url: w.url, counters: packWorker(w) }));
  return {
    pid: process.pid,
    workers,
    gateway: packGateway(counters.gateway),
    clientConnectionsOpen: counters.clientConnectionsOpen(),
    process: withProcess ? await processMetricsJson() : undefined,
  };
}

/**
 * Called once by a serving process at start: answers each of the primary's requests for its counters.
 * Nothing here runs per proxied request; a reading is built when the primary asks (each /metrics
 * scrape, and once a second while /status's windows sample).
 */
export function answerStatsRequests(channel: PrimaryChannel, counters: ServingCounters, log: Logger): void {
  channel.on('message', (message) => {
    if (!isStatsMessage(message) || message.kind !== 'request') return;
    readServing(counters, message.withProcess).then(
      (reading) => {
        try {
          const reply: StatsMessage = { tag: STATS_TAG, kind: 'reply', id: message.id, reading };
          channel.send?.(reply);
        } catch {
          // The channel closed since the request: the primary is gone or retiring us, nobody waits.
        }
      },
      (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'reading counters for the primary failed'),
    );
  });
}
