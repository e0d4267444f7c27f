import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BalancerOptions } from './index';
import type { Logger } from './logger';
import { InactivityWatch } from './inactivity-watch';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from './registry';
import { createRegistryBackend } from './registry-backend/choose';
import type { RegistryBackend } from './registry-backend/types';
import { restoreRegistry } from './state/restore';
import { SNAPSHOT_FILE } from './state/state-dir';
import { lastSeenResolutionMs, SnapshotWriter } from './state/snapshot-writer';
import type { GatewayStats } from './stats/gateway-stats';
import { UpstreamPool, type WorkerPool } from './upstream/pool';
import type { WorkerAddressPolicy } from './worker-address';
import type { Strategy } from '../strategies';

/** Health settings from the environment: active checks and outlier detection are each off at 0. */
export function healthOptions(config: BalancerOptions, lookup: WorkerAddressPolicy['lookup']): HealthOptions {
  return {
    active:
      config.HEALTH_CHECK_INTERVAL_MS > 0
        ? {
            path: config.HEALTH_CHECK_PATH,
            intervalMs: config.HEALTH_CHECK_INTERVAL_MS,
            timeoutMs: config.HEALTH_CHECK_TIMEOUT_MS,
            unhealthyThreshold: config.UNHEALTHY_THRESHOLD,
            healthyThreshold: config.HEALTHY_THRESHOLD,
            skipBusy: config.HEALTH_CHECK_SKIP_BUSY,
            lookup,
          }
        : undefined,
    outlier:
      config.OUTLIER_CONSECUTIVE_FAILURES > 0
        ? {
            consecutiveFailures: config.OUTLIER_CONSECUTIVE_FAILURES,
            baseEjectionMs: config.OUTLIER_BASE_EJECTION_MS,
            maxEjectionMs: config.OUTLIER_MAX_EJECTION_MS,
          }
        : undefined,
    panicThresholdPercent: config.PANIC_THRESHOLD_PERCENT,
    registrationTtlMs: config.REGISTRATION_TTL_MS,
    slowStartMs: config.SLOW_START_MS,
  };
}

/** The connection pool of each worker, as the proxy uses it (every connect judged by the address policy). */
export function workerPools(config: BalancerOptions, addresses: WorkerAddressPolicy): (origin: string) => WorkerPool {
  const poolOptions = {
    connectTimeoutMs: config.CONNECT_TIMEOUT_MS,
    responseTimeoutMs: config.RESPONSE_TIMEOUT_MS,
    idleTimeoutMs: config.IDLE_TIMEOUT_MS,
    maxConnections: config.WORKER_MAX_CONNECTIONS,
    keepAliveMs: config.UPSTREAM_KEEPALIVE_MS,
    watch: InactivityWatch.forLimits(config.CONNECT_TIMEOUT_MS, config.RESPONSE_TIMEOUT_MS, config.IDLE_TIMEOUT_MS),
    lookup: addresses.lookup,
  };
  return (origin) => new UpstreamPool(origin, poolOptions);
}

/** The registry's owner: the process that probes, expires and keeps STATE_DIR (the only one with PROCESSES > 1). */
export interface RegistryOwner {
  readonly registry: WorkerRegistry;
  readonly backend: RegistryBackend;
  /** Before anything is served: starts the backend (Redis's state first), then the snapshot writer, then restores STATE_DIR's snapshot. */
  start(): Promise<void>;
  /** The last snapshot (while the registry still holds every worker), then the backend, then the registry and its pools. */
  close(): Promise<void>;
}

export interface OwnerDeps {
  strategy: Strategy<WorkerRecord>;
  addresses: WorkerAddressPolicy;
  gatewayStats: GatewayStats;
  now: () => number;
  /** STATE_DIR, made ready by the entry point; undefined: nothing survives a restart. */
  stateDir: string | undefined;
}

/** Called by createBalancer (PROCESSES=1) and by the primary (balancer/cluster/primary.ts). */
export function createRegistryOwner(config: BalancerOptions, log: Logger, deps: OwnerDeps): RegistryOwner {
  const { strategy, addresses, gatewayStats, now, stateDir } = deps;
  // The backend (which holds the TTL sweep while a shared store is out of sight) is built just below;
  // the sweep first asks long after this returns.
  const health = { ...healthOptions(config, addresses.lookup), mayExpire: () => backend.mayExpire() };
  const registry = new WorkerRegistry(strategy, workerPools(config, addresses), log, now, health, gatewayStats);
  const snapshotPath = stateDir === undefined ? undefined : join(stateDir, SNAPSHOT_FILE);
  const snapshots =
    snapshotPath === undefined ? undefined : new SnapshotWriter(snapshotPath, registry, log, now, lastSeenResolutionMs(config.REGISTRATION_TTL_MS));
  // The one place a backend is chosen: Redis with REDIS_URL, else this process (balancer/registry-backend/choose.ts).
  const backend = createRegistryBackend(config, registry, log, now, addresses);
  return {
    registry,
    backend,
    start: async () => {
      // Redis (REDIS_URL) first: reachable, it holds the fleet and the snapshot stays unread (it may be older).
      await backend.start();
      if (snapshotPath !== undefined) {
        snapshots?.start();
        if (backend.restoresFromSnapshot())
          await restoreRegistry(snapshotPath, { registry, addresses, registrationTtlMs: config.REGISTRATION_TTL_MS, now, log });
        else if (existsSync(snapshotPath)) log.info({ snapshot: snapshotPath }, 'registry snapshot not restored: the shared registry (Redis) holds the fleet');
      }
    },
    close: async () => {
      await snapshots?.close();
      await backend.close();
      await registry.close();
    },
  };
}
