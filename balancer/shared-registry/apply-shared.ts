import type { WorkerRegistry } from '../registry';
import type { RegistryChange } from '../registry-changes';
import type { SharedOverride, SharedWorker } from './types';

/**
 * Brings one URL of a replica's local WorkerRegistry in line with what its Redis view holds, after a
 * change another replica made (a message) or a resynchronisation found (a snapshot difference). Called
 * by RedisBackend only, with its echo guard up: what the registry emits meanwhile is not sent back.
 * Health state, ejections and connection counts are the registry's own and are never touched here.
 */
export function applySharedWorker(registry: WorkerRegistry, url: string, shared: Readonly<SharedWorker> | undefined, change: RegistryChange): void {
  const local = registry.get(url);
  if (shared === undefined) {
    if (local === undefined || change.type !== 'left') return;
    // An operator's delete forgets the overrides too; a worker's own leave or an expiry keeps them, aging.
    if (change.by === 'admin') registry.removeWorker(local);
    else registry.deregister(url, change.by);
    return;
  }
  const reg = { url, name: shared.name, weight: shared.registeredWeight };
  if (local === undefined) registry.restore(reg, shared.lastSeenAt);
  else if (change.type === 'joined' || change.type === 'refreshed' || local.name !== reg.name || local.registeredWeight !== reg.weight)
    // A heartbeat through another replica: this replica's TTL counts from now on too.
    registry.register(reg);
}

/** Makes the registry's operator decisions for `url` (drain, weight) those of the shared store. */
export function applySharedOverride(registry: WorkerRegistry, url: string, shared: Readonly<SharedOverride> | undefined): void {
  const worker = registry.get(url);
  if (worker === undefined) {
    // Kept for a worker not (yet) here, so it starts drained or weighted when it registers.
    if (shared === undefined) registry.overrides.clear(url);
    else registry.overrides.update(url, { drain: shared.drain && { since: shared.drain.since, by: 'admin' }, weight: shared.weight });
    return;
  }
  const drained = worker.drain?.by === 'admin';
  if (shared?.drain !== undefined && !drained) registry.drainWorker(worker);
  else if (shared?.drain === undefined && drained) registry.readyWorker(worker);
  if (registry.overrides.get(url)?.weight !== shared?.weight) registry.overrideWeight(worker, shared?.weight);
}

/** The view's record of a worker the registry holds, as the shared store keeps it. */
export function sharedWorkerOf(registry: WorkerRegistry, url: string): SharedWorker | undefined {
  const w = registry.get(url);
  return w === undefined ? undefined : { url, name: w.name, registeredWeight: w.registeredWeight, lastSeenAt: w.lastSeenAt };
}

/** The registry's operator decisions for `url`, as the shared store keeps them; undefined when there are none. */
export function sharedOverrideOf(registry: WorkerRegistry, url: string): SharedOverride | undefined {
  const o = registry.overrides.get(url);
  if (o === undefined || (o.drain === undefined && o.weight === undefined)) return undefined;
  return { drain: o.drain && { since: o.drain.since }, weight: o.weight };
}
