import pino from 'pino';
import { RegistryBroadcaster } from '../../balancer/cluster/registry-broadcaster';
import type { WorkerRegistry } from '../../balancer/registry';
import { forkViewChild, primaryRegistry, type ViewChild } from '../helpers/registry-view-child';

/**
 * PROCESSES: a serving process started after the registry filled (a restart, a replacement) gets the
 * whole registry as a snapshot first, operator decisions included, then the changes after it.
 */
const urls = ['http://127.0.0.1:18091', 'http://127.0.0.1:18092', 'http://127.0.0.1:18093'];

describe('the registry feed: a serving process joining late', () => {
  let registry: WorkerRegistry;
  let broadcaster: RegistryBroadcaster;
  let child: ViewChild | undefined;

  beforeAll(() => {
    registry = primaryRegistry();
    broadcaster = new RegistryBroadcaster(registry, pino({ level: 'silent' }));
  });

  afterAll(async () => {
    await child?.stop();
    broadcaster.close();
    await registry.close();
  });

  it('starts from a snapshot of the registry as it is, then follows its changes', async () => {
    urls.forEach((url, i) => registry.register({ url, name: `w${i}`, weight: i + 1 }));
    registry.drainWorker(registry.get(urls[0])!);
    registry.overrideWeight(registry.get(urls[2])!, 7);
    registry.deregister(urls[1]);

    child = await forkViewChild((c) => broadcaster.attach(c));
    // Ready means the snapshot is applied: no waiting for changes here.
    expect((await child.dump()).workers).toEqual([
      { url: urls[0], name: 'w0', weight: 1, inRotation: false, drained: true, leaving: false },
      { url: urls[2], name: 'w2', weight: 7, inRotation: true, drained: false, leaving: false },
    ]);
    expect(broadcaster.subscribers).toBe(1);

    registry.register({ url: urls[1], name: 'w1-again', weight: 2 });
    const workers = await child.until((ws) => ws.length === 3, 'the registration after the snapshot');
    expect(workers.map((w) => w.name)).toEqual(['w0', 'w2', 'w1-again']);
  });

  it('a serving process that exits is dropped from the feed', async () => {
    await child!.stop();
    registry.register({ url: urls[1], name: 'w1-again', weight: 3 });
    expect(broadcaster.subscribers).toBe(0);
  });
});
