import cluster from 'node:cluster';
import { createStrategy } from '../../strategies';
import type { BalancerOptions } from '../index';
import { defaultClientCap, FALLBACK_DESCRIPTOR_LIMIT, softDescriptorLimit } from '../listener/descriptor-budget';
import type { Logger } from '../logger';
import { createOperatorAdmin } from '../operator-admin';
import { TrustPolicy } from '../proxy/forwarding';
import type { WorkerRecord } from '../registry';
import { createRegistryOwner, type RegistryOwner } from '../registry-owner';
import { viaToken } from '../serving-plane';
import { GatewayStats } from '../stats/gateway-stats';
import { WorkerAddressPolicy } from '../worker-address';
import { PrimaryControl } from './primary-control';
import { FleetStatsGatherer } from './stats-gather';
import { RegistryBroadcaster } from './registry-broadcaster';
import { ServingFleet } from './serving-fleet';
import { SERVING_VIA_ENV } from './serving';

export interface PrimaryOptions {
  /** PROCESSES, resolved (> 1). */
  processes: number;
  /** STATE_DIR, made ready by the entry point; only the primary reads and writes it. */
  stateDir: string | undefined;
  /** POST /admin/drain: must end as SIGTERM does, in the entry point's stop(). */
  requestDrain(by: string): void;
}

/** The running primary, for the entry point: where its processes listen, and the way to stop them all. */
export interface Primary {
  readonly port: number;
  readonly adminPort: number | undefined;
  readonly owner: RegistryOwner;
  readonly fleet: ServingFleet;
  /** Every serving process drains (their own close()), then the registry and the admin listener close. */
  close(): Promise<void>;
}

/**
 * The primary of PROCESSES > 1: owns the registry (registrations through its backend, health checks
 * once per worker, TTL expiry, pause grace, operator overrides, the STATE_DIR snapshot) and the admin
 * listener; forks the serving processes, feeds each one the registry (RegistryBroadcaster) and
 * answers their writes and passive outcomes (PrimaryControl). It never listens on PORT itself: with
 * SCHED_RR node:cluster accepts there and hands each connection to the next serving process
 * (docs/processes.md says why SCHED_RR).
 */
export async function startPrimary(config: BalancerOptions, log: Logger, options: PrimaryOptions): Promise<Primary> {
  // Before the first fork, so NODE_CLUSTER_SCHED_POLICY in an operator's environment cannot change it unnoticed.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const now = Date.now;
  const gatewayStats = new GatewayStats();
  // The primary never picks; its registry keeps the strategy's membership as any registry does.
  const strategy = createStrategy<WorkerRecord>(config.STRATEGY, { random: Math.random, now, hashKey: config.HASH_KEY });
  const addresses = new WorkerAddressPolicy(new TrustPolicy(config.WORKER_ALLOW));
  const owner = createRegistryOwner(config, log, { strategy, addresses, gatewayStats, now, stateDir: options.stateDir });
  const broadcaster = new RegistryBroadcaster(owner.registry, log);
  const control = new PrimaryControl(owner.backend, owner.registry, log);
  // /metrics and /status show the whole balancer: the serving processes' counters summed into the primary's records.
  const fleetStats = new FleetStatsGatherer(owner.registry, gatewayStats, log);
  const descriptorLimit = softDescriptorLimit() ?? FALLBACK_DESCRIPTOR_LIMIT;
  let draining = false;
  const operator = createOperatorAdmin(config, log, {
    registry: owner.registry,
    gatewayStats,
    now,
    maxClientConnections: config.MAX_CLIENT_CONNECTIONS === 'auto' ? defaultClientCap(descriptorLimit) : config.MAX_CLIENT_CONNECTIONS,
    clientConnectionsOpen: () => fleetStats.clientConnectionsOpen,
    fleetStats,
    isReady: () => !draining,
    drain: (by) => options.requestDrain(by),
  });
  const fleet = new ServingFleet({
    size: options.processes,
    // The secret the primary settled on (set, or generated and kept in STATE_DIR), so every process verifies alike.
    // One Via token for the whole balancer, so the loop guard catches a loop in whichever process it returns to.
    env: { REGISTRATION_SECRET: config.REGISTRATION_SECRET, PROCESSES: String(options.processes), [SERVING_VIA_ENV]: viaToken() },
    log,
    attach: (worker) => {
      // The feed first: a call's reply must follow the change it caused on the same channel. The
      // channel is the worker's ChildProcess (node:cluster's own messages never reach its 'message').
      broadcaster.attach(worker.process);
      control.attach(worker.process);
      fleetStats.attach(worker.process, `serving-${worker.process.pid}`);
    },
  });

  // Before any process serves, so the workers known before a restart are in every view from the first request.
  await owner.start();
  let port: number;
  try {
    port = await fleet.start();
  } catch (err) {
    await fleet.stop();
    broadcaster.close();
    await owner.close();
    throw err;
  }
  // Once a second, admin listener or not: /status's windows read it, and so do the health checks,
  // which skip a worker that answered traffic since its last probe (HEALTH_CHECK_SKIP_BUSY).
  fleetStats.start();
  const adminPort = await operator.listen();
  return {
    port,
    adminPort,
    owner,
    fleet,
    close: async () => {
      draining = true;
      fleetStats.stop();
      await fleet.stop();
      broadcaster.close();
      await owner.close();
      await operator.close();
    },
  };
}
