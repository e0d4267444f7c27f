import type { BalancerOptions } from './index';
import { createAdminServer, type AdminServer } from './admin';
import { fleetScrape } from './cluster/fleet-metrics';
import type { FleetStatsGatherer } from './cluster/stats-gather';
import type { Logger } from './logger';
import { packageVersion } from './package-files';
import type { WorkerRegistry } from './registry';
import type { GatewayStats } from './stats/gateway-stats';
import { StatusSampler } from './stats/sampler';
import { buildStatus, type StatusInputs } from './stats/status';

export interface OperatorAdminDeps {
  /** The registry the operator acts on: the owner's (PROCESSES=1, or the primary's). */
  registry: WorkerRegistry;
  gatewayStats: GatewayStats;
  now: () => number;
  /** The client connection cap in force, for /status. */
  maxClientConnections: number;
  /** Client connections open now, for /metrics. */
  clientConnectionsOpen: () => number;
  isReady: () => boolean;
  /** POST /admin/drain; must end in the process's exit, as SIGTERM does. */
  drain: (by: string) => void;
  /**
   * The primary of PROCESSES > 1: gathers the serving processes' counters into `registry` and its own
   * `gateway` (cluster/stats-gather.ts) at each scrape; the primary also runs its once-a-second gather,
   * which /status's windows read.
   */
  fleetStats?: FleetStatsGatherer;
}

/** The admin listener with its /status sampler; undefined parts with ADMIN_PORT=off. */
export interface OperatorAdmin {
  readonly admin: AdminServer | undefined;
  /** Binds ADMIN_PORT and starts sampling; resolves with the port (undefined with ADMIN_PORT=off). */
  listen(): Promise<number | undefined>;
  /** Last in a shutdown, so /readyz answers 503 for as long as anything is in flight. */
  close(): Promise<void>;
}

/** Called by createBalancer (PROCESSES=1) and by the primary: one admin listener per balancer. */
export function createOperatorAdmin(config: BalancerOptions, log: Logger, deps: OperatorAdminDeps): OperatorAdmin {
  const { registry, gatewayStats, now, fleetStats: fleet } = deps;
  // The windows of GET /status: sampled once a second while the admin listener is open.
  const sampler = new StatusSampler(registry, now);
  const status: StatusInputs = {
    workers: registry,
    sampler,
    config: { ...config, MAX_CLIENT_CONNECTIONS: deps.maxClientConnections },
    version: packageVersion(),
    startedAt: now(),
    isReady: deps.isReady,
  };
  const admin =
    config.ADMIN_PORT === 'off'
      ? undefined
      : createAdminServer({
          host: config.ADMIN_HOST,
          port: config.ADMIN_PORT,
          token: config.ADMIN_TOKEN,
          log,
          target: {
            isReady: deps.isReady,
            drain: deps.drain,
            status: { document: () => buildStatus(status, now()), maxStreams: config.ADMIN_MAX_STREAMS },
            registry,
            metrics: {
              registry,
              gateway: fleet?.gateway ?? gatewayStats,
              slowStartMs: config.SLOW_START_MS,
              clientConnectionsOpen: deps.clientConnectionsOpen,
              gatherFleet: fleet === undefined ? undefined : fleetScrape(fleet),
            },
          },
        });
  return {
    admin,
    listen: async () => {
      const port = await admin?.listen();
      if (admin !== undefined) sampler.start();
      return port;
    },
    close: async () => {
      sampler.stop();
      await admin?.close();
    },
  };
}
