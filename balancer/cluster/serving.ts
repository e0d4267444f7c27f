import { createStrategy } from '../../strategies';
import type { BalancerOptions } from '../index';
import type { Logger } from '../logger';
import { TrustPolicy } from '../proxy/forwarding';
import { WorkerRegistry, type HealthOptions, type WorkerRecord } from '../registry';
import { workerPools } from '../registry-owner';
import { createServingPlane } from '../serving-plane';
import { GatewayStats } from '../stats/gateway-stats';
import { WorkerAddressPolicy } from '../worker-address';
import { ClusterBackend, type PrimaryLink } from './cluster-backend';
import { OutcomeReporter } from './passive-outcomes';
import { answerStatsRequests } from './stats-answer';

/** Set by the primary in each serving process's environment (not an operator's setting): the balancer's Via token. */
export const SERVING_VIA_ENV = 'LB_SERVING_VIA';

/** The running serving process, for the entry point. */
export interface ServingProcess {
  readonly port: number;
  readonly limits: { maxClientConnections: number; descriptorLimit: number };
  /** Stops accepting, lets in-flight requests finish, then closes the view and its pools. */
  close(): Promise<void>;
}

/**
 * A local view's health settings: no active checks, no outlier detector, no TTL (the primary runs
 * them and sends its verdicts), but the same panic threshold and slow start, so a view puts the
 * primary's verdicts into rotation as the primary's own registry would.
 */
function viewHealth(config: BalancerOptions): HealthOptions {
  return { panicThresholdPercent: config.PANIC_THRESHOLD_PERCENT, registrationTtlMs: 0, slowStartMs: config.SLOW_START_MS };
}

/**
 * A serving process of PROCESSES > 1 (a node:cluster worker): the gateway on PORT, shared through the
 * primary, proxying from a local view of the primary's registry. The control paths work here too:
 * the control plane checks the signature and writes through a ClusterBackend to the primary.
 * Listens only once the primary's first snapshot is applied, so its first request sees the whole fleet.
 */
export async function startServing(config: BalancerOptions, log: Logger, link: PrimaryLink = process): Promise<ServingProcess> {
  const now = Date.now;
  const random = Math.random;
  const gatewayStats = new GatewayStats();
  const strategy = createStrategy<WorkerRecord>(config.STRATEGY, { random, now, hashKey: config.HASH_KEY });
  const addresses = new WorkerAddressPolicy(new TrustPolicy(config.WORKER_ALLOW));
  const registry = new WorkerRegistry(strategy, workerPools(config, addresses), log, now, viewHealth(config), gatewayStats);
  const backend = new ClusterBackend(registry, link, log);
  const outcomes = new OutcomeReporter((url, failed) => backend.reportOutcome(url, failed));
  const plane = createServingPlane(config, log, {
    strategy,
    backend,
    addresses,
    gatewayStats,
    now,
    random,
    via: process.env[SERVING_VIA_ENV],
    recordExchange: (worker, failed) => {
      registry.recordExchange(worker, failed);
      outcomes.note(worker.url, failed);
    },
  });
  answerStatsRequests(link, { registry, gateway: gatewayStats, clientConnectionsOpen: () => plane.openConnections }, log);
  await backend.start();
  const port = await plane.listen();
  return {
    port,
    limits: plane.limits,
    close: async () => {
      await plane.drain();
      await backend.close();
      await registry.close();
    },
  };
}
