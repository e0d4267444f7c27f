import type { Registry } from 'prom-client';

/**
 * What the primary and a serving process say to each other about counters (PROCESSES > 1), on the same
 * IPC channel as the registry feed and kept apart from it by STATS_TAG. The primary asks, each serving
 * process answers with everything it counted since it started; the primary sums (stats-gather.ts).
 */
export const STATS_TAG = 'lb:stats';

/** One worker's counters in one serving process, packed as worker-counters.ts lays them out. */
export interface PackedWorker {
  readonly url: string;
  readonly counters: number[];
}

/** Process metrics as prom-client's getMetricsAsJSON() gives them (plain data, so it crosses IPC). */
export type ProcessMetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Everything one serving process counted, cumulative since it started. */
export interface ServingReading {
  readonly pid: number;
  readonly workers: PackedWorker[];
  /** GatewayStats packed as worker-counters.ts's packGateway lays it out. */
  readonly gateway: number[];
  readonly clientConnectionsOpen: number;
  /** Present when the request asked for it (a /metrics scrape; /status's once-a-second gather does not). */
  readonly process?: ProcessMetricsJson;
}

export type StatsMessage =
  /** Primary to serving process: answer with a reading carrying the same id. */
  { tag: typeof STATS_TAG; kind: 'request'; id: number; withProcess: boolean } | { tag: typeof STATS_TAG; kind: 'reply'; id: number; reading: ServingReading };

/** True for a message of this exchange; anything else on the channel belongs to someone else. */
export function isStatsMessage(message: unknown): message is StatsMessage {
  return typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === STATS_TAG;
}
