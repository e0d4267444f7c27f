import type { RegistryChange } from '../registry-changes';
import type { SharedOverride, SharedWorker } from './types';

/**
 * The changes that turn a replica's local view into a snapshot of the shared registry, so a
 * resynchronisation reaches listeners as the same feed as live messages. A worker gone from the
 * snapshot left by 'ttl': its key expired (an explicit leave would have come as a message).
 */
export function workerChanges(local: ReadonlyMap<string, SharedWorker>, shared: readonly SharedWorker[]): RegistryChange[] {
  const changes: RegistryChange[] = [];
  const seen = new Set<string>();
  for (const w of shared) {
    seen.add(w.url);
    const before = local.get(w.url);
    if (before === undefined) {
      changes.push({
        type: 'joined',
        url: w.url,
        name: w.name,
        weight: w.registeredWeight,
        registeredWeight: w.registeredWeight,
        drained: false,
        lastSeenAt: w.lastSeenAt,
      });
      continue;
    }
    if (before.lastSeenAt !== w.lastSeenAt || before.name !== w.name)
      changes.push({ type: 'refreshed', url: w.url, name: w.name, lastSeenAt: w.lastSeenAt, renamed: before.name !== w.name });
    if (before.registeredWeight !== w.registeredWeight)
      changes.push({ type: 'weight_changed', url: w.url, weight: w.registeredWeight, registeredWeight: w.registeredWeight });
  }
  for (const url of local.keys()) if (!seen.has(url)) changes.push({ type: 'left', url, by: 'ttl' });
  return changes;
}

/** The changes that turn the local overrides into the shared ones. */
export function overrideChanges(local: ReadonlyMap<string, SharedOverride>, shared: ReadonlyMap<string, SharedOverride>): RegistryChange[] {
  const changes: RegistryChange[] = [];
  const urls = new Set([...local.keys(), ...shared.keys()]);
  for (const url of urls) {
    const before = local.get(url);
    const after = shared.get(url);
    if (before?.drain?.since !== after?.drain?.since)
      changes.push(after?.drain === undefined ? { type: 'readied', url } : { type: 'drained', url, since: after.drain.since });
    if (before?.weight !== after?.weight) changes.push({ type: 'override_changed', url, weight: after?.weight });
  }
  return changes;
}
