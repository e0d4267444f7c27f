import { readFileSync } from 'node:fs';
import type { Logger } from '../logger';
import { checkWorkerUrl } from '../registration';
import type { WorkerRegistry } from '../registry';
import type { WorkerAddressPolicy } from '../worker-address';
import { parseSnapshot, type Snapshot } from './snapshot';

export interface RestoreDeps {
  registry: WorkerRegistry;
  /** WORKER_ALLOW may have changed since the snapshot: each worker is judged again, as a registration is. */
  addresses: WorkerAddressPolicy;
  registrationTtlMs: number;
  now: () => number;
  log: Logger;
}

/**
 * Called by the balancer's listen() before the gateway accepts anything: puts the snapshot's operator
 * overrides back, then its workers, in rotation at once (their health checks start as for any new
 * worker). A worker whose REGISTRATION_TTL_MS has run out since its lastSeenAt is dropped, as the
 * registry would have dropped it had it kept running; so is one whose url or address is no longer
 * accepted. No file (a first start) is silence; a file that cannot be read or parsed is one warn line
 * and an empty registry. Resolves once every kept worker is registered; never rejects.
 */
export async function restoreRegistry(path: string, deps: RestoreDeps): Promise<void> {
  const snapshot = readSnapshot(path, deps.log);
  if (snapshot === undefined) return;
  const { registry, registrationTtlMs: ttl, log } = deps;
  const now = deps.now();
  for (const { url, override } of snapshot.overrides) registry.overrides.restore(url, override);
  let expired = 0;
  let refused = 0;
  const verdicts = await Promise.all(snapshot.workers.map((w) => admissible(w.url, deps)));
  snapshot.workers.forEach((worker, i) => {
    if (ttl > 0 && now - worker.lastSeenAt > ttl) {
      expired++;
      registry.overrides.absent(worker.url, worker.lastSeenAt + ttl);
    } else if (verdicts[i] !== undefined) {
      refused++;
      log.warn({ worker: worker.url, reason: verdicts[i] }, 'worker in the registry snapshot not restored');
    } else {
      registry.restore({ url: worker.url, name: worker.name, weight: worker.registeredWeight }, worker.lastSeenAt);
    }
  });
  const restored = snapshot.workers.length - expired - refused;
  log.info({ snapshot: path, writtenAt: new Date(snapshot.writtenAt).toISOString(), restored, expired, refused }, 'registry restored from the snapshot');
}

function readSnapshot(path: string, log: Logger): Snapshot | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    log.warn({ snapshot: path, reason: (err as Error).message }, 'the registry snapshot cannot be read; starting with an empty registry');
    return undefined;
  }
  const parsed = parseSnapshot(text);
  if ('problem' in parsed) {
    log.warn({ snapshot: path, reason: parsed.problem }, 'the registry snapshot is not usable; starting with an empty registry');
    return undefined;
  }
  return parsed.snapshot;
}

/** Undefined when the worker at `url` would be accepted by a registration now, else why not. */
async function admissible(url: string, { addresses }: RestoreDeps): Promise<string | undefined> {
  const checked = checkWorkerUrl(url);
  if ('problem' in checked) return checked.problem;
  if (checked.origin !== url) return 'url is not in its normal form';
  const refusal = await addresses.check(checked.hostname);
  return refusal?.message;
}
