import type { WorkerRegistry } from '../../balancer/registry';
import type { RegistryBackend } from '../../balancer/registry-backend/types';
import type { ContractHandle, OperatorAction, ViewedWorker } from './registry-backend.contract';

/** What the admin worker API does for each action (balancer/admin/worker-routes.ts), on a registry in this process. */
export function applyOperatorAction(registry: WorkerRegistry, action: OperatorAction): void {
  const worker = registry.get(action.url);
  if (worker === undefined) throw new Error(`${action.url} is not registered here`);
  if (action.type === 'weight') registry.overrideWeight(worker, action.weight);
  else if (action.type === 'drain') registry.drainWorker(worker);
  else if (action.type === 'ready') registry.readyWorker(worker);
  else registry.removeWorker(worker);
}

export function viewOf(registry: WorkerRegistry): ViewedWorker[] {
  return [...registry.records()]
    .map((w) => ({ url: w.url, name: w.name, weight: w.weight, drained: w.drain !== undefined }))
    .sort((x, y) => x.url.localeCompare(y.url));
}

/** A contract handle on a backend that lives in the test's own process. */
export function localHandle(backend: RegistryBackend): ContractHandle {
  return {
    register: (reg) => backend.register(reg),
    deregister: (url) => backend.deregister(url),
    claimNonce: (nonce, ttlMs) => backend.claimNonce(nonce, ttlMs),
    operator: (action) => {
      applyOperatorAction(backend.registry, action);
      return Promise.resolve();
    },
    view: () => Promise.resolve(viewOf(backend.registry)),
  };
}
