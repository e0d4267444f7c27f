import { MemoryBackend } from '../../balancer/registry-backend/memory';
import { primaryRegistry } from '../helpers/registry-view-child';
import { localHandle } from './local-handle';
import { registryBackendContract } from './registry-backend.contract';

// The embedded default: both handles are one backend in one process, so "the other handle" sees each
// change at once; the suite still holds it to every clause (nonces, overrides, deregistration).
describe('registry backend contract: memory', () => {
  registryBackendContract(async () => {
    const registry = primaryRegistry();
    const backend = new MemoryBackend(registry);
    await backend.start();
    const handle = localHandle(backend);
    return {
      a: handle,
      b: handle,
      close: async () => {
        await backend.close();
        await registry.close();
      },
    };
  });
});
