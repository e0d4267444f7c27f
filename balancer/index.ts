import type { Server } from 'node:net';
import { createStrategy } from '../strategies';
import type { BalancerConfig } from './config';
import { createLogger, type Logger } from './logger';
import { createOperatorAdmin } from './operator-admin';
import type { AdminServer } from './admin';
import { type WorkerRecord, type WorkerRegistry } from './registry';
import { createRegistryOwner } from './registry-owner';
import { createServingPlane } from './serving-plane';
import { TrustPolicy } from './proxy/forwarding';
import { WorkerAddressPolicy } from './worker-address';
import { GatewayStats } from './stats/gateway-stats';

export interface Balancer {
  /** The listening socket (see balancer/listener). */
  readonly server: Server;
  readonly registry: WorkerRegistry;
  readonly log: Logger;
  /** The client connection cap in force (MAX_CLIENT_CONNECTIONS, or derived from the descriptor limit). */
  readonly limits: { maxClientConnections: number; descriptorLimit: number };
  /** The operator's listener (balancer/admin); undefined with ADMIN_PORT=off. */
  readonly admin: AdminServer | undefined;
  /** True from the moment close() began: /readyz answers 503 from then on. */
  readonly draining: boolean;
  /** Opens the gateway, then the admin listener; resolves with both bound ports (useful with PORT=0, ADMIN_PORT=0). */
  listen(): Promise<{ port: number; adminPort: number | undefined }>;
  /** Marks the balancer draining, stops accepting, lets in-flight requests finish, closes every worker pool, then the admin listener. */
  close(): Promise<void>;
}

/** What the process around the balancer provides: the entry point owns the exit, so POST /admin/drain asks it. */
export interface BalancerHooks {
  /** Called by POST /admin/drain; must end in close() and the process's exit, as SIGTERM does. Default: close(). */
  requestDrain?: (by: string) => void;
  /**
   * STATE_DIR, made ready by the entry point (balancer/state/state-dir.ts): listen() restores the
   * registry snapshot kept there, and every change is written back. Undefined: nothing survives a restart.
   */
  stateDir?: string;
}

export type BalancerOptions = Omit<BalancerConfig, 'REGISTRATION_SECRET'> & { REGISTRATION_SECRET: string };

/**
 * One balancer in one process (PROCESSES=1): the registry's owner (registry-owner.ts), the serving
 * plane on PORT (serving-plane.ts) and the admin listener (operator-admin.ts), in this process. With
 * PROCESSES > 1 the same three parts are split between the primary (owner and admin) and each serving
 * process (serving plane over a local view): see balancer/cluster/.
 */
export function createBalancer(config: BalancerOptions, log: Logger = createLogger(config.LOG_LEVEL), hooks: BalancerHooks = {}): Balancer {
  const now = Date.now;
  // The fleet-wide counters of /metrics: one object, counted into by every part below.
  const gatewayStats = new GatewayStats();
  const random = Math.random;
  const strategy = createStrategy<WorkerRecord>(config.STRATEGY, { random, now, hashKey: config.HASH_KEY });
  // Judges every address a worker's host stands for, at registration and on every connect to it.
  const addresses = new WorkerAddressPolicy(new TrustPolicy(config.WORKER_ALLOW));
  const owner = createRegistryOwner(config, log, { strategy, addresses, gatewayStats, now, stateDir: hooks.stateDir });
  const { registry, backend } = owner;
  const serving = createServingPlane(config, log, {
    strategy,
    backend,
    addresses,
    gatewayStats,
    now,
    random,
    recordExchange: (worker, failed) => registry.recordExchange(worker, failed),
  });
  let draining = false;
  const operator = createOperatorAdmin(config, log, {
    registry,
    gatewayStats,
    now,
    maxClientConnections: serving.limits.maxClientConnections,
    clientConnectionsOpen: () => serving.openConnections,
    isReady: () => !draining,
    drain: (by) => (hooks.requestDrain ? hooks.requestDrain(by) : void balancer.close()),
  });

  const balancer: Balancer = {
    server: serving.server,
    registry,
    log,
    limits: serving.limits,
    admin: operator.admin,
    get draining() {
      return draining;
    },
    listen: async () => {
      // Before the gateway accepts anything, so the workers known before a restart are served from the first request.
      await owner.start();
      const port = await serving.listen();
      const adminPort = await operator.listen();
      return { port, adminPort };
    },
    close: async () => {
      // First, so /readyz answers 503 while the rest drains: an L4 balancer or Kubernetes stops sending.
      draining = true;
      // Workers stay in rotation until every client connection has finished its exchange: a request
      // still uploading when the signal came (a PUT read whole before a worker is picked) is served.
      await serving.drain();
      // Before the registry empties: the last snapshot holds every worker, as last seen.
      await owner.close();
      // Last, so /readyz keeps answering 503 for as long as anything is in flight.
      await operator.close();
    },
  };
  return balancer;
}
