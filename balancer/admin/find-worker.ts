import { checkWorkerUrl } from '../registration';
import type { WorkerRecord, WorkerRegistry } from '../registry';

/** Why an admin route's `:worker` named no one worker: an answer for the operator, with the URLs that matched. */
export interface NotFound {
  readonly status: 404 | 409;
  readonly error: 'unknown_worker' | 'ambiguous_worker' | 'worker_leaving';
  readonly message: string;
  readonly matches?: readonly string[];
}

/**
 * Resolves an admin route's `:worker` (already percent-decoded) to one registered worker: by its URL
 * as registered, or in any spelling that normalises to it (`HTTP://127.0.0.1:8081/`), else by its name.
 * A name that several workers share is 409 with their URLs (name one by its URL instead); a worker that
 * has left and only finishes its requests is 409 too (nothing to change until it registers again); no
 * match is 404. Called once per admin worker request: O(workers).
 */
export function findWorker(registry: WorkerRegistry, key: string): { worker: WorkerRecord } | NotFound {
  const checked = checkWorkerUrl(key);
  const url = 'origin' in checked ? checked.origin : key;
  const byUrl = registry.get(key) ?? registry.get(url);
  if (byUrl !== undefined) return { worker: byUrl };
  const named = registry
    .urls()
    .map((u) => registry.get(u))
    .filter((w): w is WorkerRecord => w?.name === key);
  if (named.length === 1) return { worker: named[0] };
  const shown = JSON.stringify(key.slice(0, 200));
  if (named.length > 1) {
    const matches = named.map((w) => w.url);
    return { status: 409, error: 'ambiguous_worker', message: `${matches.length} workers are named ${shown}; name one by its URL`, matches };
  }
  const left = registry.leaving().filter((w) => w.url === url || w.name === key);
  if (left.length > 0) {
    const matches = left.map((w) => w.url);
    return {
      status: 409,
      error: 'worker_leaving',
      message: `${shown} has left and is finishing its requests; nothing to change until it registers again`,
      matches,
    };
  }
  return { status: 404, error: 'unknown_worker', message: `no registered worker has the URL or name ${shown}` };
}
