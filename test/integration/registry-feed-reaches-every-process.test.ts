import { RegistryBroadcaster } from '../../balancer/cluster/registry-broadcaster';
import type { WorkerRegistry } from '../../balancer/registry';
import pino from 'pino';
import { countPicks, forkViewChild, primaryRegistry, type ViewChild, type ViewedWorker } from '../helpers/registry-view-child';

/**
 * PROCESSES: what happens to the primary's registry reaches every serving process's local view over
 * IPC, and each one's strategy picks from it (two real forked processes).
 */
const A = 'http://127.0.0.1:18081';
const B = 'http://127.0.0.1:18082';

describe('the registry feed: a change in the primary reaches every serving process', () => {
  let registry: WorkerRegistry;
  let broadcaster: RegistryBroadcaster;
  let children: ViewChild[] = [];

  beforeAll(async () => {
    registry = primaryRegistry();
    broadcaster = new RegistryBroadcaster(registry, pino({ level: 'silent' }));
    children = await Promise.all([forkViewChild((c) => broadcaster.attach(c)), forkViewChild((c) => broadcaster.attach(c))]);
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    broadcaster.close();
    await registry.close();
  });

  const inEvery = (accept: (workers: ViewedWorker[]) => boolean, what: string) => Promise.all(children.map((c) => c.until(accept, what)));
  const find = (workers: ViewedWorker[], url: string) => workers.find((w) => w.url === url);

  it('registrations: every view lists both workers, and its picks follow their weights', async () => {
    registry.register({ url: A, name: 'a', weight: 1 });
    registry.register({ url: B, name: 'b', weight: 3 });
    const views = await inEvery((ws) => ws.length === 2, 'both workers in every view');
    for (const workers of views)
      expect(workers).toEqual([
        { url: A, name: 'a', weight: 1, inRotation: true, drained: false, leaving: false },
        { url: B, name: 'b', weight: 3, inRotation: true, drained: false, leaving: false },
      ]);
    for (const child of children) expect(countPicks((await child.dump(8)).picks)).toEqual({ [A]: 2, [B]: 6 });
  });

  it("a heartbeat's new weight and name, and an operator's weight", async () => {
    registry.register({ url: A, name: 'a2', weight: 2 });
    await inEvery((ws) => find(ws, A)?.weight === 2 && find(ws, A)?.name === 'a2', 'the heartbeat in every view');
    registry.overrideWeight(registry.get(B)!, 2);
    await inEvery((ws) => find(ws, B)?.weight === 2, "the operator's weight in every view");
    for (const child of children) expect(countPicks((await child.dump(8)).picks)).toEqual({ [A]: 4, [B]: 4 });
  });

  it('a drain and a ready: out of every rotation, then back', async () => {
    registry.drainWorker(registry.get(A)!);
    await inEvery((ws) => find(ws, A)?.drained === true && find(ws, A)?.inRotation === false, 'A drained in every view');
    for (const child of children) expect(countPicks((await child.dump(4)).picks)).toEqual({ [B]: 4 });
    registry.readyWorker(registry.get(A)!);
    await inEvery((ws) => find(ws, A)?.inRotation === true, 'A ready in every view');
  });

  it('a deregistration and an operator removal: gone from every view', async () => {
    registry.deregister(A);
    await inEvery((ws) => ws.length === 1 && ws[0].url === B, 'A gone from every view');
    registry.removeWorker(registry.get(B)!);
    await inEvery((ws) => ws.length === 0, 'B gone from every view');
    for (const child of children) expect((await child.dump(1)).picks).toEqual([null]);
  });
});
